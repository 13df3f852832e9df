//! Credentials over HTTP: one-time passwords (issue, list, revoke) and authenticator (TOTP) enrollment, confirmation and reset.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::{Empty, rfc3339};
use super::devices::parse_id;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use crate::domain::credentials::OneTimePassword;
use crate::domain::ids::UserId;
use crate::service::auth::Principal;
use crate::service::totp::{TotpEnrollment, TotpStatus};

/// What any staff member may do for themselves.
pub fn self_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_totp_status, my_totp_begin))
        .routes(routes!(my_totp_confirm))
}

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_otp))
        .routes(routes!(list_otps))
        .routes(routes!(revoke_otp))
        .routes(routes!(totp_status))
        .routes(routes!(totp_begin))
        .routes(routes!(totp_confirm))
        .routes(routes!(totp_reset))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OtpOut {
    pub id: Uuid,
    pub user_id: String,
    #[schema(format = DateTime)]
    pub issued_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub issued_by: String,
}

impl From<&OneTimePassword> for OtpOut {
    fn from(o: &OneTimePassword) -> Self {
        OtpOut {
            id: o.id,
            user_id: o.user_id.to_string(),
            issued_at: rfc3339(o.issued_at),
            expires_at: rfc3339(o.expires_at),
            issued_by: o.issued_by.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedOtpOut {
    #[serde(flatten)]
    pub otp: OtpOut,
    /// The 8-digit code, shown this once. Single use.
    pub code: String,
}

/// Issue a one-time password for a user (shown once; single use; short-lived).
#[utoipa::path(post, path = "/api/users/{id}/otp", tag = "credentials", request_body = Empty,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 201, body = IssuedOtpOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn issue_otp(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<(StatusCode, Json<IssuedOtpOut>)> {
    let issued = state.services.issue_otp(p.actor(), UserId::parse(&id)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedOtpOut {
            otp: OtpOut::from(&issued.otp),
            code: issued.code,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OtpQuery {
    /// Only this user's.
    #[param(max_length = 64)]
    pub user_id: Option<String>,
}

/// Outstanding one-time passwords (never their codes).
#[utoipa::path(get, path = "/api/otps", tag = "credentials", params(OtpQuery), responses(
    (status = 200, body = Vec<OtpOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_otps(
    State(state): State<AppState>,
    query: Result<Query<OtpQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<OtpOut>>> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let user = q.user_id.as_deref().map(UserId::parse).transpose()?;
    let list = state.services.list_otps(user).await?;
    Ok(Json(list.iter().map(OtpOut::from).collect()))
}

/// Revoke an outstanding one-time password.
#[utoipa::path(post, path = "/api/otps/{id}/revoke", tag = "credentials", request_body = Empty,
    params(("id" = String, Path, format = Uuid, description = "One-time password ID")), responses(
    (status = 200, body = OtpOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn revoke_otp(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<Json<OtpOut>> {
    let otp = state.services.revoke_otp(p.actor(), parse_id(&id)?).await?;
    Ok(Json(OtpOut::from(&otp)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollmentOut {
    pub user_id: String,
    /// Show as a QR code (`qr_svg`) for the authenticator app to scan.
    pub otpauth_uri: String,
    /// For typing into an app by hand.
    pub secret: String,
    /// The otpauth URI as an SVG QR code.
    pub qr_svg: String,
    /// Confirm with a first code before this.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

fn enrollment_out(e: TotpEnrollment) -> TotpEnrollmentOut {
    let qr_svg = qrcode::QrCode::new(e.otpauth_uri.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .build()
        })
        .unwrap_or_default();
    TotpEnrollmentOut {
        user_id: e.user_id.to_string(),
        otpauth_uri: e.otpauth_uri,
        secret: e.secret_base32,
        qr_svg,
        expires_at: rfc3339(e.expires_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmRequest {
    /// The 6-digit code the app shows now.
    #[schema(min_length = 6, max_length = 16, example = "492039")]
    pub code: String,
}

/// Whether the user has an authenticator (admins and managers must).
#[utoipa::path(get, path = "/api/users/{id}/totp", tag = "credentials",
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = TotpStatus),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn totp_status(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<TotpStatus>> {
    Ok(Json(state.services.totp_status(UserId::parse(&id)?).await?))
}

/// Start authenticator enrollment for a user: a fresh secret, shown once as an otpauth URI and QR.
#[utoipa::path(post, path = "/api/users/{id}/totp", tag = "credentials", request_body = Empty,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = TotpEnrollmentOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn totp_begin(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<Json<TotpEnrollmentOut>> {
    let e = state
        .services
        .begin_totp(p.actor(), UserId::parse(&id)?, Some(p.role))
        .await?;
    Ok(Json(enrollment_out(e)))
}

/// Confirm a user's enrollment with the first code their app shows.
#[utoipa::path(post, path = "/api/users/{id}/totp/confirm", tag = "credentials", request_body = TotpConfirmRequest,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 204, description = "Enrolled"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn totp_confirm(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TotpConfirmRequest>,
) -> ApiResult<StatusCode> {
    state
        .services
        .confirm_totp(p.actor(), UserId::parse(&id)?, req.code, Some(p.role))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user's authenticator (a lost phone).
#[utoipa::path(post, path = "/api/users/{id}/totp/reset", tag = "credentials", request_body = Empty,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 204, description = "Removed"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn totp_reset(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<StatusCode> {
    state
        .services
        .reset_totp(p.actor(), UserId::parse(&id)?, Some(p.role))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether you have an authenticator (and whether your role must have one).
#[utoipa::path(get, path = "/api/auth/totp", tag = "credentials", responses(
    (status = 200, body = TotpStatus),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn my_totp_status(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<TotpStatus>> {
    Ok(Json(state.services.totp_status(p.user_id.clone()).await?))
}

/// Start enrolling an authenticator for yourself.
#[utoipa::path(post, path = "/api/auth/totp", tag = "credentials", request_body = Empty, responses(
    (status = 200, body = TotpEnrollmentOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn my_totp_begin(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<Json<TotpEnrollmentOut>> {
    let e = state
        .services
        .begin_totp(p.actor(), p.user_id.clone(), None)
        .await?;
    Ok(Json(enrollment_out(e)))
}

/// Confirm your own enrollment with the first code.
#[utoipa::path(post, path = "/api/auth/totp/confirm", tag = "credentials", request_body = TotpConfirmRequest, responses(
    (status = 204, description = "Enrolled"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn my_totp_confirm(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<TotpConfirmRequest>,
) -> ApiResult<StatusCode> {
    state
        .services
        .confirm_totp(p.actor(), p.user_id.clone(), req.code, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
