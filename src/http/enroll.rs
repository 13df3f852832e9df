//! The public enrollment API for the kiosk and phones: kiosk settings, pinned links, a link's preview,
//! enrolling a newcomer, and an existing user proving who they are (each answer says what became of
//! the worker's badge).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::badges::KioskJobOut;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, Client, ListenerKind};
use super::training::TrainingOut;
use super::walk_in::{ClassCheckInOut, PASS_MAX};
use crate::domain::enrollment::{ContactRule, KIOSK_LANGUAGES};
use crate::domain::ids::UserId;
use crate::domain::org::{Unit, UnitKind};
use crate::domain::person::{EMAIL_MAX_LEN, EMPLOYER_MAX_CHARS, NAME_MAX_CHARS};
use crate::service::badges::EnrollmentBadge;
use crate::service::enrollment::{Enrolled, EnrollmentForm};
use crate::service::proof::Proof;

pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kiosk_config))
        .routes(routes!(kiosk_links))
        .routes(routes!(preview, enroll))
        .routes(routes!(enroll_existing))
}

/// Longest token accepted in a path; real tokens are 22 characters.
const TOKEN_MAX: usize = 64;
const PHONE_MAX: usize = 32;
const LANGUAGE_MAX: usize = 16;
const TERMS_VERSION_MAX: usize = 64;
const SECRET_MAX: usize = 32;

/// Refuse a field longer than the schema allows, counted as the schema counts (code points), before
/// any trimming or normalisation could shorten it.
pub(crate) fn within(field: &'static str, value: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: at most {max} characters"),
        )
        .with_field(field));
    }
    Ok(())
}

/// A walk-in pass as sent: absent, or 1 to 64 characters.
fn walk_in_pass(pass: Option<String>) -> ApiResult<Option<String>> {
    match pass {
        Some(p) if p.is_empty() => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "walk_in_pass: leave it out, or send the pass",
        )
        .with_field("walk_in_pass")),
        Some(p) => within("walk_in_pass", &p, PASS_MAX).map(|()| Some(p)),
        None => Ok(None),
    }
}

fn known_token(token: &str) -> ApiResult<()> {
    if token.is_empty() || token.len() > TOKEN_MAX {
        return Err(ApiError::from(crate::service::ServiceError::LinkUnknown));
    }
    Ok(())
}

/// What the kiosk needs before its start screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct KioskConfigOut {
    pub site_name: String,
    /// Languages the kiosk offers; the first is the fallback.
    pub languages: Vec<&'static str>,
    pub terms_version: String,
    pub terms_text: String,
    pub contact_required: ContactRule,
    /// Seconds untouched before the kiosk returns to its start screen and forgets what was typed.
    pub idle_seconds: u32,
}

/// The kiosk's settings: site name, languages, terms, contact rule, idle time.
#[utoipa::path(get, path = "/api/kiosk/config", tag = "enrollment", responses((status = 200, body = KioskConfigOut)))]
async fn kiosk_config(State(state): State<AppState>) -> Json<KioskConfigOut> {
    let s = &state.services.settings;
    Json(KioskConfigOut {
        site_name: s.site_name.clone(),
        languages: KIOSK_LANGUAGES.to_vec(),
        terms_version: s.enrollment.terms_version.clone(),
        terms_text: s.enrollment.terms_text.clone(),
        contact_required: s.enrollment.contact_required,
        idle_seconds: s.kiosk_idle_seconds,
    })
}

/// A link tile on the kiosk's start screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct KioskLinkOut {
    pub token: String,
    pub name: String,
    pub description: String,
}

/// Links pinned to the kiosk that can enroll someone now (active, not expired, not full).
#[utoipa::path(get, path = "/api/kiosk/links", tag = "enrollment", responses(
    (status = 200, body = Vec<KioskLinkOut>),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn kiosk_links(State(state): State<AppState>) -> ApiResult<Json<Vec<KioskLinkOut>>> {
    let links = state.services.kiosk_links().await?;
    Ok(Json(
        links
            .into_iter()
            .map(|l| KioskLinkOut {
                token: l.token,
                name: l.name,
                description: l.description,
            })
            .collect(),
    ))
}

