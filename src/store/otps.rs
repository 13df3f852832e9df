//! Outstanding one-time passwords, keyed by their tag (OTPS). Used ones are deleted.

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{OTPS, names};
use super::tx::{ReadTx, get_record};
use crate::domain::credentials::OneTimePassword;

/// Store a new one-time password under its tag.
pub fn put_otp(tx: &WriteTransaction, tag: &[u8; 32], otp: &OneTimePassword) -> Result<(), StoreError> {
    let encoded = Versioned::encode(otp, names::OTPS)?;
    tx.open_table(OTPS)?.insert(tag, encoded)?;
    Ok(())
}

/// The one-time password with this tag.
pub fn get_otp(tx: &impl ReadTx, tag: &[u8; 32]) -> Result<Option<OneTimePassword>, StoreError> {
    get_record(tx, OTPS, names::OTPS, tag)
}

/// Remove the password with this tag. Returns whether it existed.
pub fn delete_otp(tx: &WriteTransaction, tag: &[u8; 32]) -> Result<bool, StoreError> {
    Ok(tx.open_table(OTPS)?.remove(tag)?.is_some())
}

/// Every stored password with its tag (a few dozen at most: expired ones are purged).
pub fn list_otps(tx: &impl ReadTx) -> Result<Vec<([u8; 32], OneTimePassword)>, StoreError> {
    let table = tx.table(OTPS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        out.push((*k.value(), v.value().decode(names::OTPS)?));
    }
    Ok(out)
}

/// Remove the password with this ID. Returns it when it existed.
pub fn delete_otp_by_id(tx: &WriteTransaction, id: Uuid) -> Result<Option<OneTimePassword>, StoreError> {
    let found = list_otps(tx)?.into_iter().find(|(_, o)| o.id == id);
    match found {
        Some((tag, otp)) => {
            delete_otp(tx, &tag)?;
            Ok(Some(otp))
        }
        None => Ok(None),
    }
}
