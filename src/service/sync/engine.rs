//! The sync's write transactions: a pulled page with its cursor and epoch, a push's results with the outbox removals and dead letters, lease grants, faults, join and leave.

use time::OffsetDateTime;

use super::apply::{self, ApplyContext, PageOutcome, Pending};
use super::lease;
use crate::domain::DomainError;
use crate::domain::ids::UserId;
use crate::service::{Actor, ServiceError, ServiceResult, Services};
use crate::store::outbox::OutboxEvent;
use crate::store::sync::{CentralEntry, DeadLetter, JoinedSite, SyncFault};
use crate::store::{self, StoreError};
use crate::sync::seal::KeyPair;
use crate::sync::wire::{ChangesPage, EventResults, JoinAnswer, LeaseGrant, LeaseRequest, Outcome};

/// How one page went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReport {
    pub outcome: PageOutcome,
    pub has_more: bool,
    /// This page ended a full refetch; records it did not send were removed.
    pub swept: Option<u32>,
}

/// How one push went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushReport {
    pub accepted: u32,
    pub duplicate: u32,
    pub dead_lettered: u32,
    /// Sent but not answered (they stay queued).
    pub unanswered: u32,
}

fn offset_ms(server: OffsetDateTime, now: OffsetDateTime) -> i64 {
    i64::try_from((server - now).whole_milliseconds()).unwrap_or(i64::MAX)
}

fn numeric(cursor: Option<&str>) -> Option<u64> {
    cursor.and_then(|c| c.parse::<u64>().ok())
}

fn bad(field: &'static str, reason: impl Into<String>) -> ServiceError {
    ServiceError::Domain(DomainError::invalid(field, reason))
}

/// The user an outbox event is about, when it names one.
fn event_user(event: &OutboxEvent) -> Option<UserId> {
    let p = &event.payload;
    let id = p
        .get("user")
        .and_then(|u| u.get("id"))
        .or_else(|| p.get("user_id"))
        .and_then(|v| v.as_str())?;
    Some(UserId::from_canonical(id.to_string()))
}

impl Services {
    /// The cursor and epoch to pull after, and whether the gateway is joined and allowed to sync.
    pub async fn sync_position(&self) -> ServiceResult<store::sync::SyncState> {
        Ok(self.store.read(store::sync::get_state).await?)
    }

