//! Security over HTTP: the odds of guessing, the throttling state and clearing it, and the audit log.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::rfc3339;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, Client, ListenerKind};
use crate::domain::throttle::Odds;
use crate::service::auth::Principal;
use crate::service::security::AttemptSource;
use crate::service::throttle_status::{ClearScope, ThrottleStatus};
use crate::store;

pub fn read_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(odds))
        .routes(routes!(throttle))
}

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(clear))
        .routes(routes!(audit_log))
}

/// Which per-device budget a browser or script request counts against.
pub fn attempt_source(client: &Client) -> AttemptSource {
    match (client.listener, client.peer) {
        (ListenerKind::Kiosk, _) => AttemptSource::box_kiosk(),
        (ListenerKind::Tls, Some(peer)) => AttemptSource::address(&peer.ip().to_string()),
        (ListenerKind::Tls, None) => AttemptSource::address("unknown"),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OddsOut {
    #[serde(flatten)]
    pub odds: Odds,
    /// "1 in N" for people.
    pub one_in: u64,
    /// The same sentence the staff screen shows.
    pub summary: String,
}

/// The odds that random guessing opens any account in a day, with this site's settings.
#[utoipa::path(get, path = "/api/security/odds", tag = "security", responses(
    (status = 200, body = OddsOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn odds(State(state): State<AppState>) -> ApiResult<Json<OddsOut>> {
    let o = state.services.odds().await?;
    let one_in = if o.per_day > 0.0 {
        (1.0 / o.per_day).round() as u64
    } else {
        u64::MAX
    };
    let mut summary = format!(
        "With {} failed logins allowed per day over the network and at most {:.1e} odds per guess, random guessing opens some account about 1 day in {one_in}.",
        o.guesses_per_day, o.per_guess_worst
    );
    if o.pin_only_login {
        summary.push_str(&format!(
            " PIN-only login is ON: each PIN guess is tried against all {} active users at once, multiplying the PIN odds by {}.",
            o.active_users, o.active_users
        ));
    }
    Ok(Json(OddsOut {
        odds: o,
        one_in,
        summary,
    }))
}

/// Throttling now: site-wide failures, throttled devices and accounts in backoff.
#[utoipa::path(get, path = "/api/security/throttle", tag = "security", responses(
    (status = 200, body = ThrottleStatus),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn throttle(State(state): State<AppState>) -> ApiResult<Json<ThrottleStatus>> {
    Ok(Json(state.services.throttle_status().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearRequest {
    /// `site` (lifts a suspension), `source` (one device or address) or `account`.
    #[schema(pattern = "^(site|source|account)$")]
    pub scope: String,
    /// The source key (`kiosk`, `addr:<ip>`, `device:<uuid>`) or the user ID; not for `site`.
    #[schema(min_length = 1, max_length = 128)]
    pub key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClearOut {
    /// Whether there was anything to clear.
    pub cleared: bool,
}

/// Clear a throttle: the site-wide suspension, one device's budget, or one account's backoff.
#[utoipa::path(post, path = "/api/security/throttle/clear", tag = "security", request_body = ClearRequest, responses(
    (status = 200, body = ClearOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn clear(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<ClearRequest>,
) -> ApiResult<Json<ClearOut>> {
    let bad = |m: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", m.to_string());
    if req
        .key
        .as_deref()
        .is_some_and(|k| k.trim().is_empty() || k.chars().count() > 128)
    {
        return Err(bad("key: 1 to 128 characters").with_field("key"));
    }
    let scope = match (req.scope.as_str(), req.key) {
        ("site", None) => ClearScope::Site,
        ("source", Some(k)) => ClearScope::Source(k),
        ("account", Some(k)) => ClearScope::Account(k),
        ("site", Some(_)) => return Err(bad("key: not used with scope site").with_field("key")),
        ("source" | "account", None) => return Err(bad("key: required for this scope").with_field("key")),
        _ => return Err(bad("scope: must be site, source or account").with_field("scope")),
    };
    let cleared = state.services.clear_throttle(p.actor(), scope).await?;
    Ok(Json(ClearOut { cleared }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries to return, newest first: 1 to 1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u16>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    #[schema(format = DateTime)]
    pub at: String,
    pub event: String,
    /// `success`, `failure`, `denied`, `throttled`, `alert`, …
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub detail: Option<String>,
}

/// The security audit log, newest first: logins, failures, throttling, staff actions.
#[utoipa::path(get, path = "/api/audit", tag = "security", params(AuditQuery), responses(
    (status = 200, body = Vec<AuditOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn audit_log(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let limit = usize::from(q.limit.unwrap_or(200));
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "limit: must be 1 to 1000",
        )
        .with_field("limit"));
    }
    let entries = state
        .services
        .store
        .read(move |tx| store::audit::list_audit(tx, limit))
        .await
        .map_err(crate::service::ServiceError::from)?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditOut {
                at: rfc3339(e.at),
                event: e.event,
                outcome: e.outcome,
                actor: e.actor,
                subject: e.subject,
                source: e.source,
                detail: e.detail,
            })
            .collect(),
    ))
}
