//! The store's one error type: redb failures, unreadable rows, uniqueness refusals, schema and lock problems.

use std::path::PathBuf;

use crate::domain::ids::UserId;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another handle (another process, or this one) has the database file open.
    #[error("database {} is already in use by another sitegate (is `sitegate serve` running?)", .0.display())]
    InUse(PathBuf),
    /// The database file could not be created or opened.
    #[error("cannot open database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    /// A stored row (or meta entry) cannot be decoded or encoded.
    #[error("a row of table {table} is unreadable: {detail}")]
    Corrupt { table: &'static str, detail: String },
    /// The email or phone (or, on insert, the ID) already belongs to another user.
    #[error("{field} already belongs to user {owner}")]
    Duplicate { field: &'static str, owner: UserId },
    /// The PIN tag is already another user's PIN. Deliberately does not say whose.
    #[error("this PIN is already in use")]
    PinTaken,
    /// The database was written by a newer sitegate.
    #[error(
        "database schema version {found} is newer than this sitegate supports ({supported}); install a newer sitegate"
    )]
    NewerSchema { found: u32, supported: u32 },
    /// Any other redb failure.
    #[error("storage error: {0}")]
    Redb(String),
    /// A blocking storage task did not finish (it panicked or was cancelled).
    #[error("a storage task did not finish")]
    Join,
}

macro_rules! from_redb {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Redb(e.to_string())
            }
        }
    )*};
}

from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
);
