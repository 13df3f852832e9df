//! The test central's data and its change log: records with versions, sequences and tombstones, the epoch and horizon, and reading pages of changes.
//!
//! Rules (the contract the gateway's client is tested against):
//!
//! - One ordered change log. Every put or delete of a record appends to it with the next central
//!   sequence (monotonic, from 1); the record's `version` grows by one per change of that record.
//!   The log is compacted: a record appears once, at the sequence of its latest change, so a
//!   page holds the newest version of each record it lists.
//! - A delete leaves a tombstone (`deleted: true`, no record) until the tombstone horizon passes
//!   it. A cursor older than the horizon answers 410 `refetch`.
//! - The epoch names one lineage of the log. A new epoch (restore, re-seed) drops every
//!   tombstone; a request naming another epoch, with or without a cursor, answers 410 `refetch`
//!   with the current epoch.
//! - No cursor reads a full snapshot of the current epoch: every live record, oldest change
//!   first, no tombstones. The gateway drops what a full snapshot does not list. A snapshot
//!   paged over several requests carries its own cursor form (`s<seq>h<horizon>`); it stays valid
//!   while the horizon does not move past it. The last page of a snapshot hands over a log
//!   cursor (the current sequence as decimal text).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sync::wire::{self, WireEvent};

/// One record as the central system keeps it (credentials in clear).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// The sequence of its latest change.
    pub seq: u64,
    pub version: u64,
    /// `None` for a tombstone.
    pub record: Option<Value>,
    /// The version before this one and its record, for the reordering fault.
    #[serde(default)]
    pub previous: Option<(u64, Option<Value>)>,
}

/// A joined (or departed) gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    pub name: String,
    /// X25519, base64url: credentials are sealed to it.
    pub public_key: String,
    /// SHA-256 (hex) of its bearer credential.
    pub credential_sha256: String,
    /// False once it left: its credential answers 401 (leave itself stays 204).
    pub active: bool,
    pub software: String,
}

/// A capped link's slots reserved for one gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub consumed: u32,
    pub granted: u32,
}

/// An event folded in, with what the answer carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub event: WireEvent,
    #[serde(default)]
    pub central_user_id: Option<String>,
}

/// Everything one gateway pushed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewayEvents {
    /// Accepted events by seq, each once.
    pub accepted: BTreeMap<u64, StoredEvent>,
    /// Rejected events by seq, with the reason; judged again when sent again (and dropped from
    /// here once accepted).
    pub rejected: BTreeMap<u64, String>,
    /// Repeats answered `duplicate`.
    pub duplicates: u64,
    /// Site user ID → central user ID, for users this gateway created.
    pub users: BTreeMap<String, String>,
}

/// TLS material kept across restarts of the binary, so a gateway's pin stays valid.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptTls {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for KeptTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptTls(..)")
    }
}

/// The whole state; serialized as the `--state` file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub site_id: Uuid,
    pub site_name: String,
    pub epoch: String,
    /// The last sequence handed out.
    pub seq: u64,
    /// Cursors below this answer `refetch`; tombstones at or below it are gone.
    pub horizon: u64,
    /// kind → central ID → record.
    pub records: BTreeMap<String, BTreeMap<String, Stored>>,
    /// The central X25519 secret key, base64url (a test server: kept in its state file).
    pub central_secret: String,
    /// SHA-256 (hex) of each site token → spent.
    pub site_tokens: BTreeMap<String, bool>,
    pub gateways: BTreeMap<String, Gateway>,
    pub events: BTreeMap<String, GatewayEvents>,
    /// link → gateway → lease.
    pub leases: BTreeMap<Uuid, BTreeMap<String, Lease>>,
    /// Enrollments through a link made on the central side itself (not by a gateway).
    pub direct_uses: BTreeMap<Uuid, u32>,
    #[serde(default)]
    pub tls: Option<KeptTls>,
    /// sequence → (kind, ID), rebuilt from `records` on load.
    #[serde(skip)]
    by_seq: BTreeMap<u64, (String, String)>,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// A full snapshot from its beginning (no cursor).
    Start,
    /// A snapshot under way: after sequence `after`, begun with horizon `horizon`.
    Snapshot { after: u64, horizon: u64 },
    /// The change log after sequence `after`.
    Log { after: u64 },
}

