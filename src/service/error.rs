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
    /// No access link has this token.
    #[error("no access link has this address")]
    LinkUnknown,
    /// The enrollment form's email or phone belongs to a user who exists: they must prove who they are.
    #[error("a user with this {field} exists already")]
    ExistingUser { field: &'static str },
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
