//! Liveness, readiness, the API document and the staff status page.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult, Problem};
use crate::store;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi_json))
}

pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Alive: answers while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready: the store is open and every background task runs.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = Health),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let dead = state.tasks.dead();
    if !dead.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("background task stopped: {}", dead.join(", ")),
        ));
    }
    state
        .services
        .store
        .read(store::users::count_users)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "readiness: store unreadable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the store cannot be read",
            )
        })?;
    Ok(Json(Health { status: "ready" }))
}

/// This document: the whole API, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(State(state): State<AppState>) -> Response {
    let body = state.openapi.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub version: &'static str,
    pub gateway_id: String,
    pub site_name: String,
    /// SHA-256 of the TLS certificate, base64url.
    pub fingerprint: String,
    pub users: u64,
    /// Events waiting for the central system.
    pub outbox_pending: u64,
    /// The central change cursor this gateway has applied up to (`null` standalone or before
    /// the first page); `GET /api/sync/status` has the rest.
    pub sync_cursor: Option<String>,
    pub schema_version: u32,
    /// mDNS announcing: whether headsets can find the gateway by themselves. Its trouble never
    /// makes `/readyz` fail.
    pub discovery: crate::discovery::DiscoveryStatus,
    /// The sync with the central system, in brief (`GET /api/sync/status` has the rest).
    pub sync: SyncBrief,
}

/// The sync's state in brief.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncBrief {
    /// `standalone`, `online`, `offline`, `credential_refused` or `refetching`.
    pub state: String,
    pub summary: String,
    pub dead_letters: u64,
}

/// The gateway's status, for staff screens.
#[utoipa::path(get, path = "/api/status", tag = "health", responses(
    (status = 200, body = Status),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn status(State(state): State<AppState>) -> ApiResult<Json<Status>> {
    let (users, outbox_pending, sync_cursor) = state
        .services
        .store
        .read(|tx| {
            Ok((
                store::users::count_users(tx)?,
                store::outbox::count_events(tx)?,
                store::sync::get_state(tx)?.cursor,
            ))
        })
        .await
        .map_err(crate::service::ServiceError::from)?;
    let schema_version = state
        .services
        .store
        .schema_version()
        .map_err(crate::service::ServiceError::from)?;
    let svc = &state.services;
    let sync = svc.sync_status(Some(&svc.sync)).await?;
    let dead_letters = svc
        .store
        .read(store::sync::count_dead_letters)
        .await
        .map_err(crate::service::ServiceError::from)?;
    Ok(Json(Status {
        version: env!("CARGO_PKG_VERSION"),
        gateway_id: state.gateway_id.to_string(),
        site_name: state.services.settings.site_name.clone(),
        fingerprint: state.fingerprint.to_string(),
        users,
        outbox_pending,
        sync_cursor,
        schema_version,
        discovery: state.discovery.status(),
        sync: SyncBrief {
            state: sync.state,
            summary: sync.summary,
            dead_letters,
        },
    }))
}
