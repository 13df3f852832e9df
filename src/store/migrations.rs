//! Schema versions: `meta.schema_version` and the ordered migrations run at open, one write transaction each.

use redb::{Database, ReadableDatabase, ReadableTable, TableError, WriteTransaction};

use super::StoreError;
use super::tables::{self, META, names};

/// META key of the schema version.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";
/// META key of the gateway's own ID.
pub const GATEWAY_ID_KEY: &str = "gateway_id";

/// One step from `version - 1` to `version`.
struct Migration {
    version: u32,
    what: &'static str,
    apply: fn(&WriteTransaction) -> Result<(), StoreError>,
}

/// In order, versions 1, 2, 3, … without gaps (a test checks).
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    what: "create every table and the gateway ID",
    apply: v1_create,
}];

/// The schema version this binary writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

fn v1_create(tx: &WriteTransaction) -> Result<(), StoreError> {
    tables::create_all(tx)?;
    let mut meta = tx.open_table(META)?;
    if meta.get(GATEWAY_ID_KEY)?.is_none() {
        let id = format!(
            "gw-{}",
            crate::domain::ids::random_crockford(&mut rand::rng(), 12)
        );
        meta.insert(GATEWAY_ID_KEY, id.as_str())?;
    }
    Ok(())
}

/// The schema version recorded in META (0 for a fresh database).
pub(crate) fn read_version(meta: &impl ReadableTable<&'static str, &'static str>) -> Result<u32, StoreError> {
    match meta.get(SCHEMA_VERSION_KEY)? {
        None => Ok(0),
        Some(v) => v.value().parse().map_err(|_| StoreError::Corrupt {
            table: names::META,
            detail: format!("schema_version is {:?}, not a number", v.value()),
        }),
    }
}

fn current_version(db: &Database) -> Result<u32, StoreError> {
    let tx = db.begin_read()?;
    match tx.open_table(META) {
        Ok(meta) => read_version(&meta),
        Err(TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Bring the database to [`LATEST`]; returns the version it ends at. A database from a newer
/// sitegate is refused untouched.
pub(crate) fn run(db: &Database) -> Result<u32, StoreError> {
    let found = current_version(db)?;
    if found > LATEST {
        return Err(StoreError::NewerSchema {
            found,
            supported: LATEST,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        let tx = db.begin_write()?;
        (m.apply)(&tx)?;
        {
            let mut meta = tx.open_table(META)?;
            meta.insert(SCHEMA_VERSION_KEY, m.version.to_string().as_str())?;
        }
        tx.commit()?;
        tracing::info!(version = m.version, what = m.what, "database migrated");
    }
    Ok(found.max(LATEST))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn migrations_are_numbered_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.what);
        }
    }

    #[test]
    fn a_fresh_database_ends_at_the_latest_version_and_reopening_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sitegate.redb");
        let (gw, version) = {
            let store = Store::open(&path).unwrap();
            (store.gateway_id().unwrap(), store.schema_version().unwrap())
        };
        assert_eq!(version, LATEST);
        assert!(gw.starts_with("gw-") && gw.len() == 15, "{gw}");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), LATEST);
        assert_eq!(store.gateway_id().unwrap(), gw, "the gateway ID is made once");
        assert_eq!(run(store.database()).unwrap(), LATEST);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sitegate.redb");
        {
            let store = Store::open(&path).unwrap();
            store
                .write_blocking(|tx| {
                    let mut meta = tx.open_table(META)?;
                    meta.insert(SCHEMA_VERSION_KEY, (LATEST + 1).to_string().as_str())?;
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found, supported } if found == LATEST + 1 && supported == LATEST),
            "{err:?}"
        );
    }
}
