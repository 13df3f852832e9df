//! The security audit log: sign-ins, failures, throttling and staff actions, keyed by (time, sequence) (AUDIT).

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::StoreError;
use super::codec::{Record, Versioned};
use super::tables::{AUDIT, names};
use super::tx::{ReadTx, unix_nanos};

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened, e.g. `staff.sign_in`.
    pub event: String,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// Who did it (a user ID, `cli`, `self`, …).
    pub actor: Option<String>,
    /// Whom or what it was done to.
    pub subject: Option<String>,
    /// Where it came from (address, kiosk, headset).
    pub source: Option<String>,
    pub detail: Option<String>,
}

impl Record for AuditEntry {
    const NAME: &'static str = "audit_entry";
}

/// Add an entry at `entry.at`; entries at the same instant keep their order.
pub fn append_audit(tx: &WriteTransaction, entry: &AuditEntry) -> Result<(), StoreError> {
    let at = unix_nanos(entry.at);
    let encoded = Versioned::encode(entry, names::AUDIT)?;
    let mut table = tx.open_table(AUDIT)?;
    let seq = match table.range((at, 0u64)..=(at, u64::MAX))?.next_back() {
        Some(row) => row?
            .0
            .value()
            .1
            .checked_add(1)
            .ok_or_else(|| StoreError::Corrupt {
                table: names::AUDIT,
                detail: "sequence exhausted within one nanosecond".into(),
            })?,
        None => 0,
    };
    table.insert((at, seq), encoded)?;
    Ok(())
}

/// The latest `limit` entries, newest first.
pub fn list_audit(tx: &impl ReadTx, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let table = tx.table(AUDIT)?;
    let mut out = Vec::new();
    for row in table.iter()?.rev().take(limit) {
        let (_, v) = row?;
        out.push(v.value().decode(names::AUDIT)?);
    }
    Ok(out)
}