/// A unit a link allocates to, as a worker sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllocatedOut {
    pub kind: UnitKind,
    pub name: String,
}

fn allocated(units: &[Unit]) -> Vec<AllocatedOut> {
    units
        .iter()
        .map(|u| AllocatedOut {
            kind: u.kind,
            name: u.name.clone(),
        })
        .collect()
}

/// A link as the enrollment screen shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkPreviewOut {
    pub name: String,
    pub description: String,
    pub site_name: String,
    /// Where enrolling through this link puts the worker.
    pub allocation: Vec<AllocatedOut>,
}

/// What a link is for, or why it enrolls nobody now.
#[utoipa::path(get, path = "/api/enroll/{token}", tag = "enrollment",
    params(("token" = String, Path, max_length = 64, description = "The link's token, from its URL")), responses(
    (status = 200, body = LinkPreviewOut),
    (status = 404, body = Problem, content_type = "application/problem+json", description = "`link_unknown`"),
    (status = 409, body = Problem, content_type = "application/problem+json", description = "`link_full`"),
    (status = 410, body = Problem, content_type = "application/problem+json", description = "`link_expired` or `link_deactivated`"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn preview(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<LinkPreviewOut>> {
    known_token(&token)?;
    let p = state.services.preview_link(token).await?;
    Ok(Json(LinkPreviewOut {
        name: p.link.name,
        description: p.link.description,
        site_name: state.services.settings.site_name.clone(),
        allocation: allocated(&p.allocation),
    }))
}

/// The enrollment form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    #[schema(min_length = 1, max_length = 100, example = "Zofia")]
    pub given_name: String,
    #[schema(min_length = 1, max_length = 100, example = "Łukasiewicz-Wróbel")]
    pub family_name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// International form: + and the country code.
    #[schema(max_length = 32, example = "+48 601 234 567")]
    pub phone: Option<String>,
    #[schema(max_length = 120)]
    pub employer: Option<String>,
    /// Preferred language code, e.g. en, es, pt, pl.
    #[schema(min_length = 2, max_length = 16, example = "pl")]
    pub language: String,
    /// The version of the terms the worker was shown (from `/api/kiosk/config`).
    #[schema(min_length = 1, max_length = 64)]
    pub terms_version: String,
    pub accept_terms: bool,
    /// An instructor's walk-in pass (`POST /api/classes/{id}/walk-ins`): the newcomer arrives
    /// checked in to that class.
    #[schema(min_length = 1, max_length = 64)]
    pub walk_in_pass: Option<String>,
}

/// The worker as the end screen shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolledUserOut {
    /// `ABCDE-FGHJK`.
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    pub short_name: String,
    pub language: String,
}

/// The end of an enrollment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollOut {
    pub user: EnrolledUserOut,
    /// The new VR PIN, shown this once; `null` for an existing user (their PIN is unchanged).
    pub pin: Option<String>,
    pub training: Vec<TrainingOut>,
    pub allocated: Vec<AllocatedOut>,
    pub badge: EnrollBadgeOut,
    /// When a walk-in pass came with the enrollment: the class check-in it made, or why not.
    pub class_check_in: Option<ClassCheckInOut>,
}

/// What became of the worker's badge.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollBadgeStatus {
    /// Issued and queued: follow `job` (on the kiosk, `GET /api/kiosk/print-jobs/{job_id}`).
    Printing,
    /// An existing user's badge still works and was kept; nothing printed.
    Kept,
    /// Badge printing is not set up on this gateway: staff print the badge later.
    Unavailable,
}

