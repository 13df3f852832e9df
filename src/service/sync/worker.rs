//! The `sync` task: push the outbox, keep link leases, pull central changes (long poll), retry faults with full-jitter backoff, wake at once on a new outbox write or `sync now`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::service::Services;
use crate::sync::client::{CentralClient, CentralError, Timeouts};
use crate::sync::credential::CentralCredential;
use crate::sync::seal::KeyPair;
use crate::sync::wire::{EventBatch, LeaseGrant, PAGE_LIMIT_MAX, PUSH_BATCH_MAX, WAIT_SECS_MAX, WireEvent};
use crate::tasks::{Shutdown, Tasks};

/// How the sync task behaves.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub state_dir: PathBuf,
    /// Long-poll wait asked of the central system while nothing is queued here.
    pub poll_wait: u32,
    pub page_limit: u32,
    pub batch: usize,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub timeouts: Timeouts,
    /// Join with this at start when the gateway has not joined yet (config `[central]`).
    pub join_at_start: Option<super::join::JoinInput>,
}

impl SyncSettings {
    pub fn new(state_dir: PathBuf) -> SyncSettings {
        SyncSettings {
            state_dir,
            poll_wait: 25,
            page_limit: PAGE_LIMIT_MAX,
            batch: PUSH_BATCH_MAX,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            timeouts: Timeouts::default(),
            join_at_start: None,
        }
    }
}

/// What the task is doing now, for the status screen (not stored: it is about this process).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSync {
    /// The last cycle reached the central system.
    pub online: bool,
    /// Consecutive failed attempts.
    pub failures: u32,
    pub next_retry_at: Option<OffsetDateTime>,
    pub last_attempt_at: Option<OffsetDateTime>,
}

/// A handle on the running sync task: wake it, read its live state.
#[derive(Debug, Clone, Default)]
pub struct SyncHandle {
    wake: Arc<Notify>,
    live: Arc<Mutex<LiveSync>>,
    pub state_dir: Option<PathBuf>,
}

impl SyncHandle {
    /// The handle of a gateway serving from this state directory (the task starts with [`start`]).
    pub fn for_state_dir(dir: PathBuf) -> SyncHandle {
        SyncHandle {
            state_dir: Some(dir),
            ..SyncHandle::default()
        }
    }

