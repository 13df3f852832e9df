//! Reading inside either kind of transaction (`ReadTx`), and small helpers shared by the per-type files.

use std::borrow::Borrow;

use redb::{Key, ReadTransaction, ReadableTable, TableDefinition, Value, WriteTransaction};

use super::StoreError;
use super::codec::{Record, Versioned};

/// A transaction that can be read from: a `ReadTransaction`, or a `WriteTransaction` (which then
/// sees its own uncommitted writes). Read functions take `&impl ReadTx`.
pub trait ReadTx {
    /// Open a table for reading.
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError>;
}

impl ReadTx for ReadTransaction {
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

impl ReadTx for WriteTransaction {
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<impl ReadableTable<K, V>, StoreError> {
        Ok(self.open_table(def)?)
    }
}

/// Read and decode one record by key.
pub(crate) fn get_record<'k, K: Key + 'static, T: Record>(
    tx: &impl ReadTx,
    def: TableDefinition<'static, K, Versioned<T>>,
    table: &'static str,
    key: impl Borrow<K::SelfType<'k>>,
) -> Result<Option<T>, StoreError> {
    let t = tx.table(def)?;
    let found = t.get(key)?;
    found.map(|g| g.value().decode(table)).transpose()
}

/// Read and decode every record of a table, in key order.
pub(crate) fn all_records<K: Key + 'static, T: Record>(
    tx: &impl ReadTx,
    def: TableDefinition<'static, K, Versioned<T>>,
    table: &'static str,
) -> Result<Vec<T>, StoreError> {
    let t = tx.table(def)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(v.value().decode(table)?);
    }
    Ok(out)
}

/// Unix time in nanoseconds, the time part of ordered keys.
pub(crate) fn unix_nanos(at: time::OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos()
}