/// The badge at the end of an enrollment. No personal data: the preview is addressed by job ID.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollBadgeOut {
    pub status: EnrollBadgeStatus,
    /// The badge's serial (1 for a first badge).
    pub serial: Option<u32>,
    /// The print job, when one was queued.
    pub job: Option<KioskJobOut>,
    /// The badge as a PNG, answered on this listener: only on the kiosk, whose printer it is.
    /// Over HTTPS (a phone) it is absent: the badge prints at the gate's kiosk printer.
    pub preview_url: Option<String>,
    /// The printer it goes to: `kiosk` (beside the kiosk screen) or `gate` (picked up at the
    /// gate's kiosk, for a phone enrollment).
    pub pickup: Option<&'static str>,
    /// Set when the badge has characters that will print as empty boxes (staff are told);
    /// null otherwise.
    pub missing_glyphs: Option<super::badges::MissingGlyphsOut>,
}

impl EnrollBadgeOut {
    fn new(b: EnrollmentBadge, listener: ListenerKind) -> EnrollBadgeOut {
        let kiosk = listener == ListenerKind::Kiosk;
        match b {
            EnrollmentBadge::Printing(i) => EnrollBadgeOut {
                status: EnrollBadgeStatus::Printing,
                serial: Some(i.badge.serial),
                preview_url: kiosk.then(|| format!("/api/kiosk/print-jobs/{}/badge.png", i.job.id)),
                job: Some(KioskJobOut::from(&i.job)),
                pickup: Some(if kiosk { "kiosk" } else { "gate" }),
                missing_glyphs: super::badges::MissingGlyphsOut::new(&i.missing_glyphs),
            },
            EnrollmentBadge::Kept { serial } => EnrollBadgeOut {
                status: EnrollBadgeStatus::Kept,
                serial: Some(serial),
                job: None,
                preview_url: None,
                pickup: None,
                missing_glyphs: None,
            },
            EnrollmentBadge::Unavailable => EnrollBadgeOut {
                status: EnrollBadgeStatus::Unavailable,
                serial: None,
                job: None,
                preview_url: None,
                pickup: None,
                missing_glyphs: None,
            },
        }
    }
}

impl EnrollOut {
    fn new(state: &AppState, e: Enrolled, listener: ListenerKind) -> Self {
        EnrollOut {
            class_check_in: e.walk_in.as_ref().map(|w| ClassCheckInOut::new(state, w)),
            user: EnrolledUserOut {
                id: e.user.id.to_string(),
                given_name: e.user.name.given.clone(),
                family_name: e.user.name.family.clone(),
                short_name: e.user.name.short(),
                language: e.user.language.as_str().to_string(),
            },
            pin: e.pin,
            training: e.training.iter().map(TrainingOut::from).collect(),
            allocated: allocated(&e.allocated),
            badge: EnrollBadgeOut::new(e.badge, listener),
        }
    }
}

