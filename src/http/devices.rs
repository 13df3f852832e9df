//! Devices over HTTP: pairing requests and the token hand-over (public), staff decisions, rooms, headset sessions.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::rfc3339;
use super::error::{ApiResult, Problem};
use super::extract::{ApiJson, Client};
use crate::domain::device::{Device, DeviceKind, DeviceState, PairingRequest};
use crate::service::auth::Principal;
use crate::service::devices::DeviceChange;

/// A UUID from the path; anything else is a 422 naming `id`.
pub(crate) fn parse_id(raw: &str) -> Result<Uuid, super::error::ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        super::error::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "id: not a UUID",
        )
        .with_field("id")
    })
}

/// Largest pairing request body: a few short fields.
pub const PAIRING_BODY_LIMIT: usize = 2048;

pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pair))
        .routes(routes!(claim))
        .layer(DefaultBodyLimit::max(PAIRING_BODY_LIMIT))
}

pub fn read_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_devices))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
}

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(revoke))
        .routes(routes!(rename))
        .routes(routes!(place))
}

/// A headset (or kiosk tablet) asks to pair.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    #[schema(min_length = 1, max_length = 64, example = "Headset 7")]
    pub name: String,
    #[schema(min_length = 1, max_length = 64, example = "Quest 3")]
    pub model: String,
    #[schema(min_length = 1, max_length = 32, example = "v72.0")]
    pub firmware: String,
    /// 32 to 64 random bytes (or a public key) the device keeps, base64url without padding.
    #[schema(min_length = 43, max_length = 86, pattern = "^[A-Za-z0-9_-]{43,86}$")]
    pub device_key: String,
    /// `headset` (default) or `kiosk`.
    pub kind: Option<DeviceKind>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PairOut {
    pub device_id: Uuid,
    /// Staff see this code too; approve only when both match. The device computes its own from
    /// its key and the certificate it saw (see docs/headset-api.md).
    pub comparison_code: String,
    /// The certificate fingerprint the gateway serves (base64url SHA-256).
    pub fingerprint: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[utoipa::path(post, path = "/api/devices/pair", tag = "devices", request_body = PairRequest, responses(
    (status = 202, body = PairOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn pair(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<PairRequest>,
) -> ApiResult<(StatusCode, Json<PairOut>)> {
    let req = PairingRequest::new(
        req.kind.unwrap_or(DeviceKind::Headset),
        &req.name,
        &req.model,
        &req.firmware,
        &req.device_key,
    )?;
    let fingerprint = state.fingerprint.to_string();
    let ticket = state
        .services
        .request_pairing(req, fingerprint.clone(), client.source())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PairOut {
            device_id: ticket.device_id,
            comparison_code: ticket.comparison_code,
            fingerprint,
            expires_at: rfc3339(ticket.expires_at),
        }),
    ))
}

/// Collect the device token once staff approved the request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub device_id: Uuid,
    #[schema(min_length = 43, max_length = 86, pattern = "^[A-Za-z0-9_-]{43,86}$")]
    pub device_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimOut {
    pub device_id: Uuid,
    /// The device token: send it as `Authorization: Bearer` on every headset call. Given once.
    pub device_token: String,
    pub name: String,
}

#[utoipa::path(post, path = "/api/devices/pair/claim", tag = "devices", request_body = ClaimRequest, responses(
    (status = 200, body = ClaimOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn claim(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> ApiResult<Json<ClaimOut>> {
    let (device, token) = state
        .services
        .claim_pairing(req.device_id, req.device_key)
        .await?;
    Ok(Json(ClaimOut {
        device_id: device.id,
        device_token: token,
        name: device.name,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceOut {
    pub id: Uuid,
    pub kind: DeviceKind,
    pub name: String,
    pub model: String,
    pub firmware: String,
    /// `pending`, `approved`, `rejected` or `revoked`.
    pub state: DeviceState,
    /// A pending request no longer waits (staff can no longer approve it).
    pub lapsed: bool,
    /// Compare with the code the device shows before approving.
    pub comparison_code: String,
    pub room: Option<String>,
    /// Whether the approved device collected its token.
    pub paired: bool,
    #[schema(format = DateTime)]
    pub requested_at: String,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    #[schema(format = DateTime)]
    pub last_seen: Option<String>,
    pub source: Option<String>,
}

fn device_out(d: &Device, now: time::OffsetDateTime) -> DeviceOut {
    DeviceOut {
        id: d.id,
        kind: d.kind,
        name: d.name.clone(),
        model: d.model.clone(),
        firmware: d.firmware.clone(),
        state: d.state,
        lapsed: d.state == DeviceState::Pending && !d.is_live_request(now),
        comparison_code: d.comparison_code.clone(),
        room: d.room.clone(),
        paired: d.token_hash.is_some(),
        requested_at: rfc3339(d.requested_at),
        decided_at: d.decided_at.map(rfc3339),
        decided_by: d.decided_by.clone(),
        last_seen: d.last_seen.map(rfc3339),
        source: d.source.clone(),
    }
}

/// Devices and pairing requests, newest first.
#[utoipa::path(get, path = "/api/devices", tag = "devices", responses(
    (status = 200, body = Vec<DeviceOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_devices(State(state): State<AppState>) -> ApiResult<Json<Vec<DeviceOut>>> {
    let (devices, now) = state.services.list_devices().await?;
    Ok(Json(devices.iter().map(|d| device_out(d, now)).collect()))
}

async fn change(state: &AppState, p: &Principal, id: Uuid, c: DeviceChange) -> ApiResult<Json<DeviceOut>> {
    let d = state.services.change_device(p.actor(), id, c).await?;
    let now = state.services.now();
    Ok(Json(device_out(&d, now)))
}

/// Approve a pairing request (after comparing the codes).
#[utoipa::path(post, path = "/api/devices/{id}/approve", tag = "devices", request_body = super::auth::Empty,
    params(("id" = Uuid, Path, description = "Device ID")), responses(
    (status = 200, body = DeviceOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn approve(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<Json<DeviceOut>> {
    change(&state, &p, parse_id(&id)?, DeviceChange::Approve).await
}

/// Reject a pairing request.
#[utoipa::path(post, path = "/api/devices/{id}/reject", tag = "devices", request_body = super::auth::Empty,
    params(("id" = Uuid, Path, description = "Device ID")), responses(
    (status = 200, body = DeviceOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn reject(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<Json<DeviceOut>> {
    change(&state, &p, parse_id(&id)?, DeviceChange::Reject).await
}

/// Revoke a device: its token stops working and its sessions end at once.
#[utoipa::path(post, path = "/api/devices/{id}/revoke", tag = "devices", request_body = super::auth::Empty,
    params(("id" = Uuid, Path, description = "Device ID")), responses(
    (status = 200, body = DeviceOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn revoke(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<Json<DeviceOut>> {
    change(&state, &p, parse_id(&id)?, DeviceChange::Revoke).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

/// Rename a device.
#[utoipa::path(post, path = "/api/devices/{id}/rename", tag = "devices", request_body = RenameRequest,
    params(("id" = Uuid, Path, description = "Device ID")), responses(
    (status = 200, body = DeviceOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn rename(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> ApiResult<Json<DeviceOut>> {
    change(&state, &p, parse_id(&id)?, DeviceChange::Rename(req.name)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomRequest {
    /// Free text, e.g. "Room 2"; null takes the headset out of any room.
    #[schema(min_length = 1, max_length = 64)]
    pub room: Option<String>,
}

/// Place a headset in a room, so it can offer the participants of the class open there.
#[utoipa::path(post, path = "/api/devices/{id}/room", tag = "devices", request_body = RoomRequest,
    params(("id" = Uuid, Path, description = "Device ID")), responses(
    (status = 200, body = DeviceOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn place(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RoomRequest>,
) -> ApiResult<Json<DeviceOut>> {
    change(&state, &p, parse_id(&id)?, DeviceChange::Room(req.room)).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadsetSessionOut {
    pub id: Uuid,
    pub user_id: String,
    /// "Given F."
    pub user_name: String,
    pub device_id: Uuid,
    pub device_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_seen: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// Active headset sessions.
#[utoipa::path(get, path = "/api/headset-sessions", tag = "devices", responses(
    (status = 200, body = Vec<HeadsetSessionOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_sessions(State(state): State<AppState>) -> ApiResult<Json<Vec<HeadsetSessionOut>>> {
    let views = state.services.list_headset_sessions().await?;
    Ok(Json(
        views
            .into_iter()
            .map(|v| HeadsetSessionOut {
                id: v.session.id,
                user_id: v.session.user_id.to_string(),
                user_name: v.user_name,
                device_id: v.session.device_id,
                device_name: v.device_name,
                created_at: rfc3339(v.session.created_at),
                last_seen: rfc3339(v.session.last_seen),
                expires_at: rfc3339(v.expires_at),
            })
            .collect(),
    ))
}

/// End a headset session (the headset is then asked to log in again).
#[utoipa::path(post, path = "/api/headset-sessions/{id}/end", tag = "devices", request_body = super::auth::Empty,
    params(("id" = Uuid, Path, description = "Session ID")), responses(
    (status = 204, description = "Ended"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn end_session(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<StatusCode> {
    state
        .services
        .end_headset_session(p.actor(), parse_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
