//! The service layer's one error type: domain refusals, missing records, credentials, and store failures.

use crate::domain::DomainError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{field} is already used by user {owner}")]
    Duplicate { field: &'static str, owner: String },
    /// Sign-in failed; deliberately says nothing about which part was wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("not signed in, or the session has ended")]
    Unauthenticated,
    #[error("this needs one of the roles: {0}")]
    Forbidden(String),
    #[error("user {0} is deactivated")]
    UserDeactivated(String),
    #[error("sitegate is already initialised: an admin exists")]
    AlreadyInitialized,
    /// A scanned badge was refused; each reason has its own code.
    #[error("{0}")]
    Badge(#[from] crate::domain::badge::BadgeRefusal),
    /// Printing is not set up in this process (e.g. a CLI command on the store).
    #[error("badge printing is not available here")]
    PrintingUnavailable,
    /// The badge could not be drawn (a bug or a broken logo/font); logged.
    #[error("the badge could not be drawn: {0}")]
    Render(String),
    #[error("storage failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate { field, owner } => ServiceError::Duplicate {
                field,
                owner: owner.to_string(),
            },
            other => ServiceError::Store(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
