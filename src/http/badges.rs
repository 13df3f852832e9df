//! Badges and the print queue over HTTP: issue/reprint, PNG preview, scan verification, job state, printers, and the kiosk's self-service reprint.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use super::auth::rfc3339;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, Client, ListenerKind};
use super::users::UserOut;
use crate::domain::badge::BadgeState;
use crate::domain::ids::UserId;
use crate::domain::print_job::{JobKind, JobState, PrintFault, PrintJob};
use crate::printer::PrinterHealth;
use crate::service::auth::Principal;
use crate::service::badges::{HolderProof, IssuedBadge};

/// Issue, preview, jobs and printers: managers and admins.
pub fn manage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_badge))
        .routes(routes!(badge_png))
        .routes(routes!(list_jobs))
        .routes(routes!(show_job))
        .routes(routes!(list_printers))
}

/// Scan verification: every staff role (instructors check people in by badge).
pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_badge))
}

/// The kiosk's own routes: public, but answered only on the kiosk listener.
pub fn kiosk_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kiosk_reprint))
        .routes(routes!(kiosk_job))
        .routes(routes!(kiosk_job_png))
}

/// A PNG image: the badge bitmap exactly as it prints.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PngImage(pub Vec<u8>);

fn png(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
}

fn kiosk_only(client: &Client) -> ApiResult<()> {
    if client.listener == ListenerKind::Kiosk {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "kiosk_only",
            "this is answered only on the kiosk screen of the gateway",
        ))
    }
}

pub(crate) fn job_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "id: not a job ID (UUID)",
        )
        .with_field("id")
    })
}

/// A print job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintJobOut {
    pub id: Uuid,
    /// `badge`, or `on_site_list` (the roll call printed from the on-site screen).
    pub kind: JobKind,
    /// `queued`, `printing`, `printed` or `failed`.
    pub state: JobState,
    pub printer: String,
    /// The badge's holder; absent for an on-site list.
    pub user_id: Option<String>,
    pub badge_serial: Option<u32>,
    pub attempts: u32,
    /// Why the last try failed: `paper_out`, `cover_open`, `offline`, `refused`, `timeout`, … A
    /// queued job with a last error is waiting to be retried: staff have been told.
    pub last_error: Option<PrintFault>,
    pub last_error_detail: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// When a queued job is tried next.
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
}

