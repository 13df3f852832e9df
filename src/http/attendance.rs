//! Check-in and check-out over HTTP: the instructor's four methods, name search, who is on site now (JSON and CSV), and the kiosk's self check-in.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::rfc3339;
use super::classes::class_id;
use super::csv::{BOM, SiteTime, csv_response, row};
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, Client};
use crate::domain::classroom::{CheckMethod, Class};
use crate::domain::ids::UserId;
use crate::service::attendance::{Asker, Checked, Identify, OnSite, Origin};
use crate::service::auth::Principal;

pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_in))
        .routes(routes!(check_out))
        .routes(routes!(search_people))
        .routes(routes!(on_site))
        .routes(routes!(on_site_csv))
}

pub fn kiosk_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kiosk_classes))
        .routes(routes!(kiosk_check_in))
}

/// How the instructor identifies the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MethodIn {
    /// `badge`: the QR payload as the scanner typed it.
    Badge,
    /// `user_id`: a typed ID.
    Id,
    /// `user_id` (picked by name) and the participant's `pin`.
    Pin,
    /// `user_id`: the instructor marks them.
    Staff,
}

const BADGE_MAX: usize = 64;
const ID_MAX: usize = 64;
const PIN_MAX: usize = 32;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub method: MethodIn,
    #[schema(min_length = 1, max_length = 64, example = "SG1ABCDE12345FGHJK67890")]
    pub badge: Option<String>,
    #[schema(min_length = 1, max_length = 64, example = "ABCDE-FGHJK")]
    pub user_id: Option<String>,
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub pin: Option<String>,
}

fn invalid(field: &'static str, why: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        format!("{field}: {why}"),
    )
    .with_field(field)
}

fn text(field: &'static str, v: &Option<String>, max: usize) -> ApiResult<Option<String>> {
    match v {
        Some(s) if s.is_empty() || s.chars().count() > max => {
            Err(invalid(field, &format!("1 to {max} characters")))
        }
        other => Ok(other.clone()),
    }
}

fn identify(req: &CheckRequest) -> ApiResult<Identify> {
    let badge = text("badge", &req.badge, BADGE_MAX)?;
    let user = text("user_id", &req.user_id, ID_MAX)?;
    let pin = text("pin", &req.pin, PIN_MAX)?;
    let need_user = || -> ApiResult<UserId> {
        Ok(UserId::parse(
            user.as_deref().ok_or_else(|| invalid("user_id", "is required"))?,
        )?)
    };
    Ok(match req.method {
        MethodIn::Badge => Identify::Badge(badge.ok_or_else(|| invalid("badge", "is required"))?),
        MethodIn::Id => Identify::Id(need_user()?),
        MethodIn::Staff => Identify::Staff(need_user()?),
        MethodIn::Pin => Identify::Pin {
            user_id: need_user()?,
            pin: pin.ok_or_else(|| invalid("pin", "is required"))?,
        },
    })
}

fn origin(client: &Client) -> Origin {
    Origin {
        source: super::security::attempt_source(client),
        audit_source: client.source(),
    }
}

/// What happened, for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    CheckedIn,
    /// A double scan: nothing changed.
    AlreadyCheckedIn,
    CheckedOut,
    /// Not checked in: nothing changed.
    NotCheckedIn,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedOut {
    pub status: CheckStatus,
    pub user_id: String,
    pub given_name: String,
    pub family_name: String,
    pub short_name: String,
    pub class_id: Uuid,
    pub class_title: String,
    pub room: String,
    /// Check-in (or check-out) time.
    #[schema(format = DateTime)]
    pub at: Option<String>,
    pub method: Option<CheckMethod>,
    pub walk_in: bool,
    /// For people: "already checked in at 09:02" (site time).
    pub message: String,
}

/// `HH:MM` of `t` in site time, for messages people read.
pub(crate) fn site_hhmm(state: &AppState, t: time::OffsetDateTime) -> String {
    crate::domain::on_site::hhmm(t.to_offset(state.services.site_offset()))
}

