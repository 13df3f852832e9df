//! Training access links for staff: create, list, show, edit, deactivate, reactivate, and live usage.
//! The CSV export and the printable poster live in `link_export.rs`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::{Empty, rfc3339};
use super::enroll::within;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use super::training::UnitOut;
use crate::discovery::setup::NO_PHONE_URL;
use crate::domain::link::{
    ALLOCATION_MAX_PER_KIND, Allocation, LINK_DESCRIPTION_MAX_CHARS, LINK_NAME_MAX_CHARS, LinkInput,
    LinkPatch, LinkState,
};
use crate::service::auth::Principal;
use crate::service::links::{LinkDetail, LinkUsage};

pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_links, create_link))
        .routes(routes!(show_link, update_link))
        .routes(routes!(deactivate_link))
        .routes(routes!(reactivate_link))
        .routes(routes!(link_usage))
        .routes(routes!(super::link_export::usage_csv))
        .routes(routes!(super::link_export::poster))
}

/// Where phones on the site LAN open this gateway (`server.public_hostnames`, else the LAN address
/// discovery chose, with the HTTPS port), whichever listener the staff screen came through: the
/// kiosk's loopback port or the host a laptop typed would not open on a phone. `None` when the
/// gateway knows no such address.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub Option<String>);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(state.services.public_url.get().await))
    }
}

impl BaseUrl {
    /// The link's enrollment URL: `https://<gateway>/enroll/<token>`.
    pub fn link(&self, token: &str) -> Option<String> {
        self.0.as_ref().map(|b| format!("{b}/enroll/{token}"))
    }
}

/// The IDs a link allocates its users to.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationIds {
    #[serde(default)]
    #[schema(max_items = 50)]
    pub groups: Vec<Uuid>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub sites: Vec<Uuid>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub regions: Vec<Uuid>,
}

impl AllocationIds {
    fn into_domain(self) -> ApiResult<Allocation> {
        for (field, list) in [
            ("allocation.groups", &self.groups),
            ("allocation.sites", &self.sites),
            ("allocation.regions", &self.regions),
        ] {
            if list.len() > ALLOCATION_MAX_PER_KIND {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    format!("{field}: at most {ALLOCATION_MAX_PER_KIND} units"),
                )
                .with_field(field));
            }
        }
        Ok(Allocation {
            groups: self.groups.into_iter().collect(),
            sites: self.sites.into_iter().collect(),
            regions: self.regions.into_iter().collect(),
        })
    }

    fn from_domain(a: &Allocation) -> AllocationIds {
        AllocationIds {
            groups: a.groups.iter().copied().collect(),
            sites: a.sites.iter().copied().collect(),
            regions: a.regions.iter().copied().collect(),
        }
    }
}

/// A link as staff screens show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// UUIDv7.
    pub id: Uuid,
    /// The unguessable part of the URL.
    pub token: String,
    /// `https://<gateway>/enroll/<token>`, an address phones on the site LAN open: what the
    /// poster's QR carries. `null` when the gateway knows no such address (`url_unavailable` says why).
    pub url: Option<String>,
    /// Why there is no `url`, for the staff screen; absent when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_unavailable: Option<&'static str>,
    pub name: String,
    pub description: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub cap: Option<u32>,
    pub allocation: AllocationIds,
    /// The allocation's units with their names.
    pub units: Vec<UnitOut>,
    pub active: bool,
    pub pinned: bool,
    /// Distinct users who came through it.
    pub used: u32,
    pub state: LinkState,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

fn link_out(d: &LinkDetail, base: &BaseUrl, now: OffsetDateTime) -> LinkOut {
    let l = &d.link;
    LinkOut {
        id: l.id,
        token: l.token.clone(),
        url: base.link(&l.token),
        url_unavailable: base.0.is_none().then_some(NO_PHONE_URL),
        name: l.name.clone(),
        description: l.description.clone(),
        expires_at: l.expires_at.map(rfc3339),
        cap: l.cap,
        allocation: AllocationIds::from_domain(&l.allocation),
        units: d.units.iter().map(UnitOut::from).collect(),
        active: l.active,
        pinned: l.pinned,
        used: l.used,
        state: l.state(now),
        created_at: rfc3339(l.created_at),
        updated_at: rfc3339(l.updated_at),
    }
}

/// A link's ID from the path; anything that is not a UUID names no link.
pub(crate) fn link_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no link has this ID").with_field("id")
    })
}

/// Every access link, oldest first.
#[utoipa::path(get, path = "/api/links", tag = "links", responses(
    (status = 200, body = Vec<LinkOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_links(State(state): State<AppState>, base: BaseUrl) -> ApiResult<Json<Vec<LinkOut>>> {
    let now = state.services.now();
    let links = state.services.list_links().await?;
    Ok(Json(links.iter().map(|d| link_out(d, &base, now)).collect()))
}

/// A new link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLinkRequest {
    #[schema(min_length = 1, max_length = 100, example = "Site A – Safety induction")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// After this date-time (RFC 3339, in the future) the link enrolls nobody.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Most distinct users the link may enroll.
    #[schema(minimum = 1, maximum = 100000)]
    pub cap: Option<u32>,
    #[serde(default)]
    pub allocation: AllocationIds,
    /// Show the link as a tile on the kiosk's start screen.
    #[serde(default)]
    pub pinned: bool,
}

