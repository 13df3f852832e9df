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
    /// A bootstrap code was refused; like a sign-in it does not say whether the ID or the code was wrong.
    #[error(
        "the ID or the bootstrap code is not right, or the code has expired or was used already (`sitegate init` issues a new one)"
    )]
    InvalidBootstrapCode,
    #[error("not signed in, or the session has ended")]
    Unauthenticated,
    #[error("this needs one of the roles: {0}")]
    Forbidden(String),
    /// The class is run (and its roster seen) only by its own instructors, managers and admins.
    #[error("only this class's instructors, a manager or an admin may do this")]
    NotClassInstructor,
    #[error("user {0} is deactivated")]
    UserDeactivated(String),
    /// `init` found an admin who has a PIN: it changed nothing.
    #[error(
        "sitegate is already initialised: admin {id} ({name}) exists and has a PIN; nothing was changed \
         (a new PIN for them: `sitegate user pin {id}`; another admin: `sitegate user add --role admin ...`)"
    )]
    AlreadyInitialized { id: String, name: String },
    /// No access link has this token.
    #[error("no access link has this address")]
    LinkUnknown,
    /// The enrollment form's email or phone belongs to a user who exists: they must prove who they are.
    #[error("a user with this {field} exists already")]
    ExistingUser { field: &'static str },
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
    /// The central system could not be reached or refused a join/leave; the words say which.
    #[error("{0}")]
    Central(#[from] crate::sync::client::CentralError),
    /// The central credential file could not be read or written.
    #[error("{0}")]
    CentralFile(String),
    /// Too many failures on this account: wait before the next try.
    #[error("too many failed logins for this account; try again in {retry_after_secs} s")]
    LoginThrottled { retry_after_secs: u64 },
    /// This device (or source address) used up its failures for the day.
    #[error("too many failed logins from this device; try again in {retry_after_secs} s or ask staff")]
    DeviceThrottled { retry_after_secs: u64 },
    /// Site-wide failures used up: logins from headsets and laptops are suspended until staff clear it.
    #[error(
        "logins from headsets and laptops are suspended after too many failures; staff must clear it at the kiosk"
    )]
    LoginSuspended,
    /// The PIN was right; this user must also give their authenticator code.
    #[error("enter the code from your authenticator app too")]
    TotpRequired,
    #[error("user {0} has classroom-only access: log in while checked in to an open class")]
    ClassroomOnly(String),
    #[error("this device is not paired with the gateway")]
    DeviceUnpaired,
    #[error("this device's pairing was revoked by staff")]
    DeviceRevoked,
    #[error("the pairing request still waits for staff approval")]
    PairingPending,
    #[error("staff rejected the pairing request")]
    PairingRejected,
    #[error("too many pairing requests are waiting for staff ({0}); try again later")]
    PairingQueueFull(u32),
    #[error("{0} one-time passwords are already outstanding; revoke some or wait for them to expire")]
    TooManyOtps(u32),
    #[error("module {0} is not assigned to this user")]
    ModuleNotAssigned(String),
    #[error("event {0} was already reported with different content")]
    EventIdReused(String),
    #[error("PIN-only login is off on this site: name the user (user_id) with the PIN")]
    PinOnlyLoginOff,
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
