//! The headset API: login on an approved device, the room roster, the session's user and training, progress events, logout.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::rfc3339;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use super::training::TrainingOut;
use crate::domain::device::{Device, ProgressEvent, ProgressKind};
use crate::domain::ids::UserId;
use crate::domain::training::AssignedTraining;
use crate::domain::user::{AccessLevel, User};
use crate::service::headset::HeadsetPrincipal;
use crate::service::security::Presented;

/// The header carrying a headset session token (the device token is the bearer).
pub const SESSION_HEADER: &str = "x-sitegate-session";

pub fn device_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(roster))
}

pub fn session_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(progress))
        .routes(routes!(logout))
}

fn bearer(req: &Request) -> Option<String> {
    let auth = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_string())
}

/// Authenticate the device (and, for session routes, its headset session).
pub async fn require_device(
    State((state, need_session)): State<(AppState, bool)>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(&req) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "device_unpaired",
            "send the device token from pairing as Authorization: Bearer",
        )
        .into_response();
    };
    let device = match state.services.authenticate_device(&token).await {
        Ok(d) => d,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if need_session {
        let session = req
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Some(session) = session else {
            return ApiError::unauthenticated().into_response();
        };
        match state.services.authenticate_headset(device, &session).await {
            Ok(p) => {
                req.extensions_mut().insert(p);
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        req.extensions_mut().insert(device);
    }
    next.run(req).await
}

/// Log a user in: `{user_id, pin}`, `{user_id, totp}`, `{otp}`, or `{pin}` alone where the site allows it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadsetLoginRequest {
    #[schema(min_length = 1, max_length = 64, example = "ABCDE-FGHJK")]
    pub user_id: Option<String>,
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub pin: Option<String>,
    #[schema(min_length = 1, max_length = 16, example = "492039")]
    pub totp: Option<String>,
    #[schema(min_length = 1, max_length = 16, example = "12345678")]
    pub otp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadsetUserOut {
    pub id: String,
    /// "Given Family".
    pub display_name: String,
    /// "Given F.", for shared screens.
    pub short_name: String,
    pub language: String,
    pub access_level: AccessLevel,
}

impl From<&User> for HeadsetUserOut {
    fn from(u: &User) -> Self {
        HeadsetUserOut {
            id: u.id.to_string(),
            display_name: u.name.full(),
            short_name: u.name.short(),
            language: u.language.as_str().to_string(),
            access_level: u.access_level,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadsetLoginOut {
    /// The session token: send it as `X-Sitegate-Session` with the device token.
    pub token: String,
    pub session_id: Uuid,
    /// When the session ends if left idle (each request moves it on, up to the absolute end).
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub idle_timeout_secs: i64,
    #[schema(format = DateTime)]
    pub absolute_expires_at: String,
    pub user: HeadsetUserOut,
    /// Assigned training with status (pending, completed, expired) and due dates.
    pub training: Vec<TrainingOut>,
}

fn training_out(t: &[AssignedTraining]) -> Vec<TrainingOut> {
    t.iter().map(TrainingOut::from).collect()
}

fn credential(req: HeadsetLoginRequest) -> Result<Presented, ApiError> {
    let invalid = |msg: &str| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", msg).with_field("credential")
    };
    let user = req.user_id.as_deref().map(UserId::parse).transpose()?;
    Ok(match (user, req.pin, req.totp, req.otp) {
        (Some(user_id), Some(pin), None, None) => Presented::Pin {
            user_id,
            pin,
            totp: None,
        },
        (Some(user_id), None, Some(code), None) => Presented::Totp { user_id, code },
        (None, None, None, Some(code)) => Presented::Otp { code },
        (None, Some(pin), None, None) => Presented::PinOnly { pin },
        (Some(_), None, None, None) => return Err(invalid("give a pin or a totp code with the user_id")),
        (Some(_), None, None, Some(_)) => {
            return Err(invalid("a one-time password is entered alone, without user_id"));
        }
        _ => {
            return Err(invalid(
                "give exactly one credential: {user_id, pin}, {user_id, totp} or {otp}",
            ));
        }
    })
}

#[utoipa::path(post, path = "/api/headset/login", tag = "headset", request_body = HeadsetLoginRequest,
    params(("Authorization" = String, Header, description = "Bearer <device token>")),
    responses(
    (status = 200, body = HeadsetLoginOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn login(
    State(state): State<AppState>,
    Extension(device): Extension<Device>,
    ApiJson(req): ApiJson<HeadsetLoginRequest>,
) -> ApiResult<Json<HeadsetLoginOut>> {
    let presented = credential(req)?;
    let l = state.services.headset_login(device, presented).await?;
    let policy = state.services.settings.credentials.headset;
    Ok(Json(HeadsetLoginOut {
        token: l.token,
        session_id: l.session.id,
        expires_at: rfc3339(l.expires_at),
        idle_timeout_secs: policy.idle.whole_seconds(),
        absolute_expires_at: rfc3339(l.session.created_at + policy.absolute),
        user: HeadsetUserOut::from(&l.user),
        training: training_out(&l.training),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterEntryOut {
    pub user_id: String,
    /// First name and family initial.
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterOut {
    /// The room staff placed this headset in, if any.
    pub room: Option<String>,
    /// Checked-in participants of the class open in that room (empty when none).
    pub participants: Vec<RosterEntryOut>,
}

/// The participants to pick from: those checked in to the class open in this headset's room.
#[utoipa::path(get, path = "/api/headset/roster", tag = "headset",
    params(("Authorization" = String, Header, description = "Bearer <device token>")),
    responses(
    (status = 200, body = RosterOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn roster(
    State(state): State<AppState>,
    Extension(device): Extension<Device>,
) -> ApiResult<Json<RosterOut>> {
    let room = device.room.clone();
    let list = state.services.headset_roster(device).await?;
    Ok(Json(RosterOut {
        room,
        participants: list
            .into_iter()
            .map(|e| RosterEntryOut {
                user_id: e.user_id.to_string(),
                display_name: e.display_name,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadsetMeOut {
    pub user: HeadsetUserOut,
    pub training: Vec<TrainingOut>,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// The logged-in user and their training now.
#[utoipa::path(get, path = "/api/headset/me", tag = "headset",
    params(("Authorization" = String, Header, description = "Bearer <device token>"),
           ("X-Sitegate-Session" = String, Header, description = "The session token from login")),
    responses(
    (status = 200, body = HeadsetMeOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn me(
    State(state): State<AppState>,
    Extension(p): Extension<HeadsetPrincipal>,
) -> ApiResult<Json<HeadsetMeOut>> {
    let (user, training) = state.services.headset_me(&p).await?;
    let policy = state.services.settings.credentials.headset;
    Ok(Json(HeadsetMeOut {
        user: HeadsetUserOut::from(&user),
        training: training_out(&training),
        expires_at: rfc3339(p.session.expires_at(&policy)),
    }))
}

/// A progress event. `event_id` is the headset's own UUID for it: a repeat is stored once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    pub event_id: Uuid,
    pub module_id: Uuid,
    pub kind: ProgressKind,
    /// Completions only: 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub score: Option<u8>,
    /// Completions only.
    pub passed: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressOut {
    pub event_id: Uuid,
    /// True when this event ID was already stored (nothing new was written).
    pub duplicate: bool,
    #[schema(format = DateTime)]
    pub received_at: String,
}

#[utoipa::path(post, path = "/api/headset/progress", tag = "headset", request_body = ProgressRequest,
    params(("Authorization" = String, Header, description = "Bearer <device token>"),
           ("X-Sitegate-Session" = String, Header, description = "The session token from login")),
    responses(
    (status = 200, body = ProgressOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn progress(
    State(state): State<AppState>,
    Extension(p): Extension<HeadsetPrincipal>,
    ApiJson(req): ApiJson<ProgressRequest>,
) -> ApiResult<Json<ProgressOut>> {
    let event = ProgressEvent::new(req.event_id, req.module_id, req.kind, req.score, req.passed)?;
    let (stored, duplicate) = state.services.report_progress(p, event).await?;
    Ok(Json(ProgressOut {
        event_id: stored.event.event_id,
        duplicate,
        received_at: rfc3339(stored.received_at),
    }))
}

/// End this headset session.
#[utoipa::path(post, path = "/api/headset/logout", tag = "headset", request_body = super::auth::Empty,
    params(("Authorization" = String, Header, description = "Bearer <device token>"),
           ("X-Sitegate-Session" = String, Header, description = "The session token from login")),
    responses(
    (status = 204, description = "Logged out"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn logout(
    State(state): State<AppState>,
    Extension(p): Extension<HeadsetPrincipal>,
    ApiJson(_e): ApiJson<super::auth::Empty>,
) -> ApiResult<StatusCode> {
    state.services.headset_logout(p).await?;
    Ok(StatusCode::NO_CONTENT)
}