impl Cursor {
    /// Reads a cursor a gateway sent; `None` when it is not one this central system gives out.
    pub fn parse(text: Option<&str>) -> Option<Cursor> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Some(Cursor::Start);
        };
        if let Some(rest) = text.strip_prefix('s') {
            let (after, horizon) = rest.split_once('h')?;
            return Some(Cursor::Snapshot {
                after: after.parse().ok()?,
                horizon: horizon.parse().ok()?,
            });
        }
        Some(Cursor::Log {
            after: text.parse().ok()?,
        })
    }

    pub fn text(&self) -> String {
        match self {
            Cursor::Start => String::new(),
            Cursor::Snapshot { after, horizon } => format!("s{after}h{horizon}"),
            Cursor::Log { after } => after.to_string(),
        }
    }

    pub fn after(&self) -> u64 {
        match self {
            Cursor::Start => 0,
            Cursor::Snapshot { after, .. } | Cursor::Log { after } => *after,
        }
    }

    fn is_snapshot(&self) -> bool {
        !matches!(self, Cursor::Log { .. })
    }
}

/// One change of a page, credentials still in clear.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub kind: String,
    pub id: String,
    pub version: u64,
    pub record: Option<Value>,
}

/// A page of entries before it is written for one gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub cursor: Cursor,
    pub has_more: bool,
}

impl State {
    pub fn new(site_name: &str, central_secret: String) -> State {
        State {
            site_id: Uuid::now_v7(),
            site_name: site_name.to_string(),
            epoch: new_epoch(),
            seq: 0,
            horizon: 0,
            records: BTreeMap::new(),
            central_secret,
            site_tokens: BTreeMap::new(),
            gateways: BTreeMap::new(),
            events: BTreeMap::new(),
            leases: BTreeMap::new(),
            direct_uses: BTreeMap::new(),
            tls: None,
            by_seq: BTreeMap::new(),
        }
    }

    /// Rebuild the sequence index after loading from a file.
    pub fn reindex(&mut self) {
        self.by_seq = self
            .records
            .iter()
            .flat_map(|(kind, m)| m.iter().map(move |(id, s)| (s.seq, (kind.clone(), id.clone()))))
            .collect();
    }

    pub fn get(&self, kind: &str, id: &str) -> Option<&Stored> {
        self.records.get(kind).and_then(|m| m.get(id))
    }

    /// A live record's JSON.
    pub fn live(&self, kind: &str, id: &str) -> Option<&Value> {
        self.get(kind, id).and_then(|s| s.record.as_ref())
    }

    /// Append a put (`Some`) or delete (`None`) of a record to the log; returns the new version.
    /// Deleting what does not exist (or is already a tombstone) changes nothing and returns `None`.
    pub fn write(&mut self, kind: &str, id: &str, record: Option<Value>) -> Option<u64> {
        let old = self.get(kind, id).cloned();
        if record.is_none() && old.as_ref().is_none_or(|o| o.record.is_none()) {
            return None;
        }
        self.seq += 1;
        let seq = self.seq;
        let version = old.as_ref().map_or(1, |o| o.version + 1);
        if let Some(o) = &old {
            self.by_seq.remove(&o.seq);
        }
        let stored = Stored {
            seq,
            version,
            record,
            previous: old.map(|o| (o.version, o.record)),
        };
        self.records
            .entry(kind.to_string())
            .or_default()
            .insert(id.to_string(), stored);
        self.by_seq.insert(seq, (kind.to_string(), id.to_string()));
        Some(version)
    }

    /// A new epoch: every cursor handed out so far answers `refetch`; tombstones are dropped.
    pub fn bump_epoch(&mut self) -> String {
        self.epoch = new_epoch();
        self.purge_tombstones(u64::MAX);
        self.epoch.clone()
    }

    /// Move the tombstone horizon to `seq` (at most the current sequence): cursors below it
    /// answer `refetch`, tombstones at or below it are dropped.
    pub fn set_horizon(&mut self, seq: u64) -> u64 {
        self.horizon = seq.min(self.seq).max(self.horizon);
        self.purge_tombstones(self.horizon);
        self.horizon
    }

    fn purge_tombstones(&mut self, up_to: u64) {
        let dead: Vec<(u64, String, String)> = self
            .by_seq
            .range(..=up_to)
            .filter(|(_, (k, i))| self.get(k, i).is_some_and(|s| s.record.is_none()))
            .map(|(s, (k, i))| (*s, k.clone(), i.clone()))
            .collect();
        for (seq, kind, id) in dead {
            self.by_seq.remove(&seq);
            if let Some(m) = self.records.get_mut(&kind) {
                m.remove(&id);
            }
        }
    }

    /// Whether a cursor can still be served; `false` means `refetch`.
    pub fn cursor_valid(&self, cursor: &Cursor) -> bool {
        match *cursor {
            Cursor::Start => true,
            Cursor::Log { after } => after >= self.horizon && after <= self.seq,
            Cursor::Snapshot { after, horizon } => self.horizon <= after.max(horizon) && after <= self.seq,
        }
    }

