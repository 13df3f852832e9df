//! Printing who is on site now over HTTP: `POST /api/on-site/print` queues the list as it is now on the badge printer; `GET /api/on-site/print/{id}` follows that job (staff who may see the list).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::badges::{PrintJobOut, job_id};
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, Client};
use crate::domain::print_job::JobWork;
use crate::service::auth::Principal;

/// The same roles as the on-site list itself.
pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(print_on_site))
        .routes(routes!(on_site_print_job))
}

const PRINTER_MAX: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnSitePrintRequest {
    /// A configured printer's name; default: the first printer.
    #[schema(min_length = 1, max_length = 100)]
    pub printer: Option<String>,
}

/// The queued list: the job to follow and what it holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnSitePrintOut {
    pub job: PrintJobOut,
    /// How many people the printed list names.
    pub people: usize,
    /// The moment the list was taken (site time).
    #[schema(format = DateTime)]
    pub generated_at: String,
    /// Set when the list has characters that will print as empty boxes; null otherwise.
    pub missing_glyphs: Option<super::badges::MissingGlyphsOut>,
}

/// Print who is on site now on the badge printer: the list as it is at this moment is kept in
/// one print job (retried, failed over and recovered after a restart like a badge). Follow it at
/// `GET /api/on-site/print/{id}`. `printing_unavailable` (503) where no printer is set up.
#[utoipa::path(post, path = "/api/on-site/print", tag = "classroom", request_body = OnSitePrintRequest, responses(
    (status = 201, body = OnSitePrintOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn print_on_site(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Client,
    ApiJson(req): ApiJson<OnSitePrintRequest>,
) -> ApiResult<(StatusCode, Json<OnSitePrintOut>)> {
    if let Some(name) = &req.printer
        && (name.is_empty() || name.chars().count() > PRINTER_MAX)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("printer: 1 to {PRINTER_MAX} characters"),
        )
        .with_field("printer"));
    }
    let job = state
        .services
        .print_on_site(p.actor(), req.printer, client.source())
        .await?;
    let (people, generated_at, missing) = match &job.work {
        JobWork::OnSiteList { on_site_list } => (
            on_site_list.people.len(),
            super::auth::rfc3339(on_site_list.generated_at),
            state.services.list_missing_glyphs(on_site_list),
        ),
        JobWork::Badge { .. } => (0, super::auth::rfc3339(job.created_at), Vec::new()),
    };
    Ok((
        StatusCode::CREATED,
        Json(OnSitePrintOut {
            job: PrintJobOut::new(&job, None),
            people,
            generated_at,
            missing_glyphs: super::badges::MissingGlyphsOut::new(&missing),
        }),
    ))
}

/// An on-site list print job: `queued`, `printing`, `printed` or `failed`, and the last fault
/// (`paper_out`, `offline`, …; a queued job with a fault is being retried). Badge jobs are not
/// shown here.
#[utoipa::path(get, path = "/api/on-site/print/{id}", tag = "classroom",
    params(("id" = String, Path, max_length = 36, description = "Job ID")), responses(
    (status = 200, body = PrintJobOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn on_site_print_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PrintJobOut>> {
    let job = state.services.on_site_print_job(job_id(&id)?).await?;
    Ok(Json(PrintJobOut::new(&job, None)))
}
