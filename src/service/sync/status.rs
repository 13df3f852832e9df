//! The sync as staff and technicians see it (joined or not, online, pending events, last pull and push, last error, dead letters, quarantine, leases, clock offset), and staff retrying or discarding a dead letter (audited).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::worker::SyncHandle;
use crate::domain::DomainError;
use crate::service::{Actor, ServiceError, ServiceResult, Services};
use crate::store;

/// The most dead letters one status lists (the oldest first).
pub const DEAD_LETTERS_SHOWN: usize = 200;

/// Past this the clock offset from the central system is worth a warning.
pub const CLOCK_WARN_SECS: i64 = 120;

/// One dead letter, as shown (the event's data is not: it may hold sealed secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    pub seq: u64,
    pub event_id: Uuid,
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub rejected_at: OffsetDateTime,
}

/// One quarantined central record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuarantinedView {
    pub kind: String,
    pub id: String,
    pub version: u64,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

/// The slots of one capped link held here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaseView {
    pub link_id: Uuid,
    pub link_name: Option<String>,
    pub granted: u32,
    pub used: u32,
    pub free: u32,
}

/// The sync's state in one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SyncStatus {
    /// `standalone`, `online`, `offline`, `credential_refused` or `refetching`.
    pub state: String,
    /// A sentence for a person.
    pub summary: String,
    pub joined: bool,
    pub central_url: Option<String>,
    pub site_name: Option<String>,
    pub gateway_id: String,
    pub pending_events: u64,
    pub oldest_pending_age_secs: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_pull_ok: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_push_ok: Option<OffsetDateTime>,
    /// The last thing that went wrong, as one sentence for a person: what the gateway was doing
    /// and why it failed. Cleared by the next cycle that goes through.
    pub last_error: Option<String>,
    /// What the gateway was doing then: `pull`, `push`, `lease` or `join`.
    pub last_error_during: Option<String>,
    /// Why it failed, without what it was doing (for screens that say that in their own language).
    pub last_error_message: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_retry_at: Option<OffsetDateTime>,
    pub events_accepted: u64,
    /// How many dead letters there are; `dead_letters` lists the oldest 200 of them.
    pub dead_letters_total: u64,
    pub dead_letters: Vec<DeadLetterView>,
    pub quarantined: Vec<QuarantinedView>,
    pub leases: Vec<LeaseView>,
    /// Central clock minus this gateway's, in seconds (rounded), from the last answer.
    pub clock_offset_secs: Option<i64>,
    /// The offset is over two minutes either way: check the box's clock (NTP).
    pub clock_warning: bool,
}

/// What the gateway was doing when a fault happened, in words.
fn doing(during: &str) -> &'static str {
    match during {
        "pull" => "While fetching changes from the central system",
        "push" => "While sending events to the central system",
        "lease" => "While asking the central system for link places",
        "join" => "While joining the central system",
        _ => "While syncing with the central system",
    }
}

/// The last fault as one sentence: what was being done, then why it failed.
pub fn fault_sentence(during: &str, message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    format!("{}: {message}.", doing(during))
}

/// Milliseconds to whole seconds, rounded half away from zero.
fn round_secs(ms: i64) -> i64 {
    let half = if ms < 0 { -500 } else { 500 };
    ms.saturating_add(half) / 1000
}

/// Whether an offset (central minus ours, ms) is worth a warning: over two minutes either way.
pub fn clock_warning(offset_ms: i64) -> bool {
    offset_ms.unsigned_abs() > CLOCK_WARN_SECS.unsigned_abs() * 1000
}