fn answer(state: &AppState, c: &Checked, dir_in: bool) -> CheckedOut {
    let a = &c.attendance;
    let status = match (dir_in, c.unchanged) {
        (true, false) => CheckStatus::CheckedIn,
        (true, true) => CheckStatus::AlreadyCheckedIn,
        (false, false) => CheckStatus::CheckedOut,
        (false, true) => CheckStatus::NotCheckedIn,
    };
    let (at, method) = if dir_in {
        (a.checked_in_at, a.check_in_method)
    } else {
        (a.checked_out_at, a.check_out_method)
    };
    let hhmm = at.map(|t| site_hhmm(state, t)).unwrap_or_default();
    let name = c.user.name.full();
    let message = match status {
        CheckStatus::CheckedIn => format!("{name} checked in at {hhmm}"),
        CheckStatus::AlreadyCheckedIn => format!("{name} is already checked in at {hhmm}"),
        CheckStatus::CheckedOut => format!("{name} checked out at {hhmm}"),
        CheckStatus::NotCheckedIn => format!("{name} is not checked in"),
    };
    CheckedOut {
        status,
        user_id: c.user.id.to_string(),
        given_name: c.user.name.given.clone(),
        family_name: c.user.name.family.clone(),
        short_name: c.user.name.short(),
        class_id: c.class.id,
        class_title: c.class.title.clone(),
        room: c.class.room.clone(),
        at: at.map(rfc3339),
        method,
        walk_in: a.walk_in,
        message,
    }
}

macro_rules! check_responses {
    ($name:ident, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "classroom", request_body = CheckRequest,
                            params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
                            (status = 200, body = CheckedOut),
                            (status = 400, body = Problem, content_type = "application/problem+json"),
                            (status = 401, body = Problem, content_type = "application/problem+json"),
                            (status = 403, body = Problem, content_type = "application/problem+json"),
                            (status = 404, body = Problem, content_type = "application/problem+json"),
                            (status = 409, body = Problem, content_type = "application/problem+json"),
                            (status = 410, body = Problem, content_type = "application/problem+json"),
                            (status = 413, body = Problem, content_type = "application/problem+json"),
                            (status = 415, body = Problem, content_type = "application/problem+json"),
                            (status = 422, body = Problem, content_type = "application/problem+json"),
                            (status = 429, body = Problem, content_type = "application/problem+json"),
                            (status = 503, body = Problem, content_type = "application/problem+json"),
                        ))]
        async fn $name(
            State(state): State<AppState>,
            Extension(p): Extension<Principal>,
            client: Client,
            Path(id): Path<String>,
            ApiJson(req): ApiJson<CheckRequest>,
        ) -> ApiResult<Json<CheckedOut>> {
            let id = class_id(&id)?;
            let who = identify(&req)?;
            let dir_in = $path.ends_with("check-in");
            let done = if dir_in {
                state
                    .services
                    .check_in(Asker::Staff(p), id, who, origin(&client))
                    .await?
            } else {
                state
                    .services
                    .check_out(Asker::Staff(p), id, who, origin(&client))
                    .await?
            };
            Ok(Json(answer(&state, &done, dir_in)))
        }
    };
}

check_responses!(
    check_in,
    "/api/classes/{id}/check-in",
    "Check someone in: badge scan, typed ID, name + PIN, or marked by the instructor. A double scan answers `already_checked_in` with the first time."
);
check_responses!(
    check_out,
    "/api/classes/{id}/check-out",
    "Check someone out, the same ways as in."
);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of the name: word beginnings ("ana s").
    #[param(min_length = 1, max_length = 100)]
    pub q: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub user_id: String,
    pub given_name: String,
    pub family_name: String,
    pub short_name: String,
    pub employer: Option<String>,
    pub expected: bool,
}

