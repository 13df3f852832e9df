//! Classroom sessions and each participant's attendance (CLASSES, ATTENDANCE).

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{ATTENDANCE, CLASSES, names};
use super::tx::{ReadTx, all_records, get_record};
use crate::domain::classroom::{Attendance, Class, ClassState};
use crate::domain::ids::UserId;

pub fn put_class(tx: &WriteTransaction, class: &Class) -> Result<(), StoreError> {
    let encoded = Versioned::encode(class, names::CLASSES)?;
    tx.open_table(CLASSES)?.insert(class.id.as_u128(), encoded)?;
    Ok(())
}

pub fn get_class(tx: &impl ReadTx, id: Uuid) -> Result<Option<Class>, StoreError> {
    get_record(tx, CLASSES, names::CLASSES, id.as_u128())
}

/// Every class, oldest first (UUIDv7 order).
pub fn list_classes(tx: &impl ReadTx) -> Result<Vec<Class>, StoreError> {
    all_records(tx, CLASSES, names::CLASSES)
}

/// The classes open now.
pub fn open_classes(tx: &impl ReadTx) -> Result<Vec<Class>, StoreError> {
    Ok(list_classes(tx)?
        .into_iter()
        .filter(|c| c.state == ClassState::Open)
        .collect())
}

pub fn put_attendance(tx: &WriteTransaction, a: &Attendance) -> Result<(), StoreError> {
    let encoded = Versioned::encode(a, names::ATTENDANCE)?;
    tx.open_table(ATTENDANCE)?
        .insert((a.class_id.as_u128(), a.user_id.as_str()), encoded)?;
    Ok(())
}

pub fn get_attendance(
    tx: &impl ReadTx,
    class_id: Uuid,
    user: &UserId,
) -> Result<Option<Attendance>, StoreError> {
    get_record(
        tx,
        ATTENDANCE,
        names::ATTENDANCE,
        (class_id.as_u128(), user.as_str()),
    )
}

/// Everyone with a row in the class (checked in at some time, or given an outcome).
pub fn class_attendance(tx: &impl ReadTx, class_id: Uuid) -> Result<Vec<Attendance>, StoreError> {
    let t = tx.table(ATTENDANCE)?;
    let id = class_id.as_u128();
    let mut out = Vec::new();
    for row in t.range((id, "")..)? {
        let (k, v) = row?;
        if k.value().0 != id {
            break;
        }
        out.push(v.value().decode(names::ATTENDANCE)?);
    }
    Ok(out)
}

/// Remove a class (a central tombstone). Its attendance rows stay, for the users' history.
pub fn remove_class(tx: &WriteTransaction, id: Uuid) -> Result<bool, StoreError> {
    Ok(tx.open_table(CLASSES)?.remove(id.as_u128())?.is_some())
}
