//! Classroom sessions over HTTP: create, edit, cancel (managers); list, open, close (instructors). The roster itself is in `class_roster.rs`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::{Empty, rfc3339};
use super::class_roster::ClassRosterOut;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use crate::domain::classroom::{Class, ClassInput, ClassState, Outcome};
use crate::domain::ids::UserId;
use crate::service::auth::Principal;

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_class))
        .routes(routes!(edit_class))
        .routes(routes!(cancel_class))
}

pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_classes))
        .routes(routes!(super::class_roster::roster))
        .routes(routes!(super::class_roster::roster_csv))
        .routes(routes!(super::class_roster::roster_events))
        .routes(routes!(open_class))
        .routes(routes!(close_class))
}

/// A class's ID from the path; anything that is not a UUID names no class.
pub(crate) fn class_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no class has this ID").with_field("id")
    })
}

/// Parse typed user IDs (a typo is caught here, before any lookup).
pub(crate) fn user_ids(raw: &[String]) -> ApiResult<Vec<UserId>> {
    raw.iter().map(|s| Ok(UserId::parse(s)?)).collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassOut {
    pub id: Uuid,
    pub title: String,
    pub module_ids: Vec<Uuid>,
    pub site_id: Option<Uuid>,
    pub room: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: String,
    pub instructors: Vec<String>,
    pub expected: Vec<String>,
    pub state: ClassState,
    #[schema(format = DateTime)]
    pub opened_at: Option<String>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
}

impl From<&Class> for ClassOut {
    fn from(c: &Class) -> Self {
        ClassOut {
            id: c.id,
            title: c.title.clone(),
            module_ids: c.module_ids.clone(),
            site_id: c.site_id,
            room: c.room.clone(),
            starts_at: rfc3339(c.starts_at),
            ends_at: rfc3339(c.ends_at),
            instructors: c.instructors.iter().map(ToString::to_string).collect(),
            expected: c.expected.iter().map(ToString::to_string).collect(),
            state: c.state,
            opened_at: c.opened_at.map(rfc3339),
            closed_at: c.closed_at.map(rfc3339),
        }
    }
}

/// A new class.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClassRequest {
    #[schema(min_length = 1, max_length = 200, example = "Working at heights — practical")]
    pub title: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub module_ids: Vec<Uuid>,
    pub site_id: Option<Uuid>,
    #[schema(min_length = 1, max_length = 64, example = "Room 2")]
    pub room: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: OffsetDateTime,
    /// User IDs of the instructors (instructors, managers or admins).
    #[schema(min_items = 1, max_items = 10)]
    pub instructors: Vec<String>,
    /// User IDs of the people expected.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub expected: Vec<String>,
}

/// Change a class: only the fields given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditClassRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(max_items = 20)]
    pub module_ids: Option<Vec<Uuid>>,
    pub site_id: Option<Uuid>,
    #[schema(min_length = 1, max_length = 64)]
    pub room: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<OffsetDateTime>,
    #[schema(min_items = 1, max_items = 10)]
    pub instructors: Option<Vec<String>>,
    #[schema(max_items = 500)]
    pub expected: Option<Vec<String>>,
}

const ID_MAX: usize = 64;

fn check_ids(field: &'static str, ids: &[String], max: usize) -> ApiResult<Vec<UserId>> {
    if ids.len() > max || ids.iter().any(|i| i.chars().count() > ID_MAX) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: at most {max} IDs of at most {ID_MAX} characters"),
        )
        .with_field(field));
    }
    user_ids(ids)
}

/// Schedule a class (managers, admins).
#[utoipa::path(post, path = "/api/classes", tag = "classroom", request_body = CreateClassRequest, responses(
    (status = 201, body = ClassOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn create_class(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<CreateClassRequest>,
) -> ApiResult<(StatusCode, Json<ClassOut>)> {
    if req.module_ids.len() > 20 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "at most 20 modules",
        )
        .with_field("module_ids"));
    }
    let input = ClassInput {
        title: Some(req.title),
        module_ids: Some(req.module_ids),
        site_id: Some(req.site_id),
        room: Some(req.room),
        starts_at: Some(req.starts_at),
        ends_at: Some(req.ends_at),
        instructors: Some(check_ids("instructors", &req.instructors, 10)?),
        expected: Some(check_ids("expected", &req.expected, 500)?),
    };
    let class = state.services.create_class(p.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(ClassOut::from(&class))))
}

