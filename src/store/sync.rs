//! What the sync with the central system keeps: its state (epoch, cursor, last results), dead letters, quarantined records, central ID mappings and link leases (SYNC_STATE, DEAD_LETTERS, QUARANTINE, CENTRAL_IDS, LINK_LEASES).

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use super::codec::{Record, Versioned};
use super::outbox::OutboxEvent;
use super::tables::{CENTRAL_IDS, DEAD_LETTERS, LINK_LEASES, QUARANTINE, SYNC_STATE, names};
use super::tx::{ReadTx, all_records, get_record};

const STATE_KEY: &str = "state";

/// The sync's own state, one record. Written in the same transaction as what it describes (a
/// page with its cursor and epoch; a push's results with the outbox removals).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Set by a join: the central URL (no secrets), site and the central public key.
    pub joined: Option<JoinedSite>,
    /// The central data epoch of the cursor.
    pub epoch: Option<String>,
    /// The cursor after the last page applied; `None` before the first page of an epoch.
    pub cursor: Option<String>,
    /// Increased at the start of each full refetch; records seen by it carry its number.
    pub generation: u64,
    /// A full refetch is under way (from no cursor to the last page).
    pub refetching: bool,
    /// That refetch is of a new epoch: the records it lists win over the old epoch's versions.
    #[serde(default)]
    pub new_epoch_refetch: bool,
    /// The last few epochs held before this one. A page of one of them answering a refetch is
    /// a replay: its epoch is never taken up again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub past_epochs: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_pull_ok: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_push_ok: Option<OffsetDateTime>,
    pub last_error: Option<SyncFault>,
    /// The central system refused this gateway's credential: sync stops until it joins again.
    pub credential_refused: bool,
    /// Central clock minus ours, in milliseconds, from the last answer.
    pub clock_offset_ms: Option<i64>,
    /// Events the central system accepted (or knew already) since the join.
    pub events_accepted: u64,
}

impl SyncState {
    /// Epochs kept in [`SyncState::past_epochs`].
    pub const PAST_EPOCHS: usize = 8;

    /// The epoch is about to become `next`: remember the one left, if it is another.
    pub fn leave_epoch(&mut self, next: Option<&str>) {
        if let Some(old) = self.epoch.take_if(|e| Some(e.as_str()) != next) {
            self.past_epochs.retain(|e| e != &old);
            self.past_epochs.push(old);
            let extra = self.past_epochs.len().saturating_sub(Self::PAST_EPOCHS);
            self.past_epochs.drain(..extra);
        }
    }
}

/// The site this gateway joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedSite {
    pub url: String,
    pub site_id: Uuid,
    pub site_name: String,
    /// base64url X25519: what site secrets (PINs issued here) are sealed to.
    pub central_public_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

/// The last thing that went wrong, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFault {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `pull`, `push`, `lease` or `join`.
    pub during: String,
    pub message: String,
}

/// An event the central system rejected: kept, shown to staff, retried or discarded by them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub event: OutboxEvent,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A central record that could not be applied (bad shape, fails validation, unknown kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    pub kind: String,
    pub id: String,
    pub version: u64,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Which local record a central record is, at which version, and the refetch that last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CentralEntry {
    /// The local key: a user ID (canonical) or a UUID.
    pub local: String,
    pub version: u64,
    pub generation: u64,
    /// A tombstone: the record is gone; an older upsert arriving late must not bring it back.
    #[serde(default)]
    pub deleted: bool,
}

/// The slots of one capped link this gateway holds, and how many it used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub granted: u32,
    pub consumed: u32,
}

impl Lease {
    pub fn free(&self) -> u32 {
        self.granted.saturating_sub(self.consumed)
    }
}

impl Record for SyncState {
    const NAME: &'static str = "sync_state";
}
impl Record for DeadLetter {
    const NAME: &'static str = "dead_letter";
}
impl Record for Quarantined {
    const NAME: &'static str = "quarantined";
}
impl Record for CentralEntry {
    const NAME: &'static str = "central_entry";
}
impl Record for Lease {
    const NAME: &'static str = "lease";
}

pub fn get_state(tx: &impl ReadTx) -> Result<SyncState, StoreError> {
    Ok(get_record(tx, SYNC_STATE, names::SYNC_STATE, STATE_KEY)?.unwrap_or_default())
}

pub fn put_state(tx: &WriteTransaction, state: &SyncState) -> Result<(), StoreError> {
    let encoded = Versioned::encode(state, names::SYNC_STATE)?;
    tx.open_table(SYNC_STATE)?.insert(STATE_KEY, encoded)?;
    Ok(())
}

/// Key of a central record in CENTRAL_IDS and QUARANTINE: `kind:id`.
pub fn central_key(kind: &str, id: &str) -> String {
    format!("{kind}:{id}")
}