    /// Up to `limit` changes after `cursor` (whose validity the caller checked), starting `back`
    /// changes before it (the overlap fault; 0 normally).
    pub fn page(&self, cursor: Cursor, limit: usize, back: usize) -> Page {
        let snapshot = cursor.is_snapshot();
        let mut from = cursor.after();
        if back > 0 {
            from = self
                .by_seq
                .range(..=from)
                .rev()
                .nth(back - 1)
                .map_or(0, |(s, _)| s.saturating_sub(1));
        }
        let mut rest = self
            .by_seq
            .range(from + 1..)
            .filter_map(|(seq, (kind, id))| {
                let s = self.get(kind, id)?;
                (!snapshot || s.record.is_some()).then(|| Entry {
                    seq: *seq,
                    kind: kind.clone(),
                    id: id.clone(),
                    version: s.version,
                    record: s.record.clone(),
                })
            })
            .peekable();
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        while entries.len() < limit
            && bytes < wire::PAGE_BYTES_MAX / 4
            && let Some(e) = rest.next()
        {
            bytes += e.record.as_ref().map_or(64, |r| r.to_string().len() + 64);
            entries.push(e);
        }
        let has_more = rest.peek().is_some();
        let last = entries.last().map_or(cursor.after(), |e| e.seq);
        let cursor = match (has_more, snapshot) {
            (false, _) => Cursor::Log { after: self.seq },
            (true, true) => Cursor::Snapshot {
                after: last,
                horizon: match cursor {
                    Cursor::Snapshot { horizon, .. } => horizon,
                    _ => self.horizon,
                },
            },
            (true, false) => Cursor::Log { after: last },
        };
        Page {
            entries,
            cursor,
            has_more,
        }
    }

    /// The version before `kind/id`'s current one, if it had one.
    pub fn previous(&self, kind: &str, id: &str) -> Option<(u64, Option<Value>)> {
        self.get(kind, id).and_then(|s| s.previous.clone())
    }

    /// Live records of one kind, by central ID.
    pub fn live_of(&self, kind: &str) -> impl Iterator<Item = (&String, &Value)> {
        self.records
            .get(kind)
            .into_iter()
            .flat_map(|m| m.iter().filter_map(|(id, s)| s.record.as_ref().map(|r| (id, r))))
    }

    pub fn gateway_events(&mut self, gateway: &str) -> &mut GatewayEvents {
        self.events.entry(gateway.to_string()).or_default()
    }
}

/// A fresh epoch name.
pub fn new_epoch() -> String {
    format!("e-{}", Uuid::now_v7().simple())
}

/// The clear form of a credential the central system issued (kind `credential`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearCredential {
    #[serde(default)]
    pub pin: Option<String>,
    #[serde(default)]
    pub otp: Option<ClearOtp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearOtp {
    pub code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> State {
        State::new("Test", "x".into())
    }

    #[test]
    fn the_log_keeps_the_newest_version_once_and_snapshots_skip_tombstones() {
        let mut s = state();
        assert_eq!(s.write("group", "a", Some(json!({"name": "A"}))), Some(1));
        assert_eq!(s.write("group", "b", Some(json!({"name": "B"}))), Some(1));
        assert_eq!(s.write("group", "a", Some(json!({"name": "A2"}))), Some(2));
        assert_eq!(s.write("group", "b", None), Some(2));
        assert_eq!(s.write("group", "b", None), None);
        let log = s.page(Cursor::Log { after: 0 }, 10, 0);
        assert_eq!(
            log.entries
                .iter()
                .map(|e| (e.id.as_str(), e.seq))
                .collect::<Vec<_>>(),
            [("a", 3), ("b", 4)]
        );
        let snap = s.page(Cursor::Start, 10, 0);
        assert_eq!(snap.entries.len(), 1);
        assert_eq!(snap.cursor, Cursor::Log { after: 4 });
    }

    #[test]
    fn a_paged_snapshot_survives_an_old_horizon_but_not_a_new_one() {
        let mut s = state();
        for i in 0..3 {
            s.write("group", &i.to_string(), Some(json!({"name": "G"})));
        }
        s.write("group", "x", Some(json!({"name": "X"})));
        s.write("group", "x", None);
        s.set_horizon(5);
        let first = s.page(Cursor::Start, 1, 0);
        assert!(first.has_more);
        assert!(s.cursor_valid(&first.cursor), "{:?}", first.cursor);
        assert!(!s.cursor_valid(&Cursor::Log { after: 1 }));
        s.write("group", "y", Some(json!({"name": "Y"})));
        s.set_horizon(6);
        assert!(!s.cursor_valid(&first.cursor));
        assert_eq!(Cursor::parse(Some(&first.cursor.text())), Some(first.cursor));
    }
}