impl PrintJobOut {
    pub(crate) fn new(j: &PrintJob, serial: Option<u32>) -> PrintJobOut {
        PrintJobOut {
            id: j.id,
            kind: j.kind(),
            state: j.state,
            printer: j.printer.clone(),
            user_id: j.badge().map(|(_, u)| u.to_string()),
            badge_serial: serial,
            attempts: j.attempts,
            last_error: j.last_error,
            last_error_detail: j.last_error_detail.clone(),
            created_at: rfc3339(j.created_at),
            updated_at: rfc3339(j.updated_at),
            next_attempt_at: (j.state == JobState::Queued).then(|| rfc3339(j.next_attempt_at)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BadgeOut {
    /// The badge number (the QR holds it with its signature).
    pub number: String,
    pub serial: u32,
    pub state: BadgeState,
    #[schema(format = DateTime)]
    pub issued_at: String,
}

/// Characters the badge printer's fonts lack: they print as empty boxes. Staff screens show
/// `message`; set `printing.font_file` to a font that has them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingGlyphsOut {
    /// Each character once, as text.
    pub characters: Vec<String>,
    /// One line for staff, in English.
    pub message: String,
}

impl MissingGlyphsOut {
    /// `None` when every character prints.
    pub(crate) fn new(chars: &[char]) -> Option<MissingGlyphsOut> {
        (!chars.is_empty()).then(|| MissingGlyphsOut {
            characters: chars.iter().map(char::to_string).collect(),
            message: crate::printer::missing_glyphs_message(chars),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedOut {
    pub badge: BadgeOut,
    /// The badge it replaces, now refused when scanned.
    pub retired: Option<String>,
    pub job: PrintJobOut,
    /// Set when the badge has characters that will print as empty boxes; null otherwise.
    pub missing_glyphs: Option<MissingGlyphsOut>,
}

impl From<IssuedBadge> for IssuedOut {
    fn from(i: IssuedBadge) -> Self {
        IssuedOut {
            missing_glyphs: MissingGlyphsOut::new(&i.missing_glyphs),
            job: PrintJobOut::new(&i.job, Some(i.badge.serial)),
            retired: i.retired.map(|n| n.to_string()),
            badge: BadgeOut {
                number: i.badge.number.to_string(),
                serial: i.badge.serial,
                state: i.badge.state,
                issued_at: rfc3339(i.badge.issued_at),
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBadgeRequest {
    /// A configured printer's name; default: the first printer.
    #[schema(min_length = 1, max_length = 100)]
    pub printer: Option<String>,
}

/// Issue a badge (or reprint: the old badge is retired, the serial raised) and queue it for printing.
#[utoipa::path(post, path = "/api/users/{id}/badge", tag = "badges", request_body = IssueBadgeRequest,
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 201, body = IssuedOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn issue_badge(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<IssueBadgeRequest>,
) -> ApiResult<(StatusCode, Json<IssuedOut>)> {
    let issued = state
        .services
        .issue_badge(p.actor(), UserId::parse(&id)?, req.printer)
        .await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// The user's current badge as a PNG: the same bitmap that prints on the first printer.
#[utoipa::path(get, path = "/api/users/{id}/badge.png", tag = "badges",
    params(("id" = String, Path, max_length = 64, description = "User ID")), responses(
    (status = 200, body = PngImage, content_type = "image/png"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn badge_png(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(png(state.services.badge_preview(UserId::parse(&id)?).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// How many, newest first: 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u16>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrintJobList {
    pub jobs: Vec<PrintJobOut>,
}

/// Print jobs, newest first, with their state and last fault.
#[utoipa::path(get, path = "/api/print-jobs", tag = "badges", params(JobsQuery), responses(
    (status = 200, body = PrintJobList),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_jobs(
    State(state): State<AppState>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PrintJobList>> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let limit = usize::from(q.limit.unwrap_or(50));
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "limit: must be 1 to 500",
        )
        .with_field("limit"));
    }
    let jobs = state.services.list_print_jobs(limit).await?;
    Ok(Json(PrintJobList {
        jobs: jobs.iter().map(|j| PrintJobOut::new(j, None)).collect(),
    }))
}

/// One print job.
#[utoipa::path(get, path = "/api/print-jobs/{id}", tag = "badges",
    params(("id" = String, Path, max_length = 36, description = "Job ID")), responses(
    (status = 200, body = PrintJobOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn show_job(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<PrintJobOut>> {
    let job = state.services.print_job(job_id(&id)?).await?;
    Ok(Json(PrintJobOut::new(&job, None)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrinterOut {
    pub name: String,
    pub url: String,
    pub profile: String,
    pub profile_name: String,
    /// Takes jobs when the first printer fails.
    pub failover: bool,
    /// The last answer and fault seen while printing; absent before the first job.
    pub health: Option<PrinterHealth>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrinterList {
    pub printers: Vec<PrinterOut>,
}

/// The configured badge printers and what each said last.
#[utoipa::path(get, path = "/api/printers", tag = "badges", responses(
    (status = 200, body = PrinterList),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn list_printers(State(state): State<AppState>) -> ApiResult<Json<PrinterList>> {
    let printing = state.services.printing.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "printing_unavailable",
            "badge printing is not set up",
        )
    })?;
    let printers = printing
        .printers
        .iter()
        .map(|p| PrinterOut {
            name: p.name.clone(),
            url: p.url.to_string(),
            profile: p.profile.id.clone(),
            profile_name: p.profile.name.clone(),
            failover: printing.failover.as_deref() == Some(p.name.as_str()),
            health: printing.health(&p.name),
        })
        .collect();
    Ok(Json(PrinterList { printers }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// What the scanner read from the badge's QR.
    #[schema(min_length = 1, max_length = 200, example = "SG17D3KQ9M2XAB4C8D6E0FG1H")]
    pub payload: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedOut {
    pub user: UserOut,
    pub badge: BadgeOut,
}

/// Check a scanned badge: who holds it, or why it is refused (`badge_not_sitegate`,
/// `badge_forged`, `badge_unknown`, `badge_retired`, `user_deactivated`).
#[utoipa::path(post, path = "/api/badges/verify", tag = "badges", request_body = VerifyRequest, responses(
    (status = 200, body = VerifiedOut),
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
async fn verify_badge(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Client,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> ApiResult<Json<VerifiedOut>> {
    if req.payload.is_empty() || req.payload.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "payload: 1 to 200 characters",
        )
        .with_field("payload"));
    }
    let v = state
        .services
        .verify_badge(p.actor(), req.payload, client.source())
        .await?;
    Ok(Json(VerifiedOut {
        user: UserOut::from(&v.user),
        badge: BadgeOut {
            number: v.badge.number.to_string(),
            serial: v.badge.serial,
            state: v.badge.state,
            issued_at: rfc3339(v.badge.issued_at),
        },
    }))
}

/// Either `user_id` + `pin`, or `badge` (a scan of the holder's current badge).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskReprintRequest {
    #[schema(min_length = 1, max_length = 64, example = "ABCDE-FGHJK")]
    pub user_id: Option<String>,
    #[schema(min_length = 1, max_length = 32)]
    pub pin: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub badge: Option<String>,
}

/// What the kiosk shows after a reprint: the job to follow. No personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct KioskJobOut {
    pub job_id: Uuid,
    pub state: JobState,
    pub attempts: u32,
    /// Set while the printer has a problem (`paper_out`: "printer out of paper, staff have been told").
    pub last_error: Option<PrintFault>,
}

impl From<&PrintJob> for KioskJobOut {
    fn from(j: &PrintJob) -> Self {
        KioskJobOut {
            job_id: j.id,
            state: j.state,
            attempts: j.attempts,
            last_error: j.last_error,
        }
    }
}

fn bad_field(field: &'static str, detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        format!("{field}: {detail}"),
    )
    .with_field(field)
}

/// Reprint my badge, at the kiosk: prove who you are with ID + PIN or a scan of your badge.
/// The old badge stops working. Answered only on the kiosk listener.
#[utoipa::path(post, path = "/api/kiosk/reprint", tag = "kiosk", request_body = KioskReprintRequest, responses(
    (status = 201, body = KioskJobOut),
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
async fn kiosk_reprint(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<KioskReprintRequest>,
) -> ApiResult<(StatusCode, Json<KioskJobOut>)> {
    kiosk_only(&client)?;
    let proof = match (req.user_id, req.pin, req.badge) {
        (Some(user_id), Some(pin), None) => {
            if pin.is_empty() || pin.len() > 32 {
                return Err(bad_field("pin", "1 to 32 characters"));
            }
            HolderProof::Pin {
                user_id: UserId::parse(&user_id)?,
                pin,
            }
        }
        (None, None, Some(badge)) => {
            if badge.is_empty() || badge.chars().count() > 200 {
                return Err(bad_field("badge", "1 to 200 characters"));
            }
            HolderProof::Badge { payload: badge }
        }
        _ => return Err(bad_field("badge", "send either user_id and pin, or badge")),
    };
    let issued = state.services.kiosk_reprint(proof, client.source()).await?;
    Ok((StatusCode::CREATED, Json(KioskJobOut::from(&issued.job))))
}

/// A print job's state, for the kiosk screen that started it. Answered only on the kiosk listener.
#[utoipa::path(get, path = "/api/kiosk/print-jobs/{id}", tag = "kiosk",
    params(("id" = String, Path, max_length = 36, description = "Job ID")), responses(
    (status = 200, body = KioskJobOut),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn kiosk_job(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> ApiResult<Json<KioskJobOut>> {
    kiosk_only(&client)?;
    let job = state.services.print_job(job_id(&id)?).await?;
    Ok(Json(KioskJobOut::from(&job)))
}

/// The badge a print job prints, as a PNG, for the kiosk screen. Answered only on the kiosk listener.
#[utoipa::path(get, path = "/api/kiosk/print-jobs/{id}/badge.png", tag = "kiosk",
    params(("id" = String, Path, max_length = 36, description = "Job ID")), responses(
    (status = 200, body = PngImage, content_type = "image/png"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn kiosk_job_png(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    kiosk_only(&client)?;
    Ok(png(state.services.job_preview(job_id(&id)?).await?))
}
