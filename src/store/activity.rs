//! Each user's activity log, keyed by (user, time, sequence) so entries in the same nanosecond keep their order (ACTIVITY).

use redb::{ReadableTable, WriteTransaction};

use super::StoreError;
use super::codec::Versioned;
use super::tables::{ACTIVITY, names};
use super::tx::{ReadTx, unix_nanos};
use crate::domain::activity::ActivityEntry;
use crate::domain::ids::UserId;

/// Add an entry to the user's log at `entry.at`. Entries at the same instant are kept in the
/// order they were appended.
pub fn append_activity(
    tx: &WriteTransaction,
    user: &UserId,
    entry: &ActivityEntry,
) -> Result<(), StoreError> {
    let id = user.as_str();
    let at = unix_nanos(entry.at);
    let encoded = Versioned::encode(entry, names::ACTIVITY)?;
    let mut table = tx.open_table(ACTIVITY)?;
    let seq = match table.range((id, at, 0u64)..=(id, at, u64::MAX))?.next_back() {
        Some(row) => row?
            .0
            .value()
            .2
            .checked_add(1)
            .ok_or_else(|| StoreError::Corrupt {
                table: names::ACTIVITY,
                detail: "sequence exhausted within one nanosecond".into(),
            })?,
        None => 0,
    };
    table.insert((id, at, seq), encoded)?;
    Ok(())
}

/// The user's latest `limit` entries, newest first.
pub fn list_activity(
    tx: &impl ReadTx,
    user: &UserId,
    limit: usize,
) -> Result<Vec<ActivityEntry>, StoreError> {
    let id = user.as_str();
    let table = tx.table(ACTIVITY)?;
    let mut out = Vec::new();
    for row in table
        .range((id, i128::MIN, 0u64)..=(id, i128::MAX, u64::MAX))?
        .rev()
        .take(limit)
    {
        let (_, v) = row?;
        out.push(v.value().decode(names::ACTIVITY)?);
    }
    Ok(out)
}