/// Enroll a newcomer through a link: a new user with the link's allocation, training and a VR PIN.
#[utoipa::path(post, path = "/api/enroll/{token}", tag = "enrollment", request_body = EnrollRequest,
    params(("token" = String, Path, max_length = 64, description = "The link's token, from its URL")), responses(
    (status = 201, body = EnrollOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json", description = "`link_unknown`"),
    (status = 409, body = Problem, content_type = "application/problem+json", description = "`link_full`, or `existing_user` (with `field`): prove who you are at `/existing`"),
    (status = 410, body = Problem, content_type = "application/problem+json", description = "`link_expired` or `link_deactivated`"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_field`, `terms_not_accepted` or `contact_required`"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn enroll(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> ApiResult<(StatusCode, Json<EnrollOut>)> {
    known_token(&token)?;
    within("given_name", &req.given_name, NAME_MAX_CHARS)?;
    within("family_name", &req.family_name, NAME_MAX_CHARS)?;
    within("email", req.email.as_deref().unwrap_or(""), EMAIL_MAX_LEN)?;
    within("phone", req.phone.as_deref().unwrap_or(""), PHONE_MAX)?;
    within(
        "employer",
        req.employer.as_deref().unwrap_or(""),
        EMPLOYER_MAX_CHARS,
    )?;
    within("language", &req.language, LANGUAGE_MAX)?;
    within("terms_version", &req.terms_version, TERMS_VERSION_MAX)?;
    let walk_in = walk_in_pass(req.walk_in_pass)?;
    let form = EnrollmentForm {
        given_name: req.given_name,
        family_name: req.family_name,
        email: req.email,
        phone: req.phone,
        employer: req.employer,
        language: req.language,
        terms_version: req.terms_version,
        accept_terms: req.accept_terms,
    };
    let done = state
        .services
        .enroll(token, form, client.source(), walk_in)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollOut::new(&state, done, client.listener)),
    ))
}

/// An existing user's ID and VR PIN.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinProofRequest {
    #[schema(min_length = 1, max_length = 64, example = "ABCDE-FGHJK")]
    pub user_id: String,
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub pin: String,
    /// An instructor's walk-in pass, as for a newcomer.
    #[schema(min_length = 1, max_length = 64)]
    pub walk_in_pass: Option<String>,
}

/// A one-time password staff issued for the user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpProofRequest {
    #[schema(min_length = 1, max_length = 32, example = "12345678")]
    pub otp: String,
    /// An instructor's walk-in pass, as for a newcomer.
    #[schema(min_length = 1, max_length = 64)]
    pub walk_in_pass: Option<String>,
}

/// The user's badge, scanned: its QR payload as the scanner typed it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BadgeProofRequest {
    #[schema(min_length = 1, max_length = 64, example = "SG1ABCDE12345FGHJK67890")]
    pub badge: String,
    /// An instructor's walk-in pass, as for a newcomer.
    #[schema(min_length = 1, max_length = 64)]
    pub walk_in_pass: Option<String>,
}

/// How an existing user proves who they are: ID + PIN, a one-time password, or their badge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExistingProofRequest {
    Pin(PinProofRequest),
    Otp(OtpProofRequest),
    Badge(BadgeProofRequest),
}

/// An existing user comes through a link: after proof (ID + PIN, a staff OTP, or their badge
/// scanned), the link's allocation is added to their record.
#[utoipa::path(post, path = "/api/enroll/{token}/existing", tag = "enrollment", request_body = ExistingProofRequest,
    params(("token" = String, Path, max_length = 64, description = "The link's token, from its URL")), responses(
    (status = 200, body = EnrollOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json", description = "`invalid_credentials` (a forged, unknown or retired badge, or a deactivated holder's, too)"),
    (status = 403, body = Problem, content_type = "application/problem+json", description = "`user_deactivated`"),
    (status = 404, body = Problem, content_type = "application/problem+json", description = "`link_unknown`"),
    (status = 409, body = Problem, content_type = "application/problem+json", description = "`link_full`"),
    (status = 410, body = Problem, content_type = "application/problem+json", description = "`link_expired` or `link_deactivated`"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json", description = "`login_throttled`, `device_throttled`"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn enroll_existing(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<ExistingProofRequest>,
) -> ApiResult<Json<EnrollOut>> {
    known_token(&token)?;
    let (proof, walk_in) = match req {
        ExistingProofRequest::Pin(p) => {
            within("user_id", &p.user_id, 64)?;
            within("pin", &p.pin, SECRET_MAX)?;
            let proof = Proof::Pin {
                user_id: UserId::parse(&p.user_id)?,
                pin: p.pin,
            };
            (proof, walk_in_pass(p.walk_in_pass)?)
        }
        ExistingProofRequest::Otp(o) => {
            within("otp", &o.otp, SECRET_MAX)?;
            (Proof::Otp { otp: o.otp }, walk_in_pass(o.walk_in_pass)?)
        }
        ExistingProofRequest::Badge(b) => {
            within("badge", &b.badge, 64)?;
            (Proof::Badge { payload: b.badge }, walk_in_pass(b.walk_in_pass)?)
        }
    };
    let done = state
        .services
        .enroll_existing(
            token,
            proof,
            super::security::attempt_source(&client),
            client.source(),
            walk_in,
        )
        .await?;
    Ok(Json(EnrollOut::new(&state, done, client.listener)))
}
