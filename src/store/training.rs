//! The training catalogue, assignments and each user's latest completion per module (MODULES, ASSIGNMENTS, COMPLETIONS).

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{ASSIGNMENTS, COMPLETIONS, MODULES, names};
use super::tx::{ReadTx, all_records, get_record};
use crate::domain::ids::UserId;
use crate::domain::training::{Assignment, Completion, Module};

/// Store a module, replacing any with the same ID.
pub fn put_module(tx: &WriteTransaction, module: &Module) -> Result<(), StoreError> {
    let encoded = Versioned::encode(module, names::MODULES)?;
    tx.open_table(MODULES)?.insert(module.id.as_u128(), encoded)?;
    Ok(())
}

/// The module with this ID.
pub fn get_module(tx: &impl ReadTx, id: Uuid) -> Result<Option<Module>, StoreError> {
    get_record(tx, MODULES, names::MODULES, id.as_u128())
}

/// The whole catalogue, by title (case-insensitive).
pub fn list_modules(tx: &impl ReadTx) -> Result<Vec<Module>, StoreError> {
    let mut modules = all_records(tx, MODULES, names::MODULES)?;
    modules.sort_by_cached_key(|m| m.title.to_lowercase());
    Ok(modules)
}

/// The module whose title equals `title`, ignoring case and surrounding spaces.
pub fn find_module_by_title(tx: &impl ReadTx, title: &str) -> Result<Option<Module>, StoreError> {
    let wanted = title.trim().to_lowercase();
    let found = all_records(tx, MODULES, names::MODULES)?
        .into_iter()
        .find(|m| m.title.trim().to_lowercase() == wanted);
    Ok(found)
}

/// Store an assignment, replacing any with the same ID.
pub fn put_assignment(tx: &WriteTransaction, assignment: &Assignment) -> Result<(), StoreError> {
    let encoded = Versioned::encode(assignment, names::ASSIGNMENTS)?;
    tx.open_table(ASSIGNMENTS)?
        .insert(assignment.id.as_u128(), encoded)?;
    Ok(())
}

/// The assignment with this ID.
pub fn get_assignment(tx: &impl ReadTx, id: Uuid) -> Result<Option<Assignment>, StoreError> {
    get_record(tx, ASSIGNMENTS, names::ASSIGNMENTS, id.as_u128())
}

/// Every assignment, in ID order (creation order for UUIDv7 IDs).
pub fn list_assignments(tx: &impl ReadTx) -> Result<Vec<Assignment>, StoreError> {
    all_records(tx, ASSIGNMENTS, names::ASSIGNMENTS)
}

/// Record that the user completed a module. Only the latest completion per module is kept: an
/// older one than stored is ignored. Returns whether it was stored.
pub fn put_completion(
    tx: &WriteTransaction,
    user: &UserId,
    completion: &Completion,
) -> Result<bool, StoreError> {
    let key = (user.as_str(), completion.module_id.as_u128());
    let mut table = tx.open_table(COMPLETIONS)?;
    let stored = table
        .get(key)?
        .map(|g| g.value().decode(names::COMPLETIONS))
        .transpose()?;
    if stored.is_some_and(|s| s.completed_at > completion.completed_at) {
        return Ok(false);
    }
    table.insert(key, Versioned::encode(completion, names::COMPLETIONS)?)?;
    Ok(true)
}

/// The user's latest completion of each module they completed, in module ID order.
pub fn list_completions(tx: &impl ReadTx, user: &UserId) -> Result<Vec<Completion>, StoreError> {
    let table = tx.table(COMPLETIONS)?;
    let mut out = Vec::new();
    for row in table.range((user.as_str(), 0u128)..=(user.as_str(), u128::MAX))? {
        let (_, v) = row?;
        out.push(v.value().decode(names::COMPLETIONS)?);
    }
    Ok(out)
}

/// Remove a module of the catalogue (a central tombstone).
pub fn remove_module(tx: &WriteTransaction, id: Uuid) -> Result<bool, StoreError> {
    Ok(tx.open_table(MODULES)?.remove(id.as_u128())?.is_some())
}

/// Remove an assignment (a central tombstone, or a user taken off it).
pub fn remove_assignment(tx: &WriteTransaction, id: Uuid) -> Result<bool, StoreError> {
    Ok(tx.open_table(ASSIGNMENTS)?.remove(id.as_u128())?.is_some())
}
