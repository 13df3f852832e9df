//! The one HTTP error type: every failure becomes an RFC 9457 problem+json body with a stable `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::DomainError;
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: Some(detail.into()),
            field: None,
        }
    }

    pub fn bare(status: StatusCode, code: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            detail: None,
            field: None,
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
        }
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
            ServiceError::Unauthenticated => ApiError::unauthenticated(),
            ServiceError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            ServiceError::UserDeactivated(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "user_deactivated", e.to_string())
            }
            ServiceError::AlreadyInitialized => {
                ApiError::new(StatusCode::CONFLICT, "already_initialized", e.to_string())
            }
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
