//! Training over HTTP: the module catalogue, assignments, and the groups, sites and regions they target.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::rfc3339;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use crate::domain::ids::UserId;
use crate::domain::org::{Unit, UnitKind};
use crate::domain::training::{AssignedTraining, Assignment, AssignmentTarget, Module, TrainingStatus};
use crate::service::auth::Principal;
use crate::service::training::NewModule;

pub fn read_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units))
        .routes(routes!(list_modules))
        .routes(routes!(list_assignments))
}

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_unit))
        .routes(routes!(create_module))
        .routes(routes!(create_assignment))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitOut {
    pub id: Uuid,
    pub kind: UnitKind,
    pub name: String,
}

impl From<&Unit> for UnitOut {
    fn from(u: &Unit) -> Self {
        UnitOut {
            id: u.id,
            kind: u.kind,
            name: u.name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleOut {
    pub id: Uuid,
    pub title: String,
    pub duration_minutes: u32,
    /// How long a completion stays valid; absent = forever.
    pub valid_for_days: Option<u32>,
}

impl From<&Module> for ModuleOut {
    fn from(m: &Module) -> Self {
        ModuleOut {
            id: m.id,
            title: m.title.clone(),
            duration_minutes: m.duration_minutes,
            valid_for_days: m.valid_for_days,
        }
    }
}

/// One line of a user's assigned training.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingOut {
    pub module: ModuleOut,
    pub status: TrainingStatus,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    #[schema(format = DateTime)]
    pub valid_until: Option<String>,
}

impl From<&AssignedTraining> for TrainingOut {
    fn from(t: &AssignedTraining) -> Self {
        TrainingOut {
            module: ModuleOut::from(&t.module),
            status: t.status,
            due_at: t.due_at.map(rfc3339),
            completed_at: t.completed_at.map(rfc3339),
            valid_until: t.valid_until.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentOut {
    pub id: Uuid,
    pub module_id: Uuid,
    /// `group`, `site`, `region` or `user`.
    pub target_kind: String,
    /// The unit's UUID or the user's ID.
    pub target_id: String,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Assignment> for AssignmentOut {
    fn from(a: &Assignment) -> Self {
        let (kind, id) = match &a.target {
            AssignmentTarget::Group(id) => ("group", id.to_string()),
            AssignmentTarget::Site(id) => ("site", id.to_string()),
            AssignmentTarget::Region(id) => ("region", id.to_string()),
            AssignmentTarget::User(u) => ("user", u.to_string()),
        };
        AssignmentOut {
            id: a.id,
            module_id: a.module_id,
            target_kind: kind.into(),
            target_id: id,
            due_at: a.due_at.map(rfc3339),
            created_at: rfc3339(a.created_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    pub kind: Option<UnitKind>,
}

/// Groups, sites and regions.
#[utoipa::path(get, path = "/api/units", tag = "training", params(UnitQuery), responses(
    (status = 200, body = Vec<UnitOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_units(
    State(state): State<AppState>,
    query: Result<Query<UnitQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<UnitOut>>> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let units = state.services.list_units(q.kind).await?;
    Ok(Json(units.iter().map(UnitOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    pub kind: UnitKind,
    #[schema(min_length = 1, max_length = 400)]
    pub name: String,
}

/// Create a group, site or region.
#[utoipa::path(post, path = "/api/units", tag = "training", request_body = CreateUnitRequest, responses(
    (status = 201, body = UnitOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn create_unit(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<CreateUnitRequest>,
) -> ApiResult<(StatusCode, Json<UnitOut>)> {
    let unit = state.services.create_unit(p.actor(), req.kind, req.name).await?;
    Ok((StatusCode::CREATED, Json(UnitOut::from(&unit))))
}

/// The module catalogue.
#[utoipa::path(get, path = "/api/modules", tag = "training", responses(
    (status = 200, body = Vec<ModuleOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_modules(State(state): State<AppState>) -> ApiResult<Json<Vec<ModuleOut>>> {
    Ok(Json(
        state
            .services
            .list_modules()
            .await?
            .iter()
            .map(ModuleOut::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateModuleRequest {
    #[schema(min_length = 1, max_length = 800)]
    pub title: String,
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: u32,
    #[schema(minimum = 1, maximum = 3650)]
    pub valid_for_days: Option<u32>,
}

/// Add a module to the catalogue.
#[utoipa::path(post, path = "/api/modules", tag = "training", request_body = CreateModuleRequest, responses(
    (status = 201, body = ModuleOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn create_module(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<CreateModuleRequest>,
) -> ApiResult<(StatusCode, Json<ModuleOut>)> {
    let new = NewModule {
        title: req.title,
        duration_minutes: req.duration_minutes,
        valid_for_days: req.valid_for_days,
    };
    let module = state.services.add_module(p.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(ModuleOut::from(&module))))
}

/// Every assignment.
#[utoipa::path(get, path = "/api/assignments", tag = "training", responses(
    (status = 200, body = Vec<AssignmentOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_assignments(State(state): State<AppState>) -> ApiResult<Json<Vec<AssignmentOut>>> {
    Ok(Json(
        state
            .services
            .list_assignments()
            .await?
            .iter()
            .map(AssignmentOut::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum TargetKind {
    Group,
    Site,
    Region,
    User,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentRequest {
    pub module_id: Uuid,
    pub target_kind: TargetKind,
    /// The unit's UUID, or the user's ID.
    #[schema(min_length = 1, max_length = 64)]
    pub target_id: String,
    /// Due date-time (RFC 3339), in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<time::OffsetDateTime>,
}

/// Assign a module to a group, site, region or one user.
#[utoipa::path(post, path = "/api/assignments", tag = "training", request_body = CreateAssignmentRequest, responses(
    (status = 201, body = AssignmentOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn create_assignment(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<CreateAssignmentRequest>,
) -> ApiResult<(StatusCode, Json<AssignmentOut>)> {
    let unit_id = || {
        Uuid::parse_str(&req.target_id).map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "target_id: must be a unit UUID",
            )
            .with_field("target_id")
        })
    };
    let target = match req.target_kind {
        TargetKind::Group => AssignmentTarget::Group(unit_id()?),
        TargetKind::Site => AssignmentTarget::Site(unit_id()?),
        TargetKind::Region => AssignmentTarget::Region(unit_id()?),
        TargetKind::User => AssignmentTarget::User(UserId::parse(&req.target_id)?),
    };
    let a = state
        .services
        .assign_module(p.actor(), req.module_id, target, req.due_at)
        .await?;
    Ok((StatusCode::CREATED, Json(AssignmentOut::from(&a))))
}
