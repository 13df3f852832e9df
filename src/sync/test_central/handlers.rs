//! The test central's `/v1` endpoints (the contract of `sync::central_api`): join, leave, changes (paged, long poll), events and leases, each spoiled by the fault plan when it says so.
//!
//! - Every call but join needs `Authorization: Bearer <credential>`; otherwise 401
//!   `unauthorized`. Errors are problem+json [`CentralProblem`]s: `unauthorized` (401),
//!   `refetch` (410, with the current `epoch`), `invalid` (422: a malformed body, query or
//!   cursor), `not_found` (404), `conflict` (409: a `seq` reused with another `event_id`),
//!   `too_large` (413), `internal` (500), `unavailable` (503).
//! - Every answer carries `server_time`: the central clock plus its configured skew.
//! - `GET /v1/changes`: `limit` 1 to 1000 (default 500), `wait` 0 to 30 seconds. An `epoch` that
//!   is not the current one answers 410 `refetch`, with or without a cursor; so does a cursor
//!   without an epoch, or one older than the horizon (or newer than the log). No cursor and no
//!   epoch reads the current epoch's snapshot. With `wait` and nothing new, the request is held until
//!   something is appended (then answered at once) or the wait ends (an empty page, same cursor).
//!   Credentials are sealed to the asking gateway's public key as the page is written.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use super::faults::{Answer, BadField, Endpoint, Fault};
use super::fold::Refusal;
use super::shared::Shared;
use super::state::{ClearCredential, Cursor, Entry, Page};
use crate::sync::seal;
use crate::sync::wire::{
    CentralProblem, ChangesPage, ChangesQuery, EventBatch, EventResults, JoinAnswer, JoinRequest, LeaseGrant,
    LeaseRequest, LeaveRequest, PAGE_BYTES_MAX, PAGE_LIMIT_MAX, PUSH_BATCH_MAX, SealedOtp, WAIT_SECS_MAX,
    WireCredential,
};

type Ctx = State<Arc<Shared>>;

const DEFAULT_LIMIT: u32 = 500;

impl From<Refusal> for Answer {
    fn from(r: Refusal) -> Answer {
        match r {
            Refusal::Unauthorized(why) => Answer::problem(StatusCode::UNAUTHORIZED, "unauthorized", why),
            Refusal::Invalid(why) => Answer::problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why),
            Refusal::NotFound(why) => Answer::problem(StatusCode::NOT_FOUND, "not_found", why),
            Refusal::Conflict(why) => Answer::problem(StatusCode::CONFLICT, "conflict", why),
        }
    }
}

/// Run one request: take its fault, refuse early if the fault says so, else do the work and
/// deliver the answer (late, cut or dribbled if the fault says so).
async fn serve<F>(shared: &Shared, endpoint: Endpoint, work: F) -> Response
where
    F: AsyncFnOnce(Option<&Fault>) -> Result<Answer, Answer>,
{
    let fault = shared.faults.take(endpoint);
    if let Some(refusal) = Answer::refusal_for(fault.as_ref()) {
        return refusal.deliver(None).await;
    }
    let answer = work(fault.as_ref()).await.unwrap_or_else(|a| a);
    answer.deliver(fault.as_ref()).await
}

pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        Answer::problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{at}: {}", e.inner()),
        )
    })
}

/// The gateway a request's bearer credential names; a departed one only when `departed_ok`.
fn gateway(shared: &Shared, headers: &HeaderMap, departed_ok: bool) -> Result<String, Answer> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let found = credential.and_then(|c| shared.read(|s| s.authenticate(c)));
    match found {
        Some((id, active)) if active || departed_ok => Ok(id),
        _ => Err(Refusal::Unauthorized("a gateway credential is needed").into()),
    }
}

fn same_gateway(asked: &str, credential_of: &str) -> Result<(), Answer> {
    if asked == credential_of {
        Ok(())
    } else {
        Err(Refusal::Invalid("gateway_id is not the gateway of this credential".into()).into())
    }
}

pub async fn join(State(shared): Ctx, body: Bytes) -> Response {
    serve(&shared, Endpoint::Join, async |_| {
        let req: JoinRequest = parse(&body)?;
        let credential = shared.change(|s| s.join(&req))?;
        let answer = shared.read(|s| JoinAnswer {
            gateway_id: req.gateway_id,
            site_id: s.site_id,
            site_name: s.site_name.clone(),
            credential,
            central_public_key: shared.key.public_b64(),
            epoch: s.epoch.clone(),
            server_time: shared.now(),
        });
        Ok(Answer::json(StatusCode::OK, &answer))
    })
    .await
}

