//! How an existing user proves who they are at an access link: ID + VR PIN, a one-time password
//! from staff, or their badge scanned, checked through the throttled verification path every login uses.

use redb::WriteTransaction;

use crate::domain::badge::{self, BadgeRefusal};
use crate::domain::ids::UserId;
use crate::domain::user::User;

use super::security::{self, Attempt, AttemptSource, Presented};
use super::{ServiceError, Services};

/// What a returning worker offers as proof. Its `Debug` never shows the secret.
#[derive(Clone)]
pub enum Proof {
    /// Their ID and VR PIN.
    Pin { user_id: UserId, pin: String },
    /// A one-time password issued by staff.
    Otp { otp: String },
    /// Their badge's QR payload, as the scanner typed it.
    Badge { payload: String },
}

/// Check a proof through the one throttled verification path (`security::verify`): the site,
/// source and account budgets are checked first, the credential with the same work whether or not
/// the account exists, and the attempt is audited as `link.existing_user_proof` either way. A
/// one-time password is used up in the same commit. A badge scan that is not a sitegate badge at
/// all is a shape error (`badge_not_sitegate`, like an ID's wrong check character); a forged,
/// unknown or retired badge, or a deactivated holder's, is a failed proof like a wrong PIN. The caller decides what a deactivated user
/// gets; the outer `Result` is storage, the inner one the verdict (committed either way).
pub(crate) fn verify(
    svc: &Services,
    tx: &WriteTransaction,
    proof: &Proof,
    source: &AttemptSource,
    audit_source: Option<String>,
) -> Result<Result<User, ServiceError>, ServiceError> {
    const EVENT: &str = "link.existing_user_proof";
    let attempt = match proof {
        Proof::Pin { user_id, pin } => Attempt::pin(user_id, pin, source.clone(), EVENT, audit_source),
        Proof::Otp { otp } => Attempt {
            presented: Presented::Otp { code: otp.clone() },
            source: source.clone(),
            audit_event: EVENT,
            audit_source,
            totp_second_factor: false,
        },
        Proof::Badge { payload } => {
            if badge::parse_payload(payload).is_none() {
                return Ok(Err(ServiceError::Badge(BadgeRefusal::NotSitegate)));
            }
            Attempt {
                presented: Presented::Badge {
                    payload: payload.clone(),
                },
                source: source.clone(),
                audit_event: EVENT,
                audit_source,
                totp_second_factor: false,
            }
        }
    };
    Ok(security::verify(svc, tx, &attempt)?.map(|v| v.user))
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proof::Pin { user_id, .. } => write!(f, "Proof::Pin({user_id}, [redacted])"),
            Proof::Otp { .. } => f.write_str("Proof::Otp([redacted])"),
            Proof::Badge { .. } => f.write_str("Proof::Badge([redacted])"),
        }
    }
}

impl Proof {
    /// Who the proof claims to be, for the audit log (never the secret itself).
    pub fn claimed(&self) -> Option<String> {
        match self {
            Proof::Pin { user_id, .. } => Some(user_id.to_string()),
            Proof::Otp { .. } | Proof::Badge { .. } => None,
        }
    }

    pub fn method(&self) -> &'static str {
        match self {
            Proof::Pin { .. } => "pin",
            Proof::Otp { .. } => "otp",
            Proof::Badge { .. } => "badge",
        }
    }
}
