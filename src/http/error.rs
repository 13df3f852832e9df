//! The one HTTP error type: every failure becomes an RFC 9457 problem+json body with a stable `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::DomainError;
use crate::domain::classroom::ClassRefusal;
use crate::domain::enrollment::EnrollmentRefusal;
use crate::domain::link::LinkRefusal;
use crate::service::ServiceError;
use crate::store::StoreError;

/// The problem+json body (RFC 9457), as documented in the OpenAPI document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `about:blank` or a sitegate problem page.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable, machine-readable code (e.g. `invalid_field`, `id_typo`, `invalid_credentials`).
    pub code: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: Option<String>,
    pub field: Option<String>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: Some(detail.into()),
            field: None,
            retry_after: None,
        }
    }

    pub fn bare(status: StatusCode, code: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            detail: None,
            field: None,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first (or your session has ended)",
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the gateway; it has been logged",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            field: self.field.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.to_string())
                    .with_field(field)
            }
            DomainError::IdTypo(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "id_typo", e.to_string())
                    .with_field("user_id")
            }
            DomainError::Conflict(msg) => ApiError::new(StatusCode::CONFLICT, "conflict", msg),
            DomainError::Link(refusal) => link_refusal(refusal),
            DomainError::Class(refusal) => class_refusal(refusal),
            DomainError::Enrollment(EnrollmentRefusal::TermsNotAccepted { field, detail }) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "terms_not_accepted", detail)
                    .with_field(field)
            }
            DomainError::Enrollment(EnrollmentRefusal::ContactRequired { field, detail }) => {
                let e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "contact_required", detail);
                match field {
                    Some(f) => e.with_field(f),
                    None => e,
                }
            }
        }
    }
}

/// Each reason a link enrolls nobody has its own code, so the kiosk can say which in the worker's language.
fn link_refusal(refusal: LinkRefusal) -> ApiError {
    let (status, code) = match refusal {
        LinkRefusal::Expired => (StatusCode::GONE, "link_expired"),
        LinkRefusal::Deactivated => (StatusCode::GONE, "link_deactivated"),
        LinkRefusal::Full => (StatusCode::CONFLICT, "link_full"),
    };
    ApiError::new(status, code, refusal.to_string())
}

/// Each reason a class refuses has its own code, so a kiosk can say which.
fn class_refusal(refusal: ClassRefusal) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        class_refusal_code(refusal),
        refusal.to_string(),
    )
}

/// The stable code of a class's refusal.
pub(crate) fn class_refusal_code(refusal: ClassRefusal) -> &'static str {
    match refusal {
        ClassRefusal::NotOpenYet => "class_not_open",
        ClassRefusal::Closed => "class_closed",
        ClassRefusal::Cancelled => "class_cancelled",
        ClassRefusal::NotScheduled => "class_not_scheduled",
        ClassRefusal::Finished => "class_finished",
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Domain(d) => d.into(),
            ServiceError::NotFound { what, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
                    .with_field(if what == "user" { "user_id" } else { what })
            }
            ServiceError::Duplicate { field, .. } => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate",
                format!("{field} is already used by another user"),
            )
            .with_field(field),
            ServiceError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "the ID or PIN is not right",
            ),
            ServiceError::InvalidBootstrapCode => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_bootstrap_code", e.to_string())
            }
            ServiceError::Unauthenticated => ApiError::unauthenticated(),
            ServiceError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            ServiceError::NotClassInstructor => {
                ApiError::new(StatusCode::FORBIDDEN, "not_class_instructor", e.to_string())
            }
            ServiceError::UserDeactivated(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "user_deactivated", e.to_string())
            }
            ServiceError::AlreadyInitialized { .. } => {
                ApiError::new(StatusCode::CONFLICT, "already_initialized", e.to_string())
            }
            ServiceError::LoginThrottled { retry_after_secs } => {
                let mut a = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "login_throttled", e.to_string());
                a.retry_after = Some(retry_after_secs);
                a
            }
            ServiceError::DeviceThrottled { retry_after_secs } => {
                let mut a = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "device_throttled", e.to_string());
                a.retry_after = Some(retry_after_secs);
                a
            }
            ServiceError::LoginSuspended => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "pin_login_suspended",
                e.to_string(),
            ),
            ServiceError::TotpRequired => {
                ApiError::new(StatusCode::UNAUTHORIZED, "totp_required", e.to_string()).with_field("totp")
            }
            ServiceError::ClassroomOnly(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "classroom_only", e.to_string())
            }
            ServiceError::DeviceUnpaired => {
                ApiError::new(StatusCode::UNAUTHORIZED, "device_unpaired", e.to_string())
            }
            ServiceError::DeviceRevoked => {
                ApiError::new(StatusCode::FORBIDDEN, "device_revoked", e.to_string())
            }
            ServiceError::PairingPending => {
                ApiError::new(StatusCode::CONFLICT, "pairing_pending", e.to_string())
            }
            ServiceError::PairingRejected => {
                ApiError::new(StatusCode::FORBIDDEN, "pairing_rejected", e.to_string())
            }
            ServiceError::PairingQueueFull(_) => {
                let mut a = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "pairing_queue_full", e.to_string());
                a.retry_after = Some(60);
                a
            }
            ServiceError::TooManyOtps(_) => {
                ApiError::new(StatusCode::CONFLICT, "too_many_otps", e.to_string())
            }
            ServiceError::ModuleNotAssigned(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "module_not_assigned",
                e.to_string(),
            )
            .with_field("module_id"),
            ServiceError::EventIdReused(_) => {
                ApiError::new(StatusCode::CONFLICT, "event_id_reused", e.to_string()).with_field("event_id")
            }
            ServiceError::PinOnlyLoginOff => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "pin_only_login_off",
                e.to_string(),
            )
            .with_field("user_id"),
            ServiceError::LinkUnknown => ApiError::new(StatusCode::NOT_FOUND, "link_unknown", e.to_string()),
            ServiceError::ExistingUser { field } => ApiError::new(
                StatusCode::CONFLICT,
                "existing_user",
                format!("someone with this {field} is already registered: sign in with your ID and PIN"),
            )
            .with_field(field),
            ServiceError::Badge(refusal) => {
                use crate::domain::badge::BadgeRefusal;
                let status = match refusal {
                    BadgeRefusal::NotSitegate | BadgeRefusal::BadSignature => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    BadgeRefusal::Unknown => StatusCode::NOT_FOUND,
                    BadgeRefusal::Retired => StatusCode::CONFLICT,
                    BadgeRefusal::HolderDeactivated => StatusCode::FORBIDDEN,
                };
                ApiError::new(status, refusal.code(), refusal.to_string()).with_field("payload")
            }
            ServiceError::PrintingUnavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "printing_unavailable",
                "badge printing is not set up on this gateway",
            ),
            ServiceError::Central(e) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "central_error", e.to_string())
            }
            ServiceError::CentralFile(detail) => {
                tracing::error!(error = %detail, "the central credential file");
                ApiError::internal()
            }
            ServiceError::Render(detail) => {
                tracing::error!(error = %detail, "badge rendering failed");
                ApiError::internal()
            }
            ServiceError::Store(inner) => {
                tracing::error!(error = %inner, source = ?std::error::Error::source(&inner), "storage error");
                match inner {
                    StoreError::Corrupt { .. } => ApiError::internal(),
                    _ => ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "storage_unavailable",
                        "the gateway could not save or read data; try again",
                    ),
                }
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
