//! Sync over HTTP: its status for every staff role; "sync now" and retrying or discarding a dead letter for managers; the central side's OpenAPI document (public: it holds no secrets).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use crate::service::auth::Principal;
use crate::service::sync::status::SyncStatus;

pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(central_openapi))
}

/// Every staff member may read the status (as the staff status page).
pub fn read_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// Managers and admins wake the sync and decide about dead letters.
pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_now))
        .routes(routes!(retry))
        .routes(routes!(discard))
}

/// A dead letter's sequence number from the path; anything else is a 422 naming `seq`.
fn parse_seq(raw: &str) -> Result<u64, ApiError> {
    raw.trim().parse::<u64>().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "seq: not an event sequence number",
        )
        .with_field("seq")
    })
}

/// The sync with the central system: joined or not, online, what waits, what went wrong,
/// dead letters, quarantined records, leased link slots and the clock offset.
#[utoipa::path(get, path = "/api/sync/status", tag = "sync", responses(
    (status = 200, body = SyncStatus),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn status(State(state): State<AppState>) -> ApiResult<Json<SyncStatus>> {
    let svc = &state.services;
    Ok(Json(svc.sync_status(Some(&svc.sync)).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncNowOut {
    /// The sync's state when asked (`standalone`: there is nothing to sync with).
    pub state: String,
    pub summary: String,
}

/// Start a sync cycle now instead of at the next one. Answers at once; the status shows how it went.
#[utoipa::path(post, path = "/api/sync/now", tag = "sync", request_body = super::auth::Empty, responses(
    (status = 202, body = SyncNowOut, description = "The sync task was woken"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn sync_now(
    State(state): State<AppState>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<(StatusCode, Json<SyncNowOut>)> {
    let svc = &state.services;
    svc.sync.wake();
    let s = svc.sync_status(Some(&svc.sync)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SyncNowOut {
            state: s.state,
            summary: s.summary,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterDone {
    pub seq: u64,
}

/// Send a dead letter again (it goes back in the outbox under its own sequence number). Audited.
#[utoipa::path(post, path = "/api/sync/dead-letters/{seq}/retry", tag = "sync", request_body = super::auth::Empty,
    params(("seq" = u64, Path, description = "The event's sequence number")), responses(
    (status = 200, body = DeadLetterDone),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json", description = "No dead letter with this number"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn retry(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(seq): Path<String>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<Json<DeadLetterDone>> {
    let seq = parse_seq(&seq)?;
    state.services.retry_dead_letter(p.actor(), seq).await?;
    state.services.sync.wake();
    Ok(Json(DeadLetterDone { seq }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardRequest {
    /// Why it is dropped for good: kept in the audit log.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Drop a dead letter for good, saying why. Audited.
#[utoipa::path(post, path = "/api/sync/dead-letters/{seq}/discard", tag = "sync", request_body = DiscardRequest,
    params(("seq" = u64, Path, description = "The event's sequence number")), responses(
    (status = 200, body = DeadLetterDone),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json", description = "No dead letter with this number"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json", description = "No reason, or one over 500 characters"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn discard(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(seq): Path<String>,
    ApiJson(req): ApiJson<DiscardRequest>,
) -> ApiResult<Json<DeadLetterDone>> {
    let seq = parse_seq(&seq)?;
    state
        .services
        .discard_dead_letter(p.actor(), seq, req.reason)
        .await?;
    Ok(Json(DeadLetterDone { seq }))
}

/// The OpenAPI document of the endpoints a central system implements for sitegate's sync (v1).
/// See docs/sync-protocol.md for the rules.
#[utoipa::path(get, path = "/api/sync/central-openapi.json", tag = "sync", responses(
    (status = 200, description = "OpenAPI 3.1 document of the central side", content_type = "application/json"),
))]
async fn central_openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::sync::central_api::document_json(),
    )
        .into_response()
}
