//! What `sitegate doctor` needs to know from the gateway itself: from the running process over the
//! technician socket (its listeners, tasks, mDNS announcing, printers' last answers, the sync's live
//! state), or read from the store when no gateway runs. The checks themselves live in the CLI.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::admin::Listening;
use super::{ServiceResult, Services};
use crate::domain::throttle::MonotonicMark;
use crate::store;

/// The META key under which a backup records itself: JSON `{"at": RFC 3339, "path": "..."}`.
pub const LAST_BACKUP_KEY: &str = "last_backup";

/// Everything the doctor reads from the gateway, as one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorFacts {
    /// Answered by the running gateway (else read from the store by the CLI).
    pub live: bool,
    pub gateway_id: String,
    pub listening: Option<Listening>,
    /// Background tasks that stopped while they should run.
    pub dead_tasks: Vec<String>,
    pub tasks: usize,
    /// The gateway's own clock.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    /// The security clock's last mark: the last good time the gateway saw.
    pub clock_mark: Option<MonotonicMark>,
    pub schema_version: u32,
    pub users: u64,
    pub db_bytes: Option<u64>,
    pub mdns: Option<MdnsFacts>,
    pub printers: Vec<PrinterFacts>,
    pub sync: SyncFacts,
    pub last_backup: Option<BackupFacts>,
}

/// How announcing goes, from the running gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MdnsFacts {
    /// `advertising`, `disabled`, `starting`, `no_interface`, `unavailable`.
    pub state: String,
    pub instance: Option<String>,
    pub port: u16,
    /// (interface, its announced addresses).
    pub interfaces: Vec<(String, Vec<String>)>,
    pub detail: Option<String>,
}

/// A printer's last answer to the running print queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterFacts {
    pub name: String,
    pub status: String,
    pub last_fault: Option<String>,
    pub last_detail: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_at: Option<OffsetDateTime>,
}

/// The sync's state as the doctor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFacts {
    /// `standalone`, `online`, `offline`, `credential_refused`, `refetching`.
    pub state: String,
    pub summary: String,
    pub joined: bool,
    pub central_url: Option<String>,
    pub pending_events: u64,
    pub oldest_pending_age_secs: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_pull_ok: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// Central clock minus ours, from the last answer.
    pub clock_offset_secs: Option<i64>,
    pub dead_letters: usize,
}

/// The last backup, as the backup recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFacts {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(default)]
    pub path: Option<String>,
}

impl Services {
    /// The facts, as this process knows them (`live` when it is the serving gateway).
    pub async fn doctor_facts(&self) -> ServiceResult<DoctorFacts> {
        let gateway_id = self.store.gateway_id()?;
        let schema_version = self.store.schema_version()?;
        let (clock_mark, users, last_backup) = self
            .store
            .read(|tx| {
                let mark = store::throttle::get_mark(tx)?;
                let users = store::users::count_users(tx)?;
                let backup = store::meta_value(tx, LAST_BACKUP_KEY)?
                    .and_then(|v| serde_json::from_str::<BackupFacts>(&v).ok());
                Ok((mark, users, backup))
            })
            .await?;
        let live = self.live.is_some();
        let sync = self
            .sync_status(live.then_some(&self.sync))
            .await
            .map(|s| SyncFacts {
                state: s.state,
                summary: s.summary,
                joined: s.joined,
                central_url: s.central_url,
                pending_events: s.pending_events,
                oldest_pending_age_secs: s.oldest_pending_age_secs,
                last_pull_ok: s.last_pull_ok,
                last_error: s.last_error,
                clock_offset_secs: s.clock_offset_secs,
                dead_letters: s.dead_letters.len(),
            })?;
        let (dead_tasks, tasks, mdns) = match &self.live {
            Some(l) => {
                let d = l.discovery.status();
                let mdns = MdnsFacts {
                    state: crate::metrics::label_of(&d.state),
                    instance: d.instance,
                    port: d.port,
                    interfaces: d
                        .interfaces
                        .into_iter()
                        .map(|c| (c.name, c.addrs.iter().map(ToString::to_string).collect()))
                        .collect(),
                    detail: d.detail,
                };
                let dead = l.tasks.dead().into_iter().map(str::to_owned).collect();
                (dead, l.tasks.count(), Some(mdns))
            }
            None => (Vec::new(), 0, None),
        };
        let printers = match (&self.printing, live) {
            (Some(p), true) => p
                .printers
                .iter()
                .filter_map(|printer| {
                    let h = p.health(&printer.name)?;
                    Some(PrinterFacts {
                        name: printer.name.clone(),
                        status: crate::metrics::label_of(&h.status),
                        last_fault: h.last_fault.map(|f| f.to_string()),
                        last_detail: h.last_detail,
                        checked_at: h.checked_at,
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(DoctorFacts {
            live,
            gateway_id,
            listening: self.listening,
            dead_tasks,
            tasks,
            now: self.now(),
            clock_mark,
            schema_version,
            users,
            db_bytes: self.store.file_size(),
            mdns,
            printers,
            sync,
            last_backup,
        })
    }
}
