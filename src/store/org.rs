//! Organisation units: groups, sites and regions (UNITS).

use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{UNITS, names};
use super::tx::{ReadTx, all_records, get_record};
use crate::domain::org::{Unit, UnitKind};

/// Store a unit, replacing any with the same ID.
pub fn put_unit(tx: &redb::WriteTransaction, unit: &Unit) -> Result<(), StoreError> {
    let encoded = Versioned::encode(unit, names::UNITS)?;
    tx.open_table(UNITS)?.insert(unit.id.as_u128(), encoded)?;
    Ok(())
}

/// The unit with this ID.
pub fn get_unit(tx: &impl ReadTx, id: Uuid) -> Result<Option<Unit>, StoreError> {
    get_record(tx, UNITS, names::UNITS, id.as_u128())
}

/// Every unit, or every unit of one kind, by kind then name (case-insensitive).
pub fn list_units(tx: &impl ReadTx, kind: Option<UnitKind>) -> Result<Vec<Unit>, StoreError> {
    let mut units: Vec<Unit> = all_records(tx, UNITS, names::UNITS)?
        .into_iter()
        .filter(|u| kind.is_none_or(|k| u.kind == k))
        .collect();
    units.sort_by_cached_key(|u| (u.kind, u.name.to_lowercase()));
    Ok(units)
}

/// The unit of this kind whose name equals `name`, ignoring case and surrounding spaces.
pub fn find_unit_by_name(tx: &impl ReadTx, kind: UnitKind, name: &str) -> Result<Option<Unit>, StoreError> {
    let wanted = name.trim().to_lowercase();
    let found = all_records(tx, UNITS, names::UNITS)?
        .into_iter()
        .find(|u| u.kind == kind && u.name.trim().to_lowercase() == wanted);
    Ok(found)
}

/// Remove a unit (a central tombstone). Users' memberships of it are left to their own records.
pub fn remove_unit(tx: &redb::WriteTransaction, id: Uuid) -> Result<bool, StoreError> {
    Ok(tx.open_table(UNITS)?.remove(id.as_u128())?.is_some())
}