    /// Start a cycle now (`sync now`, a join, a dead letter retried).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn live(&self) -> LiveSync {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, f: impl FnOnce(&mut LiveSync)) {
        f(&mut self.live.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// Full jitter: a random wait in [0, min(cap, base · 2^failures)], never less than the central
/// system's `Retry-After`.
pub fn backoff(base: Duration, cap: Duration, failures: u32, retry_after: Option<Duration>) -> Duration {
    let ceiling = base.saturating_mul(1u32 << failures.min(20)).min(cap);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    let jitter = Duration::from_millis(crate::keys::os_rng().random_range(0..=millis));
    jitter.max(retry_after.unwrap_or_default())
}

/// Start the sync task. It idles while the gateway has not joined a site (standalone).
pub fn start(tasks: &Tasks, services: Services, settings: SyncSettings, handle: SyncHandle) {
    tasks.spawn("sync", run(services, settings, handle, tasks.shutdown()));
}

enum Cycle {
    /// Caught up; the long poll ran its course.
    Idle,
    /// Woken (new write, `sync now`): go again at once.
    Again,
    Stop,
}

async fn run(svc: Services, settings: SyncSettings, handle: SyncHandle, shutdown: Shutdown) {
    let mut cached: Option<(String, CentralClient, Option<KeyPair>)> = None;
    loop {
        if shutdown.is_set() {
            return;
        }
        let state = match svc.sync_position().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "sync: cannot read its state");
                if pause(&svc, &handle, &shutdown, Duration::from_secs(5)).await {
                    return;
                }
                continue;
            }
        };
        let credential = match CentralCredential::load(&settings.state_dir) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "sync: the central credential file cannot be read");
                None
            }
        };
        if credential.is_none()
            && state.joined.is_none()
            && let Some(input) = settings.join_at_start.clone()
        {
            match svc
                .join_central(crate::service::Actor::Cli, &settings.state_dir, input)
                .await
            {
                Ok(j) => {
                    tracing::info!(site = %j.site_name, url = %j.url, "sync: joined the central system's site")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sync: joining with the configured site token failed");
                    let _ = svc.record_sync_fault("join", e.to_string(), false).await;
                    if pause(&svc, &handle, &shutdown, Duration::from_secs(60)).await {
                        return;
                    }
                }
            }
            continue;
        }
        let (Some(cred), Some(_)) = (credential, state.joined.as_ref()) else {
            // Standalone (or half-joined): nothing to do until a join wakes us.
            handle.set(|l| l.online = false);
            if pause(&svc, &handle, &shutdown, Duration::from_secs(30)).await {
                return;
            }
            continue;
        };
        if state.credential_refused {
            handle.set(|l| l.online = false);
            if pause(&svc, &handle, &shutdown, Duration::from_secs(30)).await {
                return;
            }
            continue;
        }
        let key = format!("{}\n{}", cred.url, cred.credential);
        if cached.as_ref().is_none_or(|(k, _, _)| k != &key) {
            match CentralClient::new(&cred.url, &cred.trust, settings.timeouts) {
                Ok(c) => {
                    cached = Some((
                        key,
                        c.with_credential(cred.credential.clone()),
                        cred.key_pair().ok(),
                    ))
                }
                Err(e) => {
                    let _ = svc.record_sync_fault("pull", e.to_string(), false).await;
                    if pause(&svc, &handle, &shutdown, Duration::from_secs(60)).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let Some((_, client, pair)) = cached.as_ref() else {
            continue;
        };
        handle.set(|l| l.last_attempt_at = Some(svc.now()));
        match cycle(&svc, &settings, &handle, &shutdown, client, pair.clone()).await {
            Ok(Cycle::Stop) => return,
            Ok(Cycle::Idle | Cycle::Again) => {
                handle.set(|l| {
                    l.online = true;
                    l.failures = 0;
                    l.next_retry_at = None;
                });
            }
            Err((during, e)) => {
                let refused = e == CentralError::Unauthorized;
                tracing::warn!(during, error = %e, "sync: a cycle failed");
                let _ = svc.record_sync_fault(during, e.to_string(), refused).await;
                let failures = handle.live().failures;
                let retry_after = match &e {
                    CentralError::Unavailable { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let wait = backoff(settings.backoff_base, settings.backoff_cap, failures, retry_after);
                let next = svc.now() + time::Duration::try_from(wait).unwrap_or(time::Duration::MINUTE);
                handle.set(|l| {
                    l.online = false;
                    l.failures = failures.saturating_add(1);
                    l.next_retry_at = Some(next);
                });
                if !refused && pause(&svc, &handle, &shutdown, wait).await {
                    return;
                }
            }
        }
    }
}

/// Wait `d` by the gateway's clock (so a manual clock in tests moves it), or until woken.
/// Returns true when the gateway is stopping.
async fn pause(svc: &Services, handle: &SyncHandle, shutdown: &Shutdown, d: Duration) -> bool {
    let deadline = svc.now() + time::Duration::try_from(d).unwrap_or(time::Duration::MINUTE);
    let mut writes = svc.store.writes();
    writes.borrow_and_update();
    loop {
        if shutdown.is_set() {
            return true;
        }
        let now = svc.now();
        if now >= deadline {
            return false;
        }
        let left = Duration::try_from(deadline - now).unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(left.min(Duration::from_millis(200))) => {}
            () = handle.wake.notified() => return false,
            () = shutdown.clone().wait() => return true,
        }
    }
}

type CycleError = (&'static str, CentralError);

async fn cycle(
    svc: &Services,
    settings: &SyncSettings,
    handle: &SyncHandle,
    shutdown: &Shutdown,
    client: &CentralClient,
    pair: Option<KeyPair>,
) -> Result<Cycle, CycleError> {
    push_all(svc, settings, client).await?;
    lease_all(svc, client).await?;
    // Pull every page there is; the last request may wait (long poll) for something new.
    let mut writes = svc.store.writes();
    loop {
        let state = svc.sync_position().await.map_err(local("pull"))?;
        let outbox_empty = svc.outbox_batch(1).await.map_err(local("pull"))?.is_empty();
        let wait = if outbox_empty {
            settings.poll_wait.min(WAIT_SECS_MAX)
        } else {
            0
        };
        writes.borrow_and_update();
        let asked = state.cursor.clone();
        let asked_epoch = state.epoch.clone();
        let request = client.changes(
            state.cursor.as_deref(),
            state.epoch.as_deref(),
            settings.page_limit.clamp(1, PAGE_LIMIT_MAX),
            wait,
        );
        let page = tokio::select! {
            page = request => page,
            _ = writes.changed(), if wait > 0 => return Ok(Cycle::Again),
            () = handle.wake.notified() => return Ok(Cycle::Again),
            () = shutdown.clone().wait() => return Ok(Cycle::Stop),
        };
        match page {
            // A refetch answered in another epoch than it named (a central system that does not
            // answer 410 there): take that epoch and ask again in it, after backoff. Nothing of
            // this page is applied, and an epoch held before is not taken up again: the page
            // may be a replay.
            Ok(page)
                if asked.is_none()
                    && asked_epoch.as_ref().is_some_and(|e| e != &page.epoch)
                    && (1..=128).contains(&page.epoch.len())
                    && !state.past_epochs.contains(&page.epoch) =>
            {
                svc.begin_refetch(Some(page.epoch.clone()))
                    .await
                    .map_err(local("pull"))?;
                let asked_epoch = asked_epoch.unwrap_or_default();
                return Err((
                    "pull",
                    CentralError::BadAnswer(format!(
                        "a full refetch in epoch {asked_epoch:?} was answered in epoch {:?}; asking again in that epoch",
                        page.epoch
                    )),
                ));
            }
            Ok(page) => {
                let report = svc
                    .apply_central_page(asked, asked_epoch, page, pair.clone())
                    .await
                    .map_err(|e| ("pull", CentralError::BadAnswer(e.to_string())))?;
                if report.outcome.quarantined > 0 {
                    tracing::warn!(count = report.outcome.quarantined, "sync: records quarantined");
                }
                if !report.has_more {
                    return Ok(if wait > 0 { Cycle::Idle } else { Cycle::Again });
                }
            }
            Err(CentralError::Refetch { epoch }) => {
                svc.begin_refetch(epoch).await.map_err(local("pull"))?;
            }
            Err(e) => return Err(("pull", e)),
        }
    }
}

/// Send the lease requests that are due. Only a refused credential ends the cycle: any other
/// failure is recorded for the status screen and the pull goes on; the request is due again
/// next cycle (a give-back included: its slots are lowered only once the central system
/// confirms).
async fn lease_all(svc: &Services, client: &CentralClient) -> Result<(), CycleError> {
    for req in svc.lease_requests().await.map_err(local("lease"))? {
        let failed = match client.lease(&req).await {
            Ok(grant) if grant.link_id == req.link_id => {
                svc.record_lease(grant).await.map_err(local("lease"))?;
                continue;
            }
            Ok(_) => CentralError::BadAnswer("a grant for another link".into()),
            // A link the central system no longer caps or knows: nothing to hold, nothing to
            // give back.
            Err(CentralError::Rejected { status: 404, .. }) => {
                if req.want_free == 0 {
                    let nothing = LeaseGrant {
                        link_id: req.link_id,
                        granted: req.consumed,
                        cap: None,
                        server_time: svc.now(),
                    };
                    svc.record_lease(nothing).await.map_err(local("lease"))?;
                }
                continue;
            }
            Err(CentralError::Unauthorized) => return Err(("lease", CentralError::Unauthorized)),
            Err(e) => e,
        };
        tracing::warn!(link = %req.link_id, error = %failed, "sync: a lease request failed; the pull goes on");
        svc.record_sync_fault("lease", format!("link {}: {failed}", req.link_id), false)
            .await
            .map_err(local("lease"))?;
        if failed.is_transient() {
            break; // the central system is struggling: the rest waits for the next cycle
        }
    }
    Ok(())
}

fn local(during: &'static str) -> impl Fn(crate::service::ServiceError) -> CycleError {
    move |e| {
        (
            during,
            CentralError::BadAnswer(format!("the gateway could not record it: {e}")),
        )
    }
}

/// Push the whole outbox, a batch at a time, in sequence order.
async fn push_all(svc: &Services, settings: &SyncSettings, client: &CentralClient) -> Result<(), CycleError> {
    let gateway_id = svc
        .store
        .gateway_id()
        .map_err(|e| ("push", CentralError::BadAnswer(e.to_string())))?;
    let mut size = settings.batch.clamp(1, PUSH_BATCH_MAX);
    loop {
        let events = svc.outbox_batch(size).await.map_err(local("push"))?;
        if events.is_empty() {
            return Ok(());
        }
        let batch = EventBatch {
            gateway_id: gateway_id.clone(),
            events: events
                .iter()
                .map(|e| WireEvent {
                    seq: e.seq,
                    event_id: e.event_id,
                    kind: e.kind.clone(),
                    occurred_at: e.created_at,
                    data: e.payload.clone(),
                })
                .collect(),
        };
        match client.push(&batch).await {
            Ok(results) => {
                let report = svc.record_push(events, results).await.map_err(local("push"))?;
                if report.accepted + report.duplicate + report.dead_lettered == 0 {
                    return Err((
                        "push",
                        CentralError::BadAnswer("no event of the batch was answered".into()),
                    ));
                }
                size = settings.batch.clamp(1, PUSH_BATCH_MAX);
            }
            // A batch refused for what is in it: find the one event at fault by sending one at a
            // time; a single event refused is a dead letter, and the ones behind it go on.
            Err(CentralError::Rejected { status, detail }) if matches!(status, 400 | 409 | 413 | 422) => {
                if size > 1 {
                    size = 1;
                    continue;
                }
                let Some(first) = events.into_iter().next() else {
                    return Ok(());
                };
                svc.dead_letter_one(first, format!("HTTP {status}: {detail}"))
                    .await
                    .map_err(local("push"))?;
            }
            // Any other 4xx (403, 404, 405: a proxy, a wrong URL) says nothing about the events:
            // nothing is dead-lettered, they stay queued and go again after backoff.
            Err(CentralError::Rejected { status, detail }) => {
                let detail = format!(
                    "{detail}. That is not an answer about the events: they stay queued and are sent again"
                );
                return Err(("push", CentralError::Rejected { status, detail }));
            }
            Err(e) => return Err(("push", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_honours_retry_after() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(300);
        for failures in 0..30 {
            let d = backoff(base, cap, failures, None);
            assert!(d <= cap);
            assert!(d <= base * (1 << failures.min(20)));
        }
        assert!(backoff(base, cap, 0, Some(Duration::from_secs(120))) >= Duration::from_secs(120));
    }
}
