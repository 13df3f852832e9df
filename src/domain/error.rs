//! The domain's error type: what went wrong, in the user's terms.

/// A rule of the domain said no. Each variant maps to one stable API `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value breaks a rule (length, format, allowed values).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A typed gateway ID whose check symbol does not match: a typo, caught before any lookup.
    #[error("the ID {0} has a wrong check character: check the ID")]
    IdTypo(String),
    /// A change that would contradict a rule of the record's current state.
    #[error("{0}")]
    Conflict(String),
    /// An access link that enrolls nobody right now.
    #[error(transparent)]
    Link(#[from] super::link::LinkRefusal),
    /// An enrollment form the site's rules refuse (terms, contact).
    #[error(transparent)]
    Enrollment(#[from] super::enrollment::EnrollmentRefusal),
    /// A class that does not allow this now (not open yet, closed, cancelled).
    #[error(transparent)]
    Class(#[from] super::classroom::ClassRefusal),
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