/// Create an access link with a fresh unguessable token.
#[utoipa::path(post, path = "/api/links", tag = "links", request_body = CreateLinkRequest, responses(
    (status = 201, body = LinkOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn create_link(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    base: BaseUrl,
    ApiJson(req): ApiJson<CreateLinkRequest>,
) -> ApiResult<(StatusCode, Json<LinkOut>)> {
    within("name", &req.name, LINK_NAME_MAX_CHARS)?;
    within("description", &req.description, LINK_DESCRIPTION_MAX_CHARS)?;
    let input = LinkInput {
        name: req.name,
        description: req.description,
        expires_at: req.expires_at,
        cap: req.cap,
        allocation: req.allocation.into_domain()?,
        pinned: req.pinned,
    };
    let d = state.services.create_link(p.actor(), input).await?;
    let now = state.services.now();
    Ok((StatusCode::CREATED, Json(link_out(&d, &base, now))))
}

/// One access link.
#[utoipa::path(get, path = "/api/links/{id}", tag = "links",
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, body = LinkOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn show_link(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<LinkOut>> {
    let d = state.services.link_detail(link_id(&id)?).await?;
    Ok(Json(link_out(&d, &base, state.services.now())))
}

/// Changes to a link; absent fields stay as they are. `null` removes the expiry or the cap.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLinkRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable_time")]
    #[schema(value_type = Option<String>, format = DateTime, nullable)]
    pub expires_at: Option<Option<OffsetDateTime>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100000, nullable)]
    pub cap: Option<Option<u32>>,
    pub allocation: Option<AllocationIds>,
    pub pinned: Option<bool>,
}

fn nullable<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn nullable_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    time::serde::rfc3339::option::deserialize(d).map(Some)
}

/// Edit a link: name, description, expiry, cap, allocation, pinned.
#[utoipa::path(patch, path = "/api/links/{id}", tag = "links", request_body = UpdateLinkRequest,
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, body = LinkOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn update_link(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    base: BaseUrl,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateLinkRequest>,
) -> ApiResult<Json<LinkOut>> {
    let id = link_id(&id)?;
    if let Some(n) = &req.name {
        within("name", n, LINK_NAME_MAX_CHARS)?;
    }
    if let Some(d) = &req.description {
        within("description", d, LINK_DESCRIPTION_MAX_CHARS)?;
    }
    let patch = LinkPatch {
        name: req.name,
        description: req.description,
        expires_at: req.expires_at,
        cap: req.cap,
        allocation: req.allocation.map(AllocationIds::into_domain).transpose()?,
        pinned: req.pinned,
    };
    let d = state.services.update_link(p.actor(), id, patch).await?;
    Ok(Json(link_out(&d, &base, state.services.now())))
}

/// Deactivate a link: it enrolls nobody until reactivated.
#[utoipa::path(post, path = "/api/links/{id}/deactivate", tag = "links", request_body = Empty,
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, body = LinkOut),
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
async fn deactivate_link(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    base: BaseUrl,
    Path(id): Path<String>,
    ApiJson(_empty): ApiJson<Empty>,
) -> ApiResult<Json<LinkOut>> {
    let d = state
        .services
        .set_link_active(p.actor(), link_id(&id)?, false)
        .await?;
    Ok(Json(link_out(&d, &base, state.services.now())))
}

/// Reactivate a deactivated link.
#[utoipa::path(post, path = "/api/links/{id}/reactivate", tag = "links", request_body = Empty,
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, body = LinkOut),
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
async fn reactivate_link(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    base: BaseUrl,
    Path(id): Path<String>,
    ApiJson(_empty): ApiJson<Empty>,
) -> ApiResult<Json<LinkOut>> {
    let d = state
        .services
        .set_link_active(p.actor(), link_id(&id)?, true)
        .await?;
    Ok(Json(link_out(&d, &base, state.services.now())))
}

/// One person who came through a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageUserOut {
    /// User ID.
    pub id: String,
    /// "Given Family" as the record holds it now.
    pub name: String,
    pub given_name: String,
    pub family_name: String,
    pub employer: Option<String>,
    /// When they came through the link.
    #[schema(format = DateTime)]
    pub enrolled_at: String,
    /// True for an existing user who proved who they are; false for a sign-up.
    pub existing_user: bool,
    /// `kiosk`, or the address of the phone or laptop.
    pub source: Option<String>,
    /// Where the link put them.
    pub allocated: Vec<UnitOut>,
}

/// A link's usage: how many, who, when, where allocated.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageOut {
    pub link_id: Uuid,
    pub name: String,
    /// Distinct users who came through the link.
    pub count: u32,
    pub cap: Option<u32>,
    pub users: Vec<UsageUserOut>,
}

impl From<&LinkUsage> for UsageOut {
    fn from(u: &LinkUsage) -> Self {
        UsageOut {
            link_id: u.link.id,
            name: u.link.name.clone(),
            count: u.link.used,
            cap: u.link.cap,
            users: u
                .rows
                .iter()
                .map(|r| {
                    let (given, family) = r
                        .user
                        .as_ref()
                        .map(|x| (x.name.given.clone(), x.name.family.clone()))
                        .unwrap_or_default();
                    UsageUserOut {
                        id: r.entry.user_id.to_string(),
                        name: format!("{given} {family}").trim().to_string(),
                        given_name: given,
                        family_name: family,
                        employer: r.user.as_ref().and_then(|x| x.employer.clone()),
                        enrolled_at: rfc3339(r.entry.at),
                        existing_user: r.entry.existing_user,
                        source: r.entry.source.clone(),
                        allocated: r.entry.allocated.iter().map(UnitOut::from).collect(),
                    }
                })
                .collect(),
        }
    }
}

/// Who came through a link, live.
#[utoipa::path(get, path = "/api/links/{id}/usage", tag = "links",
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, body = UsageOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn link_usage(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<UsageOut>> {
    let usage = state.services.link_usage(link_id(&id)?).await?;
    Ok(Json(UsageOut::from(&usage)))
}
