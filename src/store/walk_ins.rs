//! Walk-in passes (WALK_IN_PASSES: token hash → pass).

use redb::{ReadableTable, WriteTransaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{WALK_IN_PASSES, names};
use super::tx::{ReadTx, get_record};
use crate::domain::walk_in::WalkInPass;

pub fn put_pass(tx: &WriteTransaction, hash: &[u8; 32], pass: &WalkInPass) -> Result<(), StoreError> {
    let encoded = Versioned::encode(pass, names::WALK_IN_PASSES)?;
    tx.open_table(WALK_IN_PASSES)?.insert(hash, encoded)?;
    Ok(())
}

pub fn get_pass(tx: &impl ReadTx, hash: &[u8; 32]) -> Result<Option<WalkInPass>, StoreError> {
    get_record(tx, WALK_IN_PASSES, names::WALK_IN_PASSES, hash)
}

/// Forget passes a day past their end; answer how many of `class_id`'s still wait for a walk-in.
pub fn prune_and_count_waiting(
    tx: &WriteTransaction,
    class_id: Uuid,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let mut t = tx.open_table(WALK_IN_PASSES)?;
    let mut stale = Vec::new();
    let mut waiting = 0;
    for row in t.iter()? {
        let (k, v) = row?;
        let pass: WalkInPass = v.value().decode(names::WALK_IN_PASSES)?;
        if pass.is_stale(now) {
            stale.push(*k.value());
        } else if pass.class_id == class_id && pass.is_waiting(now) {
            waiting += 1;
        }
    }
    for k in stale {
        t.remove(&k)?;
    }
    Ok(waiting)
}
