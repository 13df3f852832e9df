//! Headset progress events by client event ID, so a repeat is stored once (PROGRESS_EVENTS).

use redb::WriteTransaction;
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{PROGRESS_EVENTS, names};
use super::tx::{ReadTx, get_record};
use crate::domain::device::StoredProgress;

pub fn get_progress(tx: &impl ReadTx, event_id: Uuid) -> Result<Option<StoredProgress>, StoreError> {
    get_record(tx, PROGRESS_EVENTS, names::PROGRESS_EVENTS, event_id.as_u128())
}

pub fn put_progress(tx: &WriteTransaction, p: &StoredProgress) -> Result<(), StoreError> {
    let encoded = Versioned::encode(p, names::PROGRESS_EVENTS)?;
    tx.open_table(PROGRESS_EVENTS)?
        .insert(p.event.event_id.as_u128(), encoded)?;
    Ok(())
}
