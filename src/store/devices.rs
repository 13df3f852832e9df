//! Paired and pending devices and the index from token hash to device (DEVICES, DEVICE_BY_TOKEN).

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{DEVICE_BY_TOKEN, DEVICES, names};
use super::tx::{ReadTx, all_records, get_record};
use crate::domain::device::Device;

/// Store a device, keeping the token index in step with `token_hash`.
pub fn put_device(tx: &WriteTransaction, device: &Device) -> Result<(), StoreError> {
    let old = get_device(tx, device.id)?.and_then(|d| d.token_hash);
    {
        let mut index = tx.open_table(DEVICE_BY_TOKEN)?;
        if let Some(old) = old.filter(|o| Some(o) != device.token_hash.as_ref()) {
            index.remove(&old)?;
        }
        if let Some(new) = &device.token_hash {
            index.insert(new, device.id.as_u128())?;
        }
    }
    let encoded = Versioned::encode(device, names::DEVICES)?;
    tx.open_table(DEVICES)?.insert(device.id.as_u128(), encoded)?;
    Ok(())
}

pub fn get_device(tx: &impl ReadTx, id: Uuid) -> Result<Option<Device>, StoreError> {
    get_record(tx, DEVICES, names::DEVICES, id.as_u128())
}

/// The device holding this token (by SHA-256 of the token).
pub fn device_by_token(tx: &impl ReadTx, token_hash: &[u8; 32]) -> Result<Option<Device>, StoreError> {
    let id = tx.table(DEVICE_BY_TOKEN)?.get(token_hash)?.map(|v| v.value());
    match id {
        Some(id) => get_device(tx, Uuid::from_u128(id)),
        None => Ok(None),
    }
}

/// Every device, oldest request first.
pub fn list_devices(tx: &impl ReadTx) -> Result<Vec<Device>, StoreError> {
    all_records(tx, DEVICES, names::DEVICES)
}

/// Remove a device record (a lapsed or rejected request).
pub fn delete_device(tx: &WriteTransaction, id: Uuid) -> Result<(), StoreError> {
    if let Some(d) = get_device(tx, id)? {
        if let Some(t) = d.token_hash {
            tx.open_table(DEVICE_BY_TOKEN)?.remove(&t)?;
        }
        tx.open_table(DEVICES)?.remove(id.as_u128())?;
    }
    Ok(())
}