    /// Apply one pulled page, its cursor and its epoch in one write transaction. `asked` and
    /// `asked_epoch` are what the page answers. Refused, nothing applied: a cursor that went
    /// backwards, and a page of another epoch than the one asked for (a new epoch comes as
    /// `refetch`, so a stale or replayed page can never pass for a full snapshot; the sync task
    /// takes the epoch of a refetch answered in another one and asks again in it).
    pub async fn apply_central_page(
        &self,
        asked: Option<String>,
        asked_epoch: Option<String>,
        page: ChangesPage,
        gateway_key: Option<KeyPair>,
    ) -> ServiceResult<PageReport> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = svc.now();
                let mut state = store::sync::get_state(tx)?;
                if state.joined.is_none() {
                    return Err(ServiceError::Domain(DomainError::Conflict("this gateway has left its site".into())));
                }
                if let Some(asked_epoch) = &asked_epoch
                    && asked_epoch != &page.epoch
                {
                    return Err(bad(
                        "epoch",
                        format!(
                            "the central system answered for epoch {:?} when asked for {asked_epoch:?}; nothing applied",
                            page.epoch
                        ),
                    ));
                }
                let same_epoch = state.epoch.as_deref() == Some(page.epoch.as_str());
                if page.epoch.is_empty() || page.epoch.len() > 128 {
                    return Err(bad("epoch", "must be 1 to 128 characters"));
                }
                if page.cursor.is_empty() || page.cursor.len() > 256 {
                    return Err(bad("cursor", "must be 1 to 256 characters"));
                }
                if same_epoch
                    && let (Some(before), Some(after)) = (numeric(asked.as_deref()), numeric(Some(&page.cursor)))
                    && after < before
                {
                    return Err(bad(
                        "cursor",
                        format!("the central cursor went backwards ({before} to {after}); nothing applied"),
                    ));
                }
                if !same_epoch {
                    // A new epoch: this page opens a full refetch; the outbox is untouched, so
                    // every local event not yet accepted is still sent.
                    state.generation += 1;
                    state.refetching = true;
                    state.new_epoch_refetch = true;
                    state.epoch = Some(page.epoch.clone());
                    tracing::info!(epoch = %page.epoch, "sync: the central epoch changed; refetching everything");
                }
                let pending = Pending::read(tx)?;
                let ctx = ApplyContext {
                    keys: &svc.keys,
                    gateway_key: gateway_key.as_ref(),
                    generation: state.generation,
                    new_epoch: state.refetching && state.new_epoch_refetch,
                    now,
                };
                let outcome = apply::apply_changes(tx, &ctx, &pending, &page.changes)?;
                let mut swept = None;
                if !page.has_more && state.refetching {
                    swept = Some(apply::sweep_unseen(tx, state.generation)?);
                    state.refetching = false;
                    state.new_epoch_refetch = false;
                }
                state.cursor = Some(page.cursor.clone());
                state.last_pull_ok = Some(now);
                state.clock_offset_ms = Some(offset_ms(page.server_time, now));
                store::sync::put_state(tx, &state)?;
                Ok(PageReport {
                    outcome,
                    has_more: page.has_more,
                    swept,
                })
            })
            .await
    }

    /// Start a full refetch (the central system answered `refetch`): no cursor, a new generation.
    pub async fn begin_refetch(&self, epoch: Option<String>) -> ServiceResult<()> {
        self.store
            .write(move |tx| {
                let mut state = store::sync::get_state(tx)?;
                // Without an epoch named, ask with none: the next page names it.
                let epoch = epoch.filter(|e| !e.is_empty() && e.len() <= 128);
                state.new_epoch_refetch |= epoch.is_some() && epoch != state.epoch;
                state.leave_epoch(epoch.as_deref());
                state.epoch = epoch;
                state.cursor = None;
                state.generation += 1;
                state.refetching = true;
                store::sync::put_state(tx, &state)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }

    /// The oldest queued events, in sequence order.
    pub async fn outbox_batch(&self, limit: usize) -> ServiceResult<Vec<OutboxEvent>> {
        Ok(self
            .store
            .read(move |tx| store::outbox::list_events(tx, 0, limit))
            .await?)
    }

    /// Record what the central system did with a batch: accepted and duplicate events leave the
    /// outbox, rejected ones become dead letters (audited), central user IDs are kept. One
    /// write transaction.
    pub async fn record_push(
        &self,
        sent: Vec<OutboxEvent>,
        results: EventResults,
    ) -> ServiceResult<PushReport> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = svc.now();
                let mut state = store::sync::get_state(tx)?;
                let mut report = PushReport::default();
                let mut answered = std::collections::HashSet::new();
                for result in &results.results {
                    let Some(event) = sent.iter().find(|e| e.seq == result.seq) else {
                        continue; // an answer for an event not sent: ignored
                    };
                    if !answered.insert(result.seq) || store::outbox::get_event(tx, event.seq)?.is_none() {
                        continue;
                    }
                    match result.outcome {
                        Outcome::Accepted | Outcome::Duplicate => {
                            if result.outcome == Outcome::Accepted {
                                report.accepted += 1;
                            } else {
                                report.duplicate += 1;
                            }
                            store::outbox::remove_event(tx, event.seq)?;
                            if let (Some(central), Some(local)) = (&result.central_user_id, event_user(event))
                            {
                                note_central_user(tx, &local, central, state.generation)?;
                            }
                        }
                        Outcome::Rejected => {
                            report.dead_lettered += 1;
                            let reason: String = result
                                .reason
                                .clone()
                                .unwrap_or_else(|| "rejected without a reason".into())
                                .chars()
                                .take(500)
                                .collect();
                            store::outbox::remove_event(tx, event.seq)?;
                            store::sync::put_dead_letter(
                                tx,
                                &DeadLetter {
                                    event: event.clone(),
                                    reason: reason.clone(),
                                    at: now,
                                },
                            )?;
                            let mut audit = svc.audit("sync.dead_letter", "failure", &Actor::Central);
                            audit.subject = Some(format!("event {} ({})", event.seq, event.kind));
                            audit.detail = Some(reason);
                            store::audit::append_audit(tx, &audit)?;
                        }
                    }
                }
                report.unanswered = u32::try_from(sent.len() - answered.len()).unwrap_or(u32::MAX);
                state.events_accepted += u64::from(report.accepted + report.duplicate);
                state.last_push_ok = Some(now);
                state.clock_offset_ms = Some(offset_ms(results.server_time, now));
                store::sync::put_state(tx, &state)?;
                Ok::<_, ServiceError>(report)
            })
            .await
    }

    /// One event alone refused as a whole request (a 4xx for a batch of one): a dead letter.
    pub async fn dead_letter_one(&self, event: OutboxEvent, reason: String) -> ServiceResult<()> {
        let results = EventResults {
            results: vec![crate::sync::wire::EventResult {
                seq: event.seq,
                outcome: Outcome::Rejected,
                reason: Some(reason),
                central_user_id: None,
            }],
            server_time: self.now(),
        };
        self.record_push(vec![event], results).await.map(|_| ())
    }

    /// Lease requests due now (give-backs included).
    pub async fn lease_requests(&self) -> ServiceResult<Vec<LeaseRequest>> {
        let svc = self.clone();
        self.store
            .write(move |tx| Ok::<_, ServiceError>(lease::due_requests(tx, svc.now())?))
            .await
    }

    pub async fn record_lease(&self, grant: LeaseGrant) -> ServiceResult<()> {
        self.store
            .write(move |tx| {
                lease::record_grant(tx, &grant)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }

    /// Note what went wrong, in plain words, for the status screen. A refused credential stops
    /// the sync until the gateway joins again.
    pub async fn record_sync_fault(
        &self,
        during: &str,
        message: String,
        credential_refused: bool,
    ) -> ServiceResult<()> {
        let svc = self.clone();
        let during = during.to_string();
        self.store
            .write(move |tx| {
                let mut state = store::sync::get_state(tx)?;
                state.last_error = Some(SyncFault {
                    at: svc.now(),
                    during,
                    message,
                });
                if credential_refused && !state.credential_refused {
                    state.credential_refused = true;
                    let audit = svc.audit("sync.credential_refused", "failure", &Actor::Central);
                    store::audit::append_audit(tx, &audit)?;
                }
                store::sync::put_state(tx, &state)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }

    /// A join went through: the site, the epoch to start from, a full first pull. Audited.
    pub async fn record_join(&self, actor: Actor, url: String, answer: JoinAnswer) -> ServiceResult<()> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut state = store::sync::get_state(tx)?;
                let now = svc.now();
                state.joined = Some(JoinedSite {
                    url: url.clone(),
                    site_id: answer.site_id,
                    site_name: answer.site_name.clone(),
                    central_public_key: answer.central_public_key.clone(),
                    joined_at: now,
                });
                state.new_epoch_refetch |= state.epoch.as_ref().is_some_and(|e| e != &answer.epoch);
                state.leave_epoch(Some(&answer.epoch));
                state.epoch = Some(answer.epoch.clone());
                state.cursor = None;
                state.generation += 1;
                state.refetching = true;
                state.credential_refused = false;
                state.last_error = None;
                state.clock_offset_ms = Some(offset_ms(answer.server_time, now));
                store::sync::put_state(tx, &state)?;
                let mut audit = svc.audit("central.join", "success", &actor);
                audit.subject = Some(format!("site {} ({})", answer.site_name, answer.site_id));
                audit.detail = Some(url);
                store::audit::append_audit(tx, &audit)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }

    /// A leave: the sync forgets the site (state, mappings, leases). Local data and the outbox
    /// stay; a later join sends what is still queued. Audited.
    pub async fn record_leave(&self, actor: Actor) -> ServiceResult<()> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let state = store::sync::get_state(tx)?;
                store::sync::clear_all(tx)?;
                let mut audit = svc.audit("central.leave", "success", &actor);
                audit.subject = state
                    .joined
                    .map(|j| format!("site {} ({})", j.site_name, j.site_id));
                store::audit::append_audit(tx, &audit)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }
}

/// The central system gave a site user its central ID: keep it on the user and map it, so the
/// pulled record lands on the same user (their site ID, badge and PIN keep working).
fn note_central_user(
    tx: &redb::WriteTransaction,
    local: &UserId,
    central: &str,
    generation: u64,
) -> Result<(), StoreError> {
    if central.is_empty() || central.len() > 64 {
        return Ok(());
    }
    if let Some(mut user) = store::users::get_user(tx, local)? {
        if user.central_id.as_deref() == Some(central) {
            return Ok(());
        }
        user.central_id = Some(central.to_string());
        store::users::update_user(tx, &user)?;
    }
    if store::sync::get_central(tx, "user", central)?.is_none() {
        store::sync::put_central(
            tx,
            "user",
            central,
            &CentralEntry {
                local: local.as_str().to_string(),
                version: 0,
                generation,
                deleted: false,
            },
        )?;
    }
    Ok(())
}
