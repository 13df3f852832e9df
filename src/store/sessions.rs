//! Staff sessions keyed by the hash of their token (SESSIONS).

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::codec::{Record, Versioned};
use super::tables::{SESSIONS, names};
use super::tx::{ReadTx, get_record};
use crate::domain::ids::UserId;
use crate::domain::staff::{Role, SessionTimes};

/// A signed-in staff member's session. The token itself is never stored, only its hash (the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    pub user_id: UserId,
    pub role: Role,
    pub times: SessionTimes,
}

impl Record for StoredSession {
    const NAME: &'static str = "stored_session";
}

/// Store (or refresh) a session.
pub fn put_session(
    tx: &WriteTransaction,
    token_hash: &[u8; 32],
    session: &StoredSession,
) -> Result<(), StoreError> {
    let encoded = Versioned::encode(session, names::SESSIONS)?;
    tx.open_table(SESSIONS)?.insert(token_hash, encoded)?;
    Ok(())
}

/// The session with this token hash.
pub fn get_session(tx: &impl ReadTx, token_hash: &[u8; 32]) -> Result<Option<StoredSession>, StoreError> {
    get_record(tx, SESSIONS, names::SESSIONS, token_hash)
}

/// End one session. Returns whether it existed.
pub fn delete_session(tx: &WriteTransaction, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
    let removed = tx.open_table(SESSIONS)?.remove(token_hash)?.is_some();
    Ok(removed)
}

/// End the sessions for which `which` is true. Returns the ended ones.
pub fn delete_where(
    tx: &WriteTransaction,
    which: impl Fn(&StoredSession) -> bool,
) -> Result<Vec<StoredSession>, StoreError> {
    let mut table = tx.open_table(SESSIONS)?;
    let mut doomed = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        let s = v.value().decode(names::SESSIONS)?;
        if which(&s) {
            doomed.push((*k.value(), s));
        }
    }
    for (k, _) in &doomed {
        table.remove(k)?;
    }
    Ok(doomed.into_iter().map(|(_, s)| s).collect())
}

/// End every session of a user (sign-out everywhere, deactivation). Returns how many ended.
pub fn delete_sessions_of(tx: &WriteTransaction, user: &UserId) -> Result<u64, StoreError> {
    Ok(delete_where(tx, |s| &s.user_id == user)?.len() as u64)
}