pub fn get_central(tx: &impl ReadTx, kind: &str, id: &str) -> Result<Option<CentralEntry>, StoreError> {
    get_record(
        tx,
        CENTRAL_IDS,
        names::CENTRAL_IDS,
        central_key(kind, id).as_str(),
    )
}

pub fn put_central(
    tx: &WriteTransaction,
    kind: &str,
    id: &str,
    entry: &CentralEntry,
) -> Result<(), StoreError> {
    let encoded = Versioned::encode(entry, names::CENTRAL_IDS)?;
    tx.open_table(CENTRAL_IDS)?
        .insert(central_key(kind, id).as_str(), encoded)?;
    Ok(())
}

pub fn remove_central(tx: &WriteTransaction, kind: &str, id: &str) -> Result<(), StoreError> {
    tx.open_table(CENTRAL_IDS)?
        .remove(central_key(kind, id).as_str())?;
    Ok(())
}

/// Every central record of one kind: (central ID, entry).
pub fn central_of_kind(tx: &impl ReadTx, kind: &str) -> Result<Vec<(String, CentralEntry)>, StoreError> {
    let prefix = format!("{kind}:");
    let table = tx.table(CENTRAL_IDS)?;
    let mut out = Vec::new();
    for row in table.range(prefix.as_str()..)? {
        let (k, v) = row?;
        let Some(id) = k.value().strip_prefix(&prefix) else {
            break;
        };
        out.push((id.to_string(), v.value().decode(names::CENTRAL_IDS)?));
    }
    Ok(out)
}

pub fn put_dead_letter(tx: &WriteTransaction, letter: &DeadLetter) -> Result<(), StoreError> {
    let encoded = Versioned::encode(letter, names::DEAD_LETTERS)?;
    tx.open_table(DEAD_LETTERS)?.insert(letter.event.seq, encoded)?;
    Ok(())
}

pub fn get_dead_letter(tx: &impl ReadTx, seq: u64) -> Result<Option<DeadLetter>, StoreError> {
    get_record(tx, DEAD_LETTERS, names::DEAD_LETTERS, seq)
}

pub fn remove_dead_letter(tx: &WriteTransaction, seq: u64) -> Result<bool, StoreError> {
    Ok(tx.open_table(DEAD_LETTERS)?.remove(seq)?.is_some())
}

pub fn list_dead_letters(tx: &impl ReadTx) -> Result<Vec<DeadLetter>, StoreError> {
    all_records(tx, DEAD_LETTERS, names::DEAD_LETTERS)
}

pub fn count_dead_letters(tx: &impl ReadTx) -> Result<u64, StoreError> {
    Ok(tx.table(DEAD_LETTERS)?.len()?)
}

pub fn put_quarantined(tx: &WriteTransaction, q: &Quarantined) -> Result<(), StoreError> {
    let encoded = Versioned::encode(q, names::QUARANTINE)?;
    tx.open_table(QUARANTINE)?
        .insert(central_key(&q.kind, &q.id).as_str(), encoded)?;
    Ok(())
}

/// A record that now applied leaves the quarantine.
pub fn release_quarantined(tx: &WriteTransaction, kind: &str, id: &str) -> Result<(), StoreError> {
    tx.open_table(QUARANTINE)?
        .remove(central_key(kind, id).as_str())?;
    Ok(())
}

pub fn list_quarantined(tx: &impl ReadTx) -> Result<Vec<Quarantined>, StoreError> {
    all_records(tx, QUARANTINE, names::QUARANTINE)
}

pub fn get_lease(tx: &impl ReadTx, link: Uuid) -> Result<Option<Lease>, StoreError> {
    get_record(tx, LINK_LEASES, names::LINK_LEASES, link.as_u128())
}

pub fn put_lease(tx: &WriteTransaction, link: Uuid, lease: &Lease) -> Result<(), StoreError> {
    let encoded = Versioned::encode(lease, names::LINK_LEASES)?;
    tx.open_table(LINK_LEASES)?.insert(link.as_u128(), encoded)?;
    Ok(())
}

pub fn list_leases(tx: &impl ReadTx) -> Result<Vec<(Uuid, Lease)>, StoreError> {
    let table = tx.table(LINK_LEASES)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        out.push((Uuid::from_u128(k.value()), v.value().decode(names::LINK_LEASES)?));
    }
    Ok(out)
}

/// Forget everything the sync knew (a leave): state, mappings, leases, quarantine. Dead letters
/// and the outbox stay, so nothing the site recorded is lost.
pub fn clear_all(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(SYNC_STATE)?.retain(|_, _| false)?;
    tx.open_table(CENTRAL_IDS)?.retain(|_, _| false)?;
    tx.open_table(LINK_LEASES)?.retain(|_, _| false)?;
    tx.open_table(QUARANTINE)?.retain(|_, _| false)?;
    Ok(())
}
