//! Users and their unique email and phone indexes (USERS, USER_BY_EMAIL, USER_BY_PHONE).

use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};

use super::StoreError;
use super::codec::Versioned;
use super::tables::{USER_BY_EMAIL, USER_BY_PHONE, USERS, names};
use super::tx::{ReadTx, get_record};
use crate::domain::ids::UserId;
use crate::domain::person::{Email, Phone};
use crate::domain::user::User;

type Index = TableDefinition<'static, &'static str, &'static str>;

/// Store a new user and index its email and phone. Refused with `Duplicate` when the ID exists
/// (field `"id"`) or the email or phone belongs to another user; nothing is written then.
pub fn insert_user(tx: &WriteTransaction, user: &User) -> Result<(), StoreError> {
    if get_user(tx, &user.id)?.is_some() {
        return Err(StoreError::Duplicate {
            field: "id",
            owner: user.id.clone(),
        });
    }
    put_user(tx, None, user)
}

/// Replace a user's record, moving the email and phone index entries when they change.
/// A user not stored yet is inserted. `Duplicate` (nothing written) when the new email or phone
/// belongs to another user.
pub fn update_user(tx: &WriteTransaction, user: &User) -> Result<(), StoreError> {
    let old = get_user(tx, &user.id)?;
    put_user(tx, old.as_ref(), user)
}

fn put_user(tx: &WriteTransaction, old: Option<&User>, user: &User) -> Result<(), StoreError> {
    let email = user.email.as_ref().map(Email::as_str);
    let phone = user.phone.as_ref().map(Phone::as_str);
    check_free(tx, USER_BY_EMAIL, "email", email, &user.id)?;
    check_free(tx, USER_BY_PHONE, "phone", phone, &user.id)?;
    let encoded = Versioned::encode(user, names::USERS)?;
    let old_email = old.and_then(|u| u.email.as_ref()).map(Email::as_str);
    let old_phone = old.and_then(|u| u.phone.as_ref()).map(Phone::as_str);
    move_entry(tx, USER_BY_EMAIL, old_email, email, &user.id)?;
    move_entry(tx, USER_BY_PHONE, old_phone, phone, &user.id)?;
    tx.open_table(USERS)?.insert(user.id.as_str(), encoded)?;
    Ok(())
}

fn check_free(
    tx: &WriteTransaction,
    index: Index,
    field: &'static str,
    value: Option<&str>,
    id: &UserId,
) -> Result<(), StoreError> {
    let Some(value) = value else { return Ok(()) };
    match owner_in(tx, index, value)? {
        Some(owner) if &owner != id => Err(StoreError::Duplicate { field, owner }),
        _ => Ok(()),
    }
}

fn move_entry(
    tx: &WriteTransaction,
    index: Index,
    old: Option<&str>,
    new: Option<&str>,
    id: &UserId,
) -> Result<(), StoreError> {
    let mut table = tx.open_table(index)?;
    if let Some(old) = old.filter(|o| Some(*o) != new) {
        // Only drop the entry if it is still ours.
        let ours = table.get(old)?.is_some_and(|o| o.value() == id.as_str());
        if ours {
            table.remove(old)?;
        }
    }
    if let Some(new) = new {
        table.insert(new, id.as_str())?;
    }
    Ok(())
}

fn owner_in(tx: &impl ReadTx, index: Index, value: &str) -> Result<Option<UserId>, StoreError> {
    let table = tx.table(index)?;
    let owner = table
        .get(value)?
        .map(|o| UserId::from_canonical(o.value().to_string()));
    Ok(owner)
}

/// The user with this ID.
pub fn get_user(tx: &impl ReadTx, id: &UserId) -> Result<Option<User>, StoreError> {
    get_record(tx, USERS, names::USERS, id.as_str())
}

/// The user with this (already lower-cased) email.
pub fn find_user_by_email(tx: &impl ReadTx, email: &Email) -> Result<Option<User>, StoreError> {
    match owner_in(tx, USER_BY_EMAIL, email.as_str())? {
        Some(id) => get_user(tx, &id),
        None => Ok(None),
    }
}

/// The user with this phone number.
pub fn find_user_by_phone(tx: &impl ReadTx, phone: &Phone) -> Result<Option<User>, StoreError> {
    match owner_in(tx, USER_BY_PHONE, phone.as_str())? {
        Some(id) => get_user(tx, &id),
        None => Ok(None),
    }
}

/// Up to `limit` users in ID order, starting after `after` (a page cursor).
pub fn list_users(tx: &impl ReadTx, after: Option<&UserId>, limit: usize) -> Result<Vec<User>, StoreError> {
    let table = tx.table(USERS)?;
    let start = match after {
        Some(id) => Bound::Excluded(id.as_str()),
        None => Bound::Unbounded,
    };
    let mut out = Vec::new();
    for row in table.range::<&str>((start, Bound::Unbounded))?.take(limit) {
        let (_, v) = row?;
        out.push(v.value().decode(names::USERS)?);
    }
    Ok(out)
}

/// How many users are stored.
pub fn count_users(tx: &impl ReadTx) -> Result<u64, StoreError> {
    Ok(tx.table(USERS)?.len()?)
}

/// Remove a user's record and its email and phone index entries (a central deletion). Their
/// history (activity, attendance, audit) stays under the ID.
pub fn remove_user(tx: &WriteTransaction, id: &UserId) -> Result<bool, StoreError> {
    let Some(old) = get_user(tx, id)? else {
        return Ok(false);
    };
    move_entry(tx, USER_BY_EMAIL, old.email.as_ref().map(Email::as_str), None, id)?;
    move_entry(tx, USER_BY_PHONE, old.phone.as_ref().map(Phone::as_str), None, id)?;
    tx.open_table(USERS)?.remove(id.as_str())?;
    Ok(true)
}