/// Change a scheduled or open class (managers, admins).
#[utoipa::path(patch, path = "/api/classes/{id}", tag = "classroom", request_body = EditClassRequest,
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, body = ClassOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn edit_class(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EditClassRequest>,
) -> ApiResult<Json<ClassOut>> {
    let id = class_id(&id)?;
    if req.module_ids.as_ref().is_some_and(|m| m.len() > 20) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "at most 20 modules",
        )
        .with_field("module_ids"));
    }
    let input = ClassInput {
        title: req.title,
        module_ids: req.module_ids,
        site_id: req.site_id.map(Some),
        room: req.room,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        instructors: req
            .instructors
            .as_deref()
            .map(|i| check_ids("instructors", i, 10))
            .transpose()?,
        expected: req
            .expected
            .as_deref()
            .map(|e| check_ids("expected", e, 500))
            .transpose()?,
    };
    let class = state.services.edit_class(p.actor(), id, input).await?;
    Ok(Json(ClassOut::from(&class)))
}

/// Cancel a scheduled class (managers, admins).
#[utoipa::path(post, path = "/api/classes/{id}/cancel", tag = "classroom", request_body = Empty,
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, body = ClassOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn cancel_class(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<Json<ClassOut>> {
    let class = state.services.cancel_class(p.actor(), class_id(&id)?).await?;
    Ok(Json(ClassOut::from(&class)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `YYYY-MM-DD` (site time), or `today`; absent: every class.
    #[param(max_length = 10)]
    pub date: Option<String>,
    /// `true`: only the classes the signed-in user instructs.
    #[param(pattern = "^(true|false)$")]
    pub mine: Option<String>,
}

/// Classes on a day (or all), by start time.
#[utoipa::path(get, path = "/api/classes", tag = "classroom", params(ListQuery), responses(
    (status = 200, body = Vec<ClassOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_classes(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<ClassOut>>> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let bad = |field: &'static str, why: &str| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", why.to_string()).with_field(field)
    };
    let day = match q.date.as_deref() {
        None => None,
        Some("today") => Some(
            state
                .services
                .now()
                .to_offset(state.services.site_offset())
                .date(),
        ),
        Some(d) => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            Some(time::Date::parse(d, &fmt).map_err(|_| bad("date", "date: YYYY-MM-DD or today"))?)
        }
    };
    let mine = match q.mine.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(bad("mine", "mine: true or false")),
    };
    let list = state.services.list_classes(day).await?;
    Ok(Json(
        list.iter()
            .filter(|c| !mine || c.instructors.contains(&p.user_id))
            .map(ClassOut::from)
            .collect(),
    ))
}

/// Open the class for check-in (its instructors, managers, admins).
#[utoipa::path(post, path = "/api/classes/{id}/open", tag = "classroom", request_body = Empty,
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, body = ClassOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn open_class(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_e): ApiJson<Empty>,
) -> ApiResult<Json<ClassOut>> {
    let class = state.services.open_class(p, class_id(&id)?).await?;
    Ok(Json(ClassOut::from(&class)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: String,
    pub outcome: Outcome,
}

/// Close the class. Outcomes not given: attended when checked in at any time, else no-show.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[serde(default)]
    #[schema(max_items = 600)]
    pub outcomes: Vec<OutcomeIn>,
}

/// Close the class: outcomes to each activity log and the outbox, attended → modules completed.
#[utoipa::path(post, path = "/api/classes/{id}/close", tag = "classroom", request_body = CloseRequest,
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, body = ClassRosterOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn close_class(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> ApiResult<Json<ClassRosterOut>> {
    let id = class_id(&id)?;
    if req.outcomes.len() > 600
        || req
            .outcomes
            .iter()
            .any(|o| o.user_id.is_empty() || o.user_id.chars().count() > ID_MAX)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "outcomes: at most 600, each with a user ID",
        )
        .with_field("outcomes"));
    }
    let outcomes = req
        .outcomes
        .iter()
        .map(|o| Ok((UserId::parse(&o.user_id)?, o.outcome)))
        .collect::<ApiResult<Vec<_>>>()?;
    let view = state.services.close_class(p, id, outcomes).await?;
    Ok(Json(ClassRosterOut::from(&view)))
}
