//! Staff sign-in over HTTP: bootstrap code exchange, sign-in with ID and PIN, who am I, sign-out.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, Client, ListenerKind, SESSION_COOKIE};
use super::users::UserOut;
use crate::domain::ids::UserId;
use crate::domain::staff::{Role, ScreenKind};
use crate::service::auth::{Claimed, Principal};

pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bootstrap))
        .routes(routes!(sign_in))
}

pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me)).routes(routes!(sign_out))
}

/// Exchange the one-time bootstrap code from `sitegate init` for the admin's PIN.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BootstrapRequest {
    #[schema(min_length = 1, max_length = 64, example = "ABCDE-FGHJK")]
    pub user_id: String,
    #[schema(min_length = 1, max_length = 32, example = "7K3QD-M9XWP")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BootstrapAnswer {
    pub user_id: String,
    /// The admin's new PIN. Shown this once; it is never stored or shown again.
    pub pin: String,
}

#[utoipa::path(post, path = "/api/auth/bootstrap", tag = "auth", request_body = BootstrapRequest, responses(
    (status = 200, body = BootstrapAnswer),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json",
        description = "`invalid_bootstrap_code`: the ID or the code is not right, or the code expired or was used (one answer for all)"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn bootstrap(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<BootstrapRequest>,
) -> ApiResult<Json<BootstrapAnswer>> {
    let user_id = UserId::parse(&req.user_id)?;
    let pin = state
        .services
        .redeem_bootstrap(user_id.clone(), req.code, client.source())
        .await?;
    Ok(Json(BootstrapAnswer {
        user_id: user_id.to_string(),
        pin,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The staff member's ID; or send `badge` instead.
    #[schema(min_length = 1, max_length = 64, example = "ABCDE-FGHJK")]
    pub user_id: Option<String>,
    /// Their badge's QR payload, as the scanner typed it (instead of `user_id`).
    #[schema(min_length = 1, max_length = 64, example = "SG1ABCDE12345FGHJK67890")]
    pub badge: Option<String>,
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub pin: String,
    /// The code from the authenticator app, for staff who enrolled one (`totp_required` says when it is missing).
    #[schema(min_length = 1, max_length = 16, example = "492039")]
    pub totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub user: UserOut,
    pub role: Role,
    pub screen: ScreenKind,
    /// When the session ends if left untouched.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The bearer token, for scripts and headsets only; browsers get an HttpOnly cookie instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Sign in with a staff user's ID (or badge scan) and PIN.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", request_body = SignInRequest, responses(
    (status = 200, body = SessionOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn sign_in(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<SignInRequest>,
) -> ApiResult<Response> {
    let claimed = match (req.user_id, req.badge) {
        (Some(id), None) => Claimed::Id(UserId::parse(&id)?),
        (None, Some(badge)) if !badge.is_empty() && badge.len() <= 64 => Claimed::Badge(badge),
        (None, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "badge: 1 to 64 characters",
            )
            .with_field("badge"));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "user_id: send your ID or your badge's scan, one of the two",
            )
            .with_field("user_id"));
        }
    };
    let screen = client.screen();
    let session = state
        .services
        .sign_in(
            claimed,
            req.pin,
            req.totp,
            screen,
            super::security::attempt_source(&client),
            client.source(),
        )
        .await?;
    let browser = screen != ScreenKind::Api;
    let out = SessionOut {
        user: UserOut::from(&session.user),
        role: session.principal.role,
        screen,
        expires_at: rfc3339(session.principal.expires_at),
        token: (!browser).then(|| session.token.clone()),
    };
    let mut res = Json(out).into_response();
    if browser {
        let secure = if client.listener == ListenerKind::Tls {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/{secure}",
            session.token
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub user_id: String,
    pub role: Role,
    pub screen: ScreenKind,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// The signed-in staff member.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses(
    (status = 200, body = MeOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn me(Extension(p): Extension<Principal>) -> Json<MeOut> {
    Json(MeOut {
        user_id: p.user_id.to_string(),
        role: p.role,
        screen: p.screen,
        expires_at: rfc3339(p.expires_at),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// End this session.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth", request_body = Empty, responses(
    (status = 204, description = "Signed out"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn sign_out(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(_empty): ApiJson<Empty>,
) -> ApiResult<Response> {
    state.services.sign_out(p).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    let expired = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
