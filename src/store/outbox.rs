//! The outbox of events for the central system, numbered by a gap-free gateway sequence (OUTBOX).

use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::{NoContext, Timestamp, Uuid};

use super::StoreError;
use super::codec::{Record, Versioned};
use super::tables::{META, OUTBOX, names};
use super::tx::{ReadTx, get_record};

/// META key of the last sequence number handed out, so numbers are never reused once sent
/// events are removed.
pub const LAST_SEQ_KEY: &str = "outbox_last_seq";

/// One event waiting to be sent to the central system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Gateway sequence number: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// UUIDv7, so the central system can drop a resent duplicate.
    pub event_id: Uuid,
    /// What happened, e.g. `user.created`.
    pub kind: String,
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl Record for OutboxEvent {
    const NAME: &'static str = "outbox_event";
}

/// Queue an event and return its sequence number (the last one + 1, from 1). Call it in the same
/// write transaction as the change it reports: an aborted transaction uses up no number.
pub fn append_event(
    tx: &WriteTransaction,
    kind: &str,
    payload: serde_json::Value,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let seq = last_seq(tx)?.checked_add(1).ok_or_else(|| StoreError::Corrupt {
        table: names::OUTBOX,
        detail: "sequence exhausted".into(),
    })?;
    let event = OutboxEvent {
        seq,
        event_id: uuid_v7_at(now),
        kind: kind.to_string(),
        payload,
        created_at: now,
        attempts: 0,
        last_error: None,
    };
    let encoded = Versioned::encode(&event, names::OUTBOX)?;
    tx.open_table(OUTBOX)?.insert(seq, encoded)?;
    tx.open_table(META)?
        .insert(LAST_SEQ_KEY, seq.to_string().as_str())?;
    Ok(seq)
}

fn uuid_v7_at(now: OffsetDateTime) -> Uuid {
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(NoContext, secs, now.nanosecond()))
}

/// Up to `limit` events with a sequence number above `after_seq`, oldest first.
pub fn list_events(tx: &impl ReadTx, after_seq: u64, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
    let table = tx.table(OUTBOX)?;
    let mut out = Vec::new();
    for row in table
        .range::<u64>((Bound::Excluded(after_seq), Bound::Unbounded))?
        .take(limit)
    {
        let (_, v) = row?;
        out.push(v.value().decode(names::OUTBOX)?);
    }
    Ok(out)
}

/// The event with this sequence number.
pub fn get_event(tx: &impl ReadTx, seq: u64) -> Result<Option<OutboxEvent>, StoreError> {
    get_record(tx, OUTBOX, names::OUTBOX, seq)
}

/// How many events are waiting.
pub fn count_events(tx: &impl ReadTx) -> Result<u64, StoreError> {
    Ok(tx.table(OUTBOX)?.len()?)
}

/// The last sequence number handed out (0 before the first event).
pub fn last_seq(tx: &impl ReadTx) -> Result<u64, StoreError> {
    let recorded = match tx.table(META)?.get(LAST_SEQ_KEY)? {
        None => 0,
        Some(v) => v.value().parse::<u64>().map_err(|_| StoreError::Corrupt {
            table: names::META,
            detail: format!("{LAST_SEQ_KEY} is {:?}, not a number", v.value()),
        })?,
    };
    let last_key = tx.table(OUTBOX)?.last()?.map_or(0, |(k, _)| k.value());
    Ok(recorded.max(last_key))
}

/// Note a failed delivery of one event. Returns false when no such event is queued.
pub fn record_failure(tx: &WriteTransaction, seq: u64, error: &str) -> Result<bool, StoreError> {
    let Some(mut event) = get_event(tx, seq)? else {
        return Ok(false);
    };
    event.attempts = event.attempts.saturating_add(1);
    event.last_error = Some(error.to_string());
    tx.open_table(OUTBOX)?
        .insert(seq, Versioned::encode(&event, names::OUTBOX)?)?;
    Ok(true)
}

/// Drop every event up to and including `seq` (the central system has them). Returns how many
/// were removed. Their numbers are never handed out again.
pub fn remove_events_through(tx: &WriteTransaction, seq: u64) -> Result<u64, StoreError> {
    let mut table = tx.open_table(OUTBOX)?;
    let keys = table
        .range(..=seq)?
        .map(|row| row.map(|(k, _)| k.value()))
        .collect::<Result<Vec<u64>, _>>()?;
    for key in &keys {
        table.remove(key)?;
    }
    Ok(keys.len() as u64)
}

/// Drop one event (the central system has it, or it became a dead letter). Its number is never
/// handed out again.
pub fn remove_event(tx: &WriteTransaction, seq: u64) -> Result<bool, StoreError> {
    Ok(tx.open_table(OUTBOX)?.remove(seq)?.is_some())
}

/// Put an event back under its own sequence number (a dead letter retried by staff).
pub fn restore_event(tx: &WriteTransaction, event: &OutboxEvent) -> Result<(), StoreError> {
    let mut event = event.clone();
    event.attempts = 0;
    event.last_error = None;
    let encoded = Versioned::encode(&event, names::OUTBOX)?;
    tx.open_table(OUTBOX)?.insert(event.seq, encoded)?;
    Ok(())
}
