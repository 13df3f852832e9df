//! Headset sessions keyed by the hash of their token (HEADSET_SESSIONS).

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{HEADSET_SESSIONS, names};
use super::tx::{ReadTx, get_record};
use crate::domain::device::HeadsetSession;
use crate::domain::ids::UserId;

pub fn put_session(
    tx: &WriteTransaction,
    token_hash: &[u8; 32],
    s: &HeadsetSession,
) -> Result<(), StoreError> {
    let encoded = Versioned::encode(s, names::HEADSET_SESSIONS)?;
    tx.open_table(HEADSET_SESSIONS)?.insert(token_hash, encoded)?;
    Ok(())
}

pub fn get_session(tx: &impl ReadTx, token_hash: &[u8; 32]) -> Result<Option<HeadsetSession>, StoreError> {
    get_record(tx, HEADSET_SESSIONS, names::HEADSET_SESSIONS, token_hash)
}

pub fn delete_session(tx: &WriteTransaction, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
    Ok(tx.open_table(HEADSET_SESSIONS)?.remove(token_hash)?.is_some())
}

/// Every session with its key.
pub fn list_sessions(tx: &impl ReadTx) -> Result<Vec<([u8; 32], HeadsetSession)>, StoreError> {
    let table = tx.table(HEADSET_SESSIONS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        out.push((*k.value(), v.value().decode(names::HEADSET_SESSIONS)?));
    }
    Ok(out)
}

/// End the sessions for which `which` is true. Returns the ended ones.
pub fn delete_where(
    tx: &WriteTransaction,
    which: impl Fn(&HeadsetSession) -> bool,
) -> Result<Vec<HeadsetSession>, StoreError> {
    let doomed: Vec<([u8; 32], HeadsetSession)> =
        list_sessions(tx)?.into_iter().filter(|(_, s)| which(s)).collect();
    let mut table = tx.open_table(HEADSET_SESSIONS)?;
    for (k, _) in &doomed {
        table.remove(k)?;
    }
    Ok(doomed.into_iter().map(|(_, s)| s).collect())
}

/// End every session of a device (revocation).
pub fn delete_sessions_of_device(
    tx: &WriteTransaction,
    device: Uuid,
) -> Result<Vec<HeadsetSession>, StoreError> {
    delete_where(tx, |s| s.device_id == device)
}

/// End every session of a user (deactivation).
pub fn delete_sessions_of_user(
    tx: &WriteTransaction,
    user: &UserId,
) -> Result<Vec<HeadsetSession>, StoreError> {
    delete_where(tx, |s| &s.user_id == user)
}
