//! User records over HTTP: list, show, create, deactivate, join a unit, issue a PIN.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::rfc3339;
use super::error::{ApiResult, Problem};
use super::extract::ApiJson;
use super::training::{TrainingOut, UnitOut};
use crate::domain::activity::ActivityEntry;
use crate::domain::ids::UserId;
use crate::domain::staff::Role;
use crate::domain::user::{AccessLevel, NewUserInput, User, UserStatus};
use crate::service::auth::Principal;

pub fn read_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(show_user))
}

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(join_unit))
        .routes(routes!(issue_pin))
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// `ABCDE-FGHJK` for gateway IDs; central IDs as they are.
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    /// "Given F.", for shared screens.
    pub short_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub employer: Option<String>,
    pub language: String,
    pub role: Role,
    pub access_level: AccessLevel,
    pub status: UserStatus,
    pub groups: Vec<Uuid>,
    pub sites: Vec<Uuid>,
    pub regions: Vec<Uuid>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        UserOut {
            id: u.id.to_string(),
            given_name: u.name.given.clone(),
            family_name: u.name.family.clone(),
            short_name: u.name.short(),
            email: u.email.as_ref().map(|e| e.as_str().to_string()),
            phone: u.phone.as_ref().map(|p| p.as_str().to_string()),
            employer: u.employer.clone(),
            language: u.language.as_str().to_string(),
            role: u.role,
            access_level: u.access_level,
            status: u.status,
            groups: u.groups.iter().copied().collect(),
            sites: u.sites.iter().copied().collect(),
            regions: u.regions.iter().copied().collect(),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserOut>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Return users whose ID sorts after this one.
    #[param(max_length = 64)]
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u16>,
    /// Only users whose ID or name contains this (1 to 64 characters; case and ID dashes ignored).
    #[param(min_length = 1, max_length = 64)]
    pub q: Option<String>,
}

/// List users, ordered by ID, a page at a time; `q` finds them by part of their ID or name.
#[utoipa::path(get, path = "/api/users", tag = "users", params(ListQuery), responses(
    (status = 200, body = UserList),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_users(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<UserList>> {
    let Query(q) = query
        .map_err(|e| super::error::ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let limit = usize::from(q.limit.unwrap_or(100));
    if !(1..=500).contains(&limit) {
        return Err(super::error::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "limit: must be 1 to 500",
        )
        .with_field("limit"));
    }
    let after = q.after.as_deref().map(UserId::parse).transpose()?;
    let users = match q.q.as_deref().map(str::trim) {
        None => state.services.list_users(after, limit).await?,
        Some(text) => {
            let chars = text.chars().count();
            if chars == 0 || chars > crate::service::user_search::QUERY_MAX_CHARS {
                return Err(super::error::ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    "q: 1 to 64 characters",
                )
                .with_field("q"));
            }
            state
                .services
                .search_users(text.to_string(), after, limit)
                .await?
        }
    };
    let next_after = (users.len() == limit)
        .then(|| users.last().map(|u| u.id.to_string()))
        .flatten();
    Ok(Json(UserList {
        users: users.iter().map(UserOut::from).collect(),
        next_after,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetailOut {
    pub user: UserOut,
    /// The groups, sites and regions the user belongs to.
    pub units: Vec<UnitOut>,
    /// Assigned training with status and due dates.
    pub training: Vec<TrainingOut>,
    /// Recent activity, newest first.
    pub activity: Vec<ActivityEntry>,
}

/// One user's record, units, assigned training and activity log.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = UserDetailOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn show_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<UserDetailOut>> {
    let d = state.services.user_detail(UserId::parse(&id)?).await?;
    Ok(Json(UserDetailOut {
        user: UserOut::from(&d.user),
        units: d.units.iter().map(UnitOut::from).collect(),
        training: d.training.iter().map(TrainingOut::from).collect(),
        activity: d.activity,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(min_length = 1, max_length = 400)]
    pub given_name: String,
    #[schema(min_length = 1, max_length = 400)]
    pub family_name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    #[schema(max_length = 480)]
    pub employer: Option<String>,
    #[schema(max_length = 16)]
    pub language: Option<String>,
    pub role: Option<Role>,
    pub access_level: Option<AccessLevel>,
    /// Groups, sites and regions to join, by ID.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub units: Vec<Uuid>,
}

/// Create a user.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUserRequest, responses(
    (status = 201, body = UserOut),
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
async fn create_user(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    if req.units.len() > 50 {
        return Err(super::error::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "units: at most 50",
        )
        .with_field("units"));
    }
    let input = NewUserInput {
        given_name: req.given_name,
        family_name: req.family_name,
        email: req.email,
        phone: req.phone,
        employer: req.employer,
        language: req.language,
        role: req.role,
        access_level: req.access_level,
    };
    let user = state.services.create_user(p.actor(), input, req.units).await?;
    Ok((StatusCode::CREATED, Json(UserOut::from(&user))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateRequest {
    /// Why, for the audit log.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Deactivate a user: their PIN and sessions stop working at once.
#[utoipa::path(post, path = "/api/users/{id}/deactivate", tag = "users", request_body = DeactivateRequest,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = UserOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn deactivate_user(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_req): ApiJson<DeactivateRequest>,
) -> ApiResult<Json<UserOut>> {
    let user = state
        .services
        .deactivate_user(p.actor(), UserId::parse(&id)?)
        .await?;
    Ok(Json(UserOut::from(&user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinUnitRequest {
    pub unit_id: Uuid,
}

/// Add a user to a group, site or region.
#[utoipa::path(post, path = "/api/users/{id}/units", tag = "users", request_body = JoinUnitRequest,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = UserOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn join_unit(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<JoinUnitRequest>,
) -> ApiResult<Json<UserOut>> {
    let user = state
        .services
        .join_unit(p.actor(), UserId::parse(&id)?, req.unit_id)
        .await?;
    Ok(Json(UserOut::from(&user)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PinOut {
    pub user_id: String,
    /// The new PIN, shown this once. The old one no longer works.
    pub pin: String,
}

/// Issue a new PIN for a user (shown once).
#[utoipa::path(post, path = "/api/users/{id}/pin", tag = "users", request_body = super::auth::Empty,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = PinOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn issue_pin(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(_empty): ApiJson<super::auth::Empty>,
) -> ApiResult<Json<PinOut>> {
    let user_id = UserId::parse(&id)?;
    let pin = state.services.issue_pin(p.actor(), user_id.clone()).await?;
    Ok(Json(PinOut {
        user_id: user_id.to_string(),
        pin,
    }))
}
