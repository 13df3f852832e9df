//! The redb store: opening (lock, migrations), transactions on and off the async threads, and the per-type modules.

pub mod activity;
pub mod audit;
pub mod badges;
pub mod classes;
pub mod codec;
pub mod credentials;
pub mod devices;
mod error;
pub mod headset_sessions;
pub mod links;
pub mod migrations;
pub mod org;
pub mod otps;
pub mod outbox;
pub mod print_jobs;
pub mod progress;
pub mod sessions;
pub mod sync;
pub mod tables;
pub mod throttle;
pub mod training;
mod tx;
pub mod users;
pub mod walk_ins;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

mod durable;

use durable::GroupCommit;
use prometheus_client::metrics::histogram::Histogram;

use redb::backends::InMemoryBackend;
use redb::{
    Database, DatabaseError, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    WriteTransaction,
};

pub use error::StoreError;
pub use tx::ReadTx;

use migrations::GATEWAY_ID_KEY;
use tables::{META, USERS, names};

/// The gateway's database. Cheap to clone; all clones share one redb handle, which closes when
/// the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Store {
    db: Arc<Database>,
    durable: Arc<GroupCommit>,
    /// Counts durable write commits, so a task (the sync's push) can wake on a new write.
    written: Arc<tokio::sync::watch::Sender<u64>>,
    /// The database file (`None` in memory), for its size.
    path: Option<Arc<Path>>,
    /// How long writers wait for their commit to be durable, for the metrics.
    commit_seconds: Histogram,
}

impl Store {
    /// Open (or create) the database file, creating its folder if missing, and migrate it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source: DatabaseError| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_err(e.into()))?;
        }
        let db = match Database::builder().create(path) {
            Ok(db) => db,
            Err(DatabaseError::DatabaseAlreadyOpen) => return Err(StoreError::InUse(path.to_path_buf())),
            Err(e) => return Err(open_err(e)),
        };
        let mut store = Store::migrated(db)?;
        store.path = Some(Arc::from(path));
        Ok(store)
    }

    /// A fresh database in memory, for tests and the demo.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let db = Database::builder().create_with_backend(InMemoryBackend::new())?;
        Store::migrated(db)
    }

    fn migrated(db: Database) -> Result<Store, StoreError> {
        migrations::run(&db)?;
        // Tables added since a database was made are created here, so adding a table needs no
        // migration; migrations are for changing data that exists.
        let tx = db.begin_write()?;
        tables::create_all(&tx)?;
        tx.commit()?;
        Ok(Store {
            db: Arc::new(db),
            durable: Arc::new(GroupCommit::default()),
            written: Arc::new(tokio::sync::watch::channel(0).0),
            path: None,
            commit_seconds: Histogram::new(crate::metrics::COMMIT_BUCKETS),
        })
    }

    /// The database file's size in bytes (`None` in memory or when it cannot be read).
    pub fn file_size(&self) -> Option<u64> {
        let path = self.path.as_deref()?;
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    /// The histogram of commit waits (seconds), shared with the metrics registry.
    pub fn commit_seconds(&self) -> Histogram {
        self.commit_seconds.clone()
    }

    /// Changes after each durable write commit (the sync's push wakes on it).
    pub fn writes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.written.subscribe()
    }

    /// The redb handle, for the rare caller that needs more than transactions.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Run `f` in a read transaction, on the calling thread.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.db.begin_read()?;
        f(&tx)
    }

    /// Run `f` in a write transaction, on the calling thread. When `f` returns `Ok` the change is
    /// committed and this returns only once it is durable (fsync'd); when `f` returns `Err` or
    /// panics, nothing is written.
    ///
    /// Group commit: the transaction commits without an fsync, then waits for one durable commit
    /// that covers it. Writers that finish while an fsync runs share the next one, so 30 headsets
    /// logging in at once cost a few fsyncs, not 30 in a row. A reader may see a change a moment
    /// before it is durable; its writer has not answered yet.
    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut tx = self.db.begin_write().map_err(StoreError::from)?;
        tx.set_durability(redb::Durability::None)
            .map_err(|e| StoreError::Redb(e.to_string()))?;
        let seq = self.durable.begun();
        match f(&tx) {
            Ok(value) => {
                let started = std::time::Instant::now();
                tx.commit().map_err(StoreError::from)?;
                self.durable.wait_durable(seq, || durable::flush(&self.db))?;
                self.commit_seconds.observe(started.elapsed().as_secs_f64());
                self.written.send_modify(|n| *n = n.wrapping_add(1));
                Ok(value)
            }
            Err(e) => {
                if let Err(abort) = tx.abort() {
                    tracing::warn!(error = %abort, "aborting a write transaction failed");
                }
                Err(e)
            }
        }
    }

    /// [`Store::read_blocking`] on tokio's blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(f))
            .await
            .map_err(joined)?
    }

    /// [`Store::write_blocking`] on tokio's blocking pool. The transaction never spans an `.await`.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        match tokio::task::spawn_blocking(move || store.write_blocking(f)).await {
            Ok(result) => result,
            Err(e) => Err(joined(e).into()),
        }
    }

    /// This gateway's ID (`gw-` and 12 Crockford symbols), made at first open.
    pub fn gateway_id(&self) -> Result<String, StoreError> {
        self.read_blocking(|tx| {
            let meta = tx.open_table(META)?;
            let id = meta.get(GATEWAY_ID_KEY)?.map(|v| v.value().to_string());
            id.ok_or(StoreError::Corrupt {
                table: names::META,
                detail: "the gateway ID is missing".into(),
            })
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read_blocking(|tx| migrations::read_version(&tx.open_table(META)?))
    }

    /// Whether no user exists yet (a gateway that still needs `sitegate init`).
    pub fn is_empty_of_users(&self) -> Result<bool, StoreError> {
        self.read_blocking(|tx| Ok(tx.open_table(USERS)?.is_empty()?))
    }
}

/// A value of the META table by name (what the gateway records about itself, e.g. the last backup).
pub fn meta_value(tx: &impl ReadTx, key: &str) -> Result<Option<String>, StoreError> {
    Ok(tx.table(META)?.get(key)?.map(|v| v.value().to_owned()))
}

fn joined(e: tokio::task::JoinError) -> StoreError {
    tracing::error!(error = %e, "a storage task did not finish");
    StoreError::Join
}