pub async fn leave(State(shared): Ctx, headers: HeaderMap, body: Bytes) -> Response {
    serve(&shared, Endpoint::Leave, async |_| {
        let gw = gateway(&shared, &headers, true)?;
        let req: LeaveRequest = parse(&body)?;
        same_gateway(&req.gateway_id, &gw)?;
        shared.change(|s| s.leave(&gw, &req));
        Ok(Answer::empty(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn events(State(shared): Ctx, headers: HeaderMap, body: Bytes) -> Response {
    serve(&shared, Endpoint::Events, async |fault| {
        let gw = gateway(&shared, &headers, false)?;
        let batch: EventBatch = parse(&body)?;
        same_gateway(&batch.gateway_id, &gw)?;
        if batch.events.len() > PUSH_BATCH_MAX {
            return Err(Answer::problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("at most {PUSH_BATCH_MAX} events in one batch"),
            ));
        }
        let forced = |index: usize, seq: u64| match fault {
            Some(Fault::RejectEvent {
                seq: want_seq,
                index: want_index,
                reason,
            }) if *want_seq == Some(seq) || *want_index == Some(index) => Some(reason.clone()),
            _ => None,
        };
        let now = shared.now();
        let results = shared.change(|s| s.fold_events(&gw, &batch.events, forced, now))?;
        Ok(Answer::json(
            StatusCode::OK,
            &EventResults {
                results,
                server_time: shared.now(),
            },
        ))
    })
    .await
}

pub async fn leases(State(shared): Ctx, headers: HeaderMap, body: Bytes) -> Response {
    serve(&shared, Endpoint::Leases, async |_| {
        let gw = gateway(&shared, &headers, false)?;
        let req: LeaseRequest = parse(&body)?;
        let (granted, cap) = shared.change(|s| s.lease(&gw, &req))?;
        Ok(Answer::json(
            StatusCode::OK,
            &LeaseGrant {
                link_id: req.link_id,
                granted,
                cap: Some(cap),
                server_time: shared.now(),
            },
        ))
    })
    .await
}

pub async fn changes(State(shared): Ctx, headers: HeaderMap, uri: Uri) -> Response {
    serve(&shared, Endpoint::Changes, async |fault| {
        let gw = gateway(&shared, &headers, false)?;
        let Query(q) = Query::<ChangesQuery>::try_from_uri(&uri)
            .map_err(|e| Answer::problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.body_text()))?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        let wait = q.wait.unwrap_or(0);
        if !(1..=PAGE_LIMIT_MAX).contains(&limit) || wait > WAIT_SECS_MAX {
            return Err(Refusal::Invalid(format!(
                "limit is 1 to {PAGE_LIMIT_MAX}, wait 0 to {WAIT_SECS_MAX}"
            ))
            .into());
        }
        let cursor = Cursor::parse(q.cursor.as_deref())
            .ok_or_else(|| Refusal::Invalid("not a cursor this central system gave out".into()))?;
        match fault {
            Some(Fault::EpochChange) => {
                shared.change(|s| s.bump_epoch());
            }
            Some(Fault::RepeatPage) => {
                let last = shared
                    .last_pages
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&gw)
                    .cloned();
                if let Some(mut page) = last {
                    page.server_time = shared.now();
                    return Ok(Answer::json(StatusCode::OK, &page));
                }
            }
            _ => {}
        }
        let back = match fault {
            Some(Fault::OverlapPage { back }) => *back,
            _ => 0,
        };
        let mut rx = shared.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
        let (page, epoch, key) = loop {
            let read = shared.read(|s| {
                // Another epoch named is stale with or without a cursor: only a 410 moves a
                // gateway on to the new one.
                let unchecked = matches!(fault, Some(Fault::EpochUnchecked)) && cursor == Cursor::Start;
                let stale = match q.epoch.as_deref() {
                    Some(epoch) => epoch != s.epoch && !unchecked,
                    None => cursor != Cursor::Start,
                };
                if stale || !s.cursor_valid(&cursor) {
                    return Err(s.epoch.clone());
                }
                let key = s
                    .gateways
                    .get(&gw)
                    .map(|g| g.public_key.clone())
                    .unwrap_or_default();
                Ok((s.page(cursor, limit as usize, back), s.epoch.clone(), key))
            });
            let (page, epoch, key) = read.map_err(|epoch| {
                Answer::problem_with(
                    StatusCode::GONE,
                    CentralProblem {
                        code: "refetch".into(),
                        detail: Some("start again from no cursor in this epoch".into()),
                        epoch: Some(epoch),
                    },
                )
            })?;
            if !page.entries.is_empty() || wait == 0 {
                break (page, epoch, key);
            }
            // Something changed (maybe not a record): read again; the deadline ends the wait.
            if !matches!(tokio::time::timeout_at(deadline, rx.changed()).await, Ok(Ok(()))) {
                break (page, epoch, key);
            }
        };
        let page = written(&shared, page, cursor, &epoch, &key, fault)?;
        if fault.is_none() {
            shared
                .last_pages
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(gw.clone(), page.clone());
        }
        if matches!(fault, Some(Fault::OversizePage)) {
            let mut value = serde_json::to_value(&page).map_err(internal)?;
            value["padding"] = json!("x".repeat(PAGE_BYTES_MAX + 1));
            return Ok(Answer::json(StatusCode::OK, &value));
        }
        Ok(Answer::json(StatusCode::OK, &page))
    })
    .await
}

/// A page written for one gateway: credentials sealed to its key, then the page fault applied.
fn written(
    shared: &Shared,
    page: Page,
    asked: Cursor,
    epoch: &str,
    key: &str,
    fault: Option<&Fault>,
) -> Result<ChangesPage, Answer> {
    let mut changes = Vec::with_capacity(page.entries.len() + 2);
    let mut stale_done = false;
    for entry in &page.entries {
        changes.push(change_json(entry, key)?);
        if matches!(fault, Some(Fault::Reorder))
            && !stale_done
            && let Some((version, record)) = shared.read(|s| s.previous(&entry.kind, &entry.id))
        {
            let stale = Entry {
                version,
                record,
                ..entry.clone()
            };
            changes.push(change_json(&stale, key)?);
            stale_done = true;
        }
    }
    match fault {
        Some(Fault::UnknownKind) => changes.insert(
            0,
            json!({"kind": "spaceship", "id": Uuid::now_v7(), "version": 1, "deleted": false,
                   "record": {"name": "Enterprise"}}),
        ),
        Some(Fault::InvalidRecord { field }) => changes.insert(0, bad_user(*field, shared)),
        _ => {}
    }
    let cursor = match fault {
        Some(Fault::CursorBackwards) => asked.after().saturating_sub(1).to_string(),
        _ => page.cursor.text(),
    };
    Ok(ChangesPage {
        epoch: epoch.to_string(),
        cursor,
        has_more: page.has_more,
        server_time: shared.now(),
        changes,
    })
}

fn change_json(entry: &Entry, key: &str) -> Result<Value, Answer> {
    let record = match (&entry.record, entry.kind.as_str()) {
        (Some(clear), "credential") => Some(sealed_credential(clear, key)?),
        (record, _) => record.clone(),
    };
    Ok(json!({
        "kind": entry.kind,
        "id": entry.id,
        "version": entry.version,
        "deleted": record.is_none(),
        "record": record,
    }))
}

fn sealed_credential(clear: &Value, key: &str) -> Result<Value, Answer> {
    let clear: ClearCredential = serde_json::from_value(clear.clone()).map_err(internal)?;
    let pin = clear
        .pin
        .map(|p| seal::seal(key, &p))
        .transpose()
        .map_err(internal)?;
    let otp = match clear.otp {
        Some(o) => Some(SealedOtp {
            code: seal::seal(key, &o.code).map_err(internal)?,
            expires_at: o.expires_at,
        }),
        None => None,
    };
    serde_json::to_value(WireCredential { pin, otp }).map_err(internal)
}

fn bad_user(field: BadField, shared: &Shared) -> Value {
    let mut record = json!({
        "given_name": "Ada", "family_name": "Bad", "role": "trainee", "access_level": "full",
        "status": "active", "created_at": super::fold::rfc3339(shared.now()),
    });
    match field {
        BadField::Email => record["email"] = json!("not-an-email"),
        BadField::LongGivenName => record["given_name"] = json!("A".repeat(10_000)),
    }
    json!({"kind": "user", "id": format!("Cbad{}", Uuid::now_v7().simple()), "version": 1,
           "deleted": false, "record": record})
}

fn internal(e: impl std::fmt::Display) -> Answer {
    tracing::warn!(error = %e, "test central: internal error");
    Answer::problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
}

/// 404 for any other path.
pub async fn not_found(uri: Uri) -> Response {
    Answer::problem(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no endpoint {}", uri.path()),
    )
    .deliver(None)
    .await
}