/// People whose name matches, expected ones first (at most 20): pick one, then their PIN.
#[utoipa::path(get, path = "/api/classes/{id}/people", tag = "classroom", params(("id" = String, Path, format = Uuid, description = "Class ID"), SearchQuery), responses(
    (status = 200, body = Vec<PersonOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn search_people(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<PersonOut>>> {
    let id = class_id(&id)?;
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    if q.q.is_empty() || q.q.chars().count() > 100 {
        return Err(invalid("q", "1 to 100 characters"));
    }
    let roster = state.services.class_roster(&p, id).await?;
    let people = state.services.search_people(p, id, q.q, 20).await?;
    Ok(Json(
        people
            .iter()
            .map(|u| PersonOut {
                user_id: u.id.to_string(),
                given_name: u.name.given.clone(),
                family_name: u.name.family.clone(),
                short_name: u.name.short(),
                employer: u.employer.clone(),
                expected: roster.class.expected.contains(&u.id),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnSiteOut {
    pub user_id: String,
    pub given_name: String,
    pub family_name: String,
    pub employer: Option<String>,
    pub class_id: Uuid,
    pub class_title: String,
    pub room: String,
    #[schema(format = DateTime)]
    pub checked_in_at: Option<String>,
    pub method: Option<CheckMethod>,
}

impl From<&OnSite> for OnSiteOut {
    fn from(o: &OnSite) -> Self {
        OnSiteOut {
            user_id: o.user.id.to_string(),
            given_name: o.user.name.given.clone(),
            family_name: o.user.name.family.clone(),
            employer: o.user.employer.clone(),
            class_id: o.class.id,
            class_title: o.class.title.clone(),
            room: o.class.room.clone(),
            checked_in_at: o.attendance.checked_in_at.map(rfc3339),
            method: o.attendance.check_in_method,
        }
    }
}

/// Who is on site now: everyone checked in to an open class (the evacuation roll call).
#[utoipa::path(get, path = "/api/on-site", tag = "classroom", responses(
    (status = 200, body = Vec<OnSiteOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn on_site(State(state): State<AppState>) -> ApiResult<Json<Vec<OnSiteOut>>> {
    let list = state.services.on_site().await?;
    Ok(Json(list.iter().map(OnSiteOut::from).collect()))
}

/// Who is on site now, as CSV (RFC 4180, UTF-8 with BOM) for printing or a spreadsheet; times in
/// site time to the second, the offset in the column's header.
#[utoipa::path(get, path = "/api/on-site.csv", tag = "classroom", responses(
    (status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv", body = String),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn on_site_csv(State(state): State<AppState>) -> ApiResult<Response> {
    let list = state.services.on_site().await?;
    let times = SiteTime::new(state.services.site_offset());
    let mut out = String::from(BOM);
    out.push_str(&row(&[
        "Family name",
        "Given name",
        "User ID",
        "Employer",
        "Class",
        "Room",
        &times.header("Checked in at"),
    ]));
    for (entry, o) in list.iter().map(|e| (e, OnSiteOut::from(e))) {
        out.push_str(&row(&[
            &o.family_name,
            &o.given_name,
            &o.user_id,
            o.employer.as_deref().unwrap_or(""),
            &o.class_title,
            &o.room,
            &times.cell(entry.attendance.checked_in_at),
        ]));
    }
    let stamp = state.services.now().to_offset(state.services.site_offset());
    csv_response(
        &format!(
            "on-site-{}-{:02}{:02}.csv",
            stamp.date(),
            stamp.hour(),
            stamp.minute()
        ),
        out,
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenClassOut {
    pub id: Uuid,
    pub title: String,
    pub room: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: String,
}

impl From<&Class> for OpenClassOut {
    fn from(c: &Class) -> Self {
        OpenClassOut {
            id: c.id,
            title: c.title.clone(),
            room: c.room.clone(),
            starts_at: rfc3339(c.starts_at),
            ends_at: rfc3339(c.ends_at),
        }
    }
}

/// The classes open now, for the kiosk's "check in to a class" screen.
#[utoipa::path(get, path = "/api/kiosk/classes", tag = "kiosk", responses(
    (status = 200, body = Vec<OpenClassOut>),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn kiosk_classes(State(state): State<AppState>) -> ApiResult<Json<Vec<OpenClassOut>>> {
    let list = state.services.open_classes().await?;
    Ok(Json(list.iter().map(OpenClassOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskCheckInRequest {
    pub class_id: Uuid,
    /// A badge scan; or `user_id` with `pin`.
    #[schema(min_length = 1, max_length = 64)]
    pub badge: Option<String>,
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: Option<String>,
    #[schema(min_length = 1, max_length = 32)]
    pub pin: Option<String>,
}

/// Self check-in at the kiosk: a badge scan, or ID + PIN.
#[utoipa::path(post, path = "/api/kiosk/check-in", tag = "kiosk", request_body = KioskCheckInRequest, responses(
    (status = 200, body = CheckedOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 410, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn kiosk_check_in(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<KioskCheckInRequest>,
) -> ApiResult<Json<CheckedOut>> {
    let as_check = CheckRequest {
        method: if req.badge.is_some() {
            MethodIn::Badge
        } else {
            MethodIn::Pin
        },
        badge: req.badge,
        user_id: req.user_id,
        pin: req.pin,
    };
    if as_check.badge.is_some() && (as_check.user_id.is_some() || as_check.pin.is_some()) {
        return Err(invalid(
            "badge",
            "give a badge scan, or an ID with a PIN, not both",
        ));
    }
    let who = identify(&as_check)?;
    let done = state
        .services
        .check_in(Asker::SelfService, req.class_id, who, origin(&client))
        .await?;
    Ok(Json(answer(&state, &done, true)))
}
