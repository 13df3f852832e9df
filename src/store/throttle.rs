//! Throttling state per account, per source and site-wide, and the security clock's mark (THROTTLE, META).

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::codec::{Record, Versioned};
use super::tables::{META, THROTTLE, names};
use super::tx::{ReadTx, get_record};
use crate::domain::throttle::{AccountThrottle, FailureWindow, MonotonicMark, SiteThrottle};

/// META key of the security clock's mark.
pub const SECURITY_CLOCK_KEY: &str = "security_clock";
/// THROTTLE key of the site-wide budget.
pub const SITE_KEY: &str = "site";

/// One row of THROTTLE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ThrottleRecord {
    Account(AccountThrottle),
    Source(FailureWindow),
    Site(SiteThrottle),
}

impl Record for ThrottleRecord {
    const NAME: &'static str = "throttle";
}

pub fn account_key(user_id: &str) -> String {
    format!("account:{user_id}")
}

pub fn source_key(source: &str) -> String {
    format!("source:{source}")
}

fn get(tx: &impl ReadTx, key: &str) -> Result<Option<ThrottleRecord>, StoreError> {
    get_record(tx, THROTTLE, names::THROTTLE, key)
}

fn put(tx: &WriteTransaction, key: &str, rec: &ThrottleRecord) -> Result<(), StoreError> {
    let encoded = Versioned::encode(rec, names::THROTTLE)?;
    tx.open_table(THROTTLE)?.insert(key, encoded)?;
    Ok(())
}

pub fn delete(tx: &WriteTransaction, key: &str) -> Result<bool, StoreError> {
    Ok(tx.open_table(THROTTLE)?.remove(key)?.is_some())
}

pub fn get_account(tx: &impl ReadTx, user_id: &str) -> Result<AccountThrottle, StoreError> {
    Ok(match get(tx, &account_key(user_id))? {
        Some(ThrottleRecord::Account(a)) => a,
        _ => AccountThrottle::default(),
    })
}

pub fn put_account(tx: &WriteTransaction, user_id: &str, a: &AccountThrottle) -> Result<(), StoreError> {
    let key = account_key(user_id);
    if a.consecutive_failures == 0 {
        delete(tx, &key)?;
        return Ok(());
    }
    put(tx, &key, &ThrottleRecord::Account(a.clone()))
}

pub fn get_source(tx: &impl ReadTx, source: &str) -> Result<FailureWindow, StoreError> {
    Ok(match get(tx, &source_key(source))? {
        Some(ThrottleRecord::Source(w)) => w,
        _ => FailureWindow::default(),
    })
}

pub fn put_source(tx: &WriteTransaction, source: &str, w: &FailureWindow) -> Result<(), StoreError> {
    put(tx, &source_key(source), &ThrottleRecord::Source(w.clone()))
}

pub fn get_site(tx: &impl ReadTx) -> Result<SiteThrottle, StoreError> {
    Ok(match get(tx, SITE_KEY)? {
        Some(ThrottleRecord::Site(s)) => s,
        _ => SiteThrottle::default(),
    })
}

pub fn put_site(tx: &WriteTransaction, s: &SiteThrottle) -> Result<(), StoreError> {
    put(tx, SITE_KEY, &ThrottleRecord::Site(s.clone()))
}

/// Every row, for pruning and the staff screen.
pub fn list(tx: &impl ReadTx) -> Result<Vec<(String, ThrottleRecord)>, StoreError> {
    let table = tx.table(THROTTLE)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        out.push((k.value().to_string(), v.value().decode(names::THROTTLE)?));
    }
    Ok(out)
}

/// The security clock's last mark.
pub fn get_mark(tx: &impl ReadTx) -> Result<Option<MonotonicMark>, StoreError> {
    let meta = tx.table(META)?;
    let raw = meta.get(SECURITY_CLOCK_KEY)?.map(|v| v.value().to_string());
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

pub fn put_mark(tx: &WriteTransaction, mark: &MonotonicMark) -> Result<(), StoreError> {
    let json = serde_json::to_string(mark).map_err(|e| StoreError::Corrupt {
        table: names::META,
        detail: format!("cannot encode the security clock: {e}"),
    })?;
    tx.open_table(META)?.insert(SECURITY_CLOCK_KEY, json.as_str())?;
    Ok(())
}
