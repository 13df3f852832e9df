//! The test central's shared core: its state behind one lock, the change signal for long polls, the clock with its skew, the fault plan, the `--state` file, and the operations both the Rust API and `/test/...` use.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use super::faults::{FaultPlan, FaultRule, Fired};
use super::fold::{Refusal, is_central_id, normalize};
use super::state::{ClearCredential, ClearOtp, State};
use crate::clock::{Clock as _, SystemClock};
use crate::sync::digest::{KindDigest, kind_digest};
use crate::sync::seal::KeyPair;
use crate::sync::wire::{self, ChangesPage, WireEvent};

/// What the central system holds, for tests to compare with a gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub site_id: Uuid,
    pub epoch: String,
    /// The last central sequence handed out.
    pub seq: u64,
    pub horizon: u64,
    /// Every kind of [`wire::KINDS`]: live records, digested with `sync::digest::kind_digest`
    /// over (central ID, wire record). For `credential`, whose wire form is sealed afresh for
    /// each gateway, the digested record is `{"pin": true|false, "otp_expires_at": <time>|null}`.
    pub kinds: BTreeMap<String, KindDigest>,
    pub gateways: BTreeMap<String, GatewaySnapshot>,
    pub leases: Vec<LeaseSnapshot>,
    pub faults_fired: Vec<Fired>,
    pub faults_left: Vec<FaultRule>,
}

/// One gateway as the central system sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewaySnapshot {
    pub name: String,
    /// False once it left.
    pub active: bool,
    /// Accepted events, in seq order, each once.
    pub events: Vec<WireEvent>,
    /// Repeats that were answered `duplicate`.
    pub duplicates: u64,
    pub rejected: Vec<RejectedEvent>,
    /// Site user ID → central user ID of the users it created.
    pub users: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    pub seq: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseSnapshot {
    pub link_id: Uuid,
    pub gateway_id: String,
    pub consumed: u32,
    pub granted: u32,
}

/// The core every handler and the [`super::TestCentral`] handle share.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    pub faults: FaultPlan,
    changed: watch::Sender<u64>,
    skew: Mutex<time::Duration>,
    state_file: Option<PathBuf>,
    /// The page last answered to each gateway, for the repeat-page fault.
    pub last_pages: Mutex<HashMap<String, ChangesPage>>,
    pub key: KeyPair,
}

impl Shared {
    pub fn new(state: State, state_file: Option<PathBuf>) -> Result<Shared, String> {
        let key = KeyPair::from_secret_b64(&state.central_secret).map_err(|e| e.to_string())?;
        let (changed, _) = watch::channel(0);
        Ok(Shared {
            state: Mutex::new(state),
            faults: FaultPlan::default(),
            changed,
            skew: Mutex::new(time::Duration::ZERO),
            state_file,
            last_pages: Mutex::default(),
            key,
        })
    }

    /// The central clock: the system's plus the configured skew.
    pub fn now(&self) -> OffsetDateTime {
        SystemClock.now() + *self.skew.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_skew(&self, skew: time::Duration) {
        *self.skew.lock().unwrap_or_else(|p| p.into_inner()) = skew;
    }

    /// Read the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Change the state: then the `--state` file is rewritten (atomically, under the lock, so
    /// writes land in order) and long polls wake.
    pub fn change<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut state);
        if let Some(path) = &self.state_file {
            match serde_json::to_string_pretty(&*state) {
                Ok(text) => {
                    if let Err(err) = crate::keys::write_new(path, &text) {
                        tracing::warn!(path = %path.display(), error = %err, "cannot write the test central's state");
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot encode the test central's state"),
            }
        }
        drop(state);
        self.changed.send_modify(|n| *n += 1);
        out
    }

    /// A receiver that sees every later change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub fn mint_site_token(&self) -> String {
        self.change(State::mint_site_token)
    }