impl Services {
    /// The sync status; `live` is the running task's view, when there is one.
    pub async fn sync_status(&self, live: Option<&SyncHandle>) -> ServiceResult<SyncStatus> {
        let gateway_id = self.store.gateway_id()?;
        let now = self.now();
        let live = live.map(SyncHandle::live);
        let mut status = self
            .store
            .read(move |tx| {
                let state = store::sync::get_state(tx)?;
                let pending = store::outbox::count_events(tx)?;
                let oldest = store::outbox::list_events(tx, 0, 1)?.into_iter().next();
                let dead_letters = store::sync::list_dead_letters(tx)?
                    .into_iter()
                    .map(|d| DeadLetterView {
                        seq: d.event.seq,
                        event_id: d.event.event_id,
                        kind: d.event.kind,
                        occurred_at: d.event.created_at,
                        reason: d.reason,
                        rejected_at: d.at,
                    })
                    .collect();
                let quarantined = store::sync::list_quarantined(tx)?
                    .into_iter()
                    .map(|q| QuarantinedView {
                        kind: q.kind,
                        id: q.id,
                        version: q.version,
                        reason: q.reason,
                        at: q.at,
                    })
                    .collect();
                let mut leases = Vec::new();
                for (link_id, l) in store::sync::list_leases(tx)? {
                    leases.push(LeaseView {
                        link_id,
                        link_name: store::links::get_link(tx, link_id)?.map(|k| k.name),
                        granted: l.granted,
                        used: l.consumed,
                        free: l.free(),
                    });
                }
                let offset = state.clock_offset_ms.map(round_secs);
                Ok(SyncStatus {
                    state: String::new(),
                    summary: String::new(),
                    joined: state.joined.is_some(),
                    central_url: state.joined.as_ref().map(|j| j.url.clone()),
                    site_name: state.joined.as_ref().map(|j| j.site_name.clone()),
                    gateway_id,
                    pending_events: pending,
                    oldest_pending_age_secs: oldest.map(|e| (now - e.created_at).whole_seconds().max(0)),
                    last_pull_ok: state.last_pull_ok,
                    last_push_ok: state.last_push_ok,
                    last_error: state.last_error.as_ref().map(|e| fault_sentence(&e.during, &e.message)),
                    last_error_during: state.last_error.as_ref().map(|e| e.during.clone()),
                    last_error_message: state.last_error.as_ref().map(|e| e.message.clone()),
                    last_error_at: state.last_error.as_ref().map(|e| e.at),
                    next_retry_at: None,
                    events_accepted: state.events_accepted,
                    dead_letters_total: 0,
                    dead_letters,
                    quarantined,
                    leases,
                    clock_offset_secs: offset,
                    clock_warning: state.clock_offset_ms.is_some_and(clock_warning),
                })
                .map(|s| (s, state.credential_refused, state.refetching))
            })
            .await
            .map(|(mut s, refused, refetching)| {
                let online = live.as_ref().is_some_and(|l| l.online);
                s.next_retry_at = live.as_ref().and_then(|l| l.next_retry_at);
                let (state, summary) = if !s.joined {
                    ("standalone", "Not joined to a central system: this gateway is the system of record.".to_string())
                } else if refused {
                    ("credential_refused", "The central system refused this gateway's credential; join again.".to_string())
                } else if online && refetching {
                    ("refetching", "Fetching everything from the central system again.".to_string())
                } else if online {
                    ("online", format!("In sync with the central system; {} events waiting.", s.pending_events))
                } else {
                    ("offline", format!(
                        "The central system cannot be reached now; {} events wait and will be sent when it is back.",
                        s.pending_events
                    ))
                };
                s.state = state.into();
                s.summary = summary;
                s
            })?;
        status.dead_letters_total = u64::try_from(status.dead_letters.len()).unwrap_or(u64::MAX);
        status.dead_letters.truncate(DEAD_LETTERS_SHOWN);
        Ok(status)
    }

    /// Put a dead letter back in the outbox to be sent again, under its own sequence number, so
    /// the central system still sees it once. Audited.
    pub async fn retry_dead_letter(&self, actor: Actor, seq: u64) -> ServiceResult<()> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let letter =
                    store::sync::get_dead_letter(tx, seq)?.ok_or_else(|| ServiceError::NotFound {
                        what: "dead letter",
                        id: seq.to_string(),
                    })?;
                store::sync::remove_dead_letter(tx, seq)?;
                store::outbox::restore_event(tx, &letter.event)?;
                let mut audit = svc.audit("sync.dead_letter_retry", "success", &actor);
                audit.subject = Some(format!("event {seq} ({})", letter.event.kind));
                store::audit::append_audit(tx, &audit)?;
                Ok(())
            })
            .await
    }

    /// Discard a dead letter for good, with the staff member's reason. Audited.
    pub async fn discard_dead_letter(&self, actor: Actor, seq: u64, reason: String) -> ServiceResult<()> {
        let reason = reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(DomainError::invalid("reason", "say why, in 1 to 500 characters").into());
        }
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let letter =
                    store::sync::get_dead_letter(tx, seq)?.ok_or_else(|| ServiceError::NotFound {
                        what: "dead letter",
                        id: seq.to_string(),
                    })?;
                store::sync::remove_dead_letter(tx, seq)?;
                let mut audit = svc.audit("sync.dead_letter_discard", "success", &actor);
                audit.subject = Some(format!("event {seq} ({})", letter.event.kind));
                audit.detail = Some(reason);
                store::audit::append_audit(tx, &audit)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_warns_only_past_two_minutes_either_way() {
        assert!(!clock_warning(0));
        assert!(!clock_warning(120_000));
        assert!(!clock_warning(-120_000));
        assert!(clock_warning(120_001));
        assert!(clock_warning(-120_001));
        assert!(clock_warning(i64::MIN));
        assert_eq!(round_secs(120_600), 121);
        assert_eq!(round_secs(-120_600), -121);
        assert_eq!(round_secs(400), 0);
    }

    #[test]
    fn a_fault_reads_as_one_sentence() {
        assert_eq!(
            fault_sentence("push", "this gateway's credential was refused; join again"),
            "While sending events to the central system: this gateway's credential was refused; join again."
        );
        assert_eq!(
            fault_sentence("pull", "the central system is unavailable (HTTP 503)."),
            "While fetching changes from the central system: the central system is unavailable (HTTP 503)."
        );
        assert!(fault_sentence("other", "x").starts_with("While syncing"));
    }
}
