//! Walk-ins over HTTP: the instructor's pass for someone without an account, and what the pass did,
//! as the end of an enrollment reports it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::attendance::site_hhmm;
use super::auth::rfc3339;
use super::classes::class_id;
use super::enroll::within;
use super::error::{ApiResult, Problem, class_refusal_code};
use super::extract::ApiJson;
use crate::domain::classroom::Class;
use crate::service::auth::Principal;
use crate::service::walk_in::{WalkInCheckIn, WalkInRefused};

pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_pass))
}

/// Longest pass accepted; real ones are 22 characters.
pub(crate) const PASS_MAX: usize = 64;

/// The access link the walk-in will enroll through (one of the kiosk's, from `/api/kiosk/links`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalkInRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub link_token: String,
}

/// A walk-in pass: send it with the enrollment (`walk_in_pass`) and the newcomer arrives checked in.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalkInPassOut {
    /// Shown this once; one use.
    pub pass: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub class_id: Uuid,
    pub class_title: String,
    pub link_name: String,
    /// The enrollment page of the link, for this screen.
    pub enroll_path: String,
}

/// Issue a one-use walk-in pass (30 minutes) for the open class: someone without an account enrolls
/// through the link with it and comes back checked in.
#[utoipa::path(post, path = "/api/classes/{id}/walk-ins", tag = "classroom", request_body = WalkInRequest,
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 201, body = WalkInPassOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found` (class) or `link_unknown`"),
    (status = 409, body = Problem, content_type = "application/problem+json", description = "`class_not_open`, `class_closed`, `class_cancelled`, `link_full` or `conflict` (too many waiting passes)"),
    (status = 410, body = Problem, content_type = "application/problem+json", description = "`link_expired` or `link_deactivated`"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn issue_pass(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<WalkInRequest>,
) -> ApiResult<(StatusCode, Json<WalkInPassOut>)> {
    let id = class_id(&id)?;
    within("link_token", &req.link_token, PASS_MAX)?;
    let issued = state.services.issue_walk_in_pass(p, id, req.link_token).await?;
    Ok((
        StatusCode::CREATED,
        Json(WalkInPassOut {
            expires_at: rfc3339(issued.pass.expires_at),
            class_id: issued.class.id,
            class_title: issued.class.title,
            link_name: issued.link.name,
            enroll_path: format!("/enroll/{}", issued.link.token),
            pass: issued.token,
        }),
    ))
}

/// What the walk-in pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WalkInStatus {
    CheckedIn,
    /// Checked in already: nothing changed.
    AlreadyCheckedIn,
    /// Not checked in (`code` says why); the enrollment stands.
    Refused,
}

/// The class check-in that came with a walk-in's enrollment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassCheckInOut {
    pub status: WalkInStatus,
    pub class_id: Option<Uuid>,
    pub class_title: Option<String>,
    pub room: Option<String>,
    /// When they were checked in.
    #[schema(format = DateTime)]
    pub at: Option<String>,
    /// For a refusal: `walk_in_pass_unknown`, `walk_in_pass_expired`, `walk_in_pass_used`,
    /// `walk_in_pass_other_link`, `class_closed`, `class_cancelled`, `class_not_open`.
    pub code: Option<&'static str>,
    /// For people: "Checked in to Working at height at 09:14", or why not.
    pub message: String,
}

impl ClassCheckInOut {
    pub(crate) fn new(state: &AppState, w: &WalkInCheckIn) -> ClassCheckInOut {
        let hhmm = |t: OffsetDateTime| site_hhmm(state, t);
        let of = |class: Option<&Class>, status, at: Option<OffsetDateTime>, code, message| ClassCheckInOut {
            status,
            class_id: class.map(|c| c.id),
            class_title: class.map(|c| c.title.clone()),
            room: class.map(|c| c.room.clone()),
            at: at.map(rfc3339),
            code,
            message,
        };
        match w {
            WalkInCheckIn::CheckedIn { class, at } => of(
                Some(class),
                WalkInStatus::CheckedIn,
                Some(*at),
                None,
                format!("Checked in to {} at {}", class.title, hhmm(*at)),
            ),
            WalkInCheckIn::AlreadyIn { class, since } => of(
                Some(class),
                WalkInStatus::AlreadyCheckedIn,
                Some(*since),
                None,
                format!("Already checked in to {} at {}", class.title, hhmm(*since)),
            ),
            WalkInCheckIn::Refused { class, why } => {
                let (code, reason) = match why {
                    WalkInRefused::Pass(r) => (r.code(), r.to_string()),
                    WalkInRefused::Class(r) => (class_refusal_code(*r), r.to_string()),
                };
                of(
                    class.as_ref(),
                    WalkInStatus::Refused,
                    None,
                    Some(code),
                    format!("Not checked in: {reason}"),
                )
            }
        }
    }
}