    /// Put a record (checked against its wire type); returns its new version.
    pub fn put(&self, kind: &str, id: &str, record: Value) -> Result<u64, Refusal> {
        if kind == "credential" {
            return Err(Refusal::Invalid("credentials are set with set_credential".into()));
        }
        if !wire::KINDS.contains(&kind) {
            return Err(Refusal::Invalid(format!("unknown kind {kind:?}")));
        }
        let record = normalize(kind, id, record)?;
        self.change(|s| s.write(kind, id, Some(record)))
            .ok_or_else(|| Refusal::Invalid("nothing written".into()))
    }

    /// Delete a record (a tombstone); `None` when there was nothing to delete.
    pub fn delete(&self, kind: &str, id: &str) -> Option<u64> {
        self.change(|s| s.write(kind, id, None))
    }

    /// Issue a PIN and/or a one-time password to a user; both `None` withdraws the credential.
    /// Kept in clear here, sealed to each gateway's key when a page is read.
    pub fn set_credential(&self, user: &str, clear: ClearCredential) -> Result<Option<u64>, Refusal> {
        if !is_central_id(user) {
            return Err(Refusal::Invalid(format!("{user:?} is not a central user ID")));
        }
        if clear.pin.is_none() && clear.otp.is_none() {
            return Ok(self.delete("credential", user));
        }
        let record = serde_json::to_value(&clear).map_err(|e| Refusal::Invalid(e.to_string()))?;
        Ok(self.change(|s| s.write("credential", user, Some(record))))
    }

    /// Count `uses` more enrollments through a link made on the central side itself.
    pub fn add_direct_uses(&self, link: Uuid, uses: u32) -> Result<u64, Refusal> {
        self.change(|s| {
            let id = link.to_string();
            let mut record = s
                .live("link", &id)
                .cloned()
                .ok_or_else(|| Refusal::NotFound(format!("no link {id}")))?;
            *s.direct_uses.entry(link).or_default() += uses;
            let used = record.get("used").and_then(Value::as_u64).unwrap_or(0);
            record["used"] = json!(used + u64::from(uses));
            s.write("link", &id, Some(record))
                .ok_or_else(|| Refusal::Invalid("nothing written".into()))
        })
    }

    pub fn snapshot(&self) -> Snapshot {
        self.read(|s| {
            let kinds = wire::KINDS
                .iter()
                .map(|kind| {
                    let records = s.live_of(kind).map(|(id, r)| {
                        let r = if *kind == "credential" {
                            credential_digest_form(r)
                        } else {
                            r.clone()
                        };
                        (id.clone(), r)
                    });
                    (kind.to_string(), kind_digest(records))
                })
                .collect();
            let gateways = s
                .gateways
                .iter()
                .map(|(id, g)| {
                    let ev = s.events.get(id).cloned().unwrap_or_default();
                    let snap = GatewaySnapshot {
                        name: g.name.clone(),
                        active: g.active,
                        events: ev.accepted.into_values().map(|e| e.event).collect(),
                        duplicates: ev.duplicates,
                        rejected: ev
                            .rejected
                            .into_iter()
                            .map(|(seq, reason)| RejectedEvent { seq, reason })
                            .collect(),
                        users: ev.users,
                    };
                    (id.clone(), snap)
                })
                .collect();
            let leases = s
                .leases
                .iter()
                .flat_map(|(link, m)| {
                    m.iter().map(|(gw, l)| LeaseSnapshot {
                        link_id: *link,
                        gateway_id: gw.clone(),
                        consumed: l.consumed,
                        granted: l.granted,
                    })
                })
                .collect();
            Snapshot {
                site_id: s.site_id,
                epoch: s.epoch.clone(),
                seq: s.seq,
                horizon: s.horizon,
                kinds,
                gateways,
                leases,
                faults_fired: self.faults.fired(),
                faults_left: self.faults.remaining(),
            }
        })
    }
}

/// What the snapshot digests of a credential: whether it has a PIN and when its OTP expires.
fn credential_digest_form(record: &Value) -> Value {
    let clear: ClearCredential = serde_json::from_value(record.clone()).unwrap_or_default();
    json!({
        "pin": clear.pin.is_some(),
        "otp_expires_at": clear.otp.map(|o: ClearOtp| super::fold::rfc3339(o.expires_at)),
    })
}
