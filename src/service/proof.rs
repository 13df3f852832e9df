//! How an existing user proves who they are at an access link: ID + PIN now; a staff one-time password once
//! credentials land. Each proof is one small function, so throttling can stand in front of it.

use crate::domain::ids::UserId;
use crate::domain::user::User;
use crate::keys::tags_equal;
use crate::store::{self, ReadTx, StoreError};

use super::Services;

/// What a returning worker offers as proof. Its `Debug` never shows the secret.
#[derive(Clone)]
pub enum Proof {
    /// Their ID and VR PIN.
    Pin { user_id: UserId, pin: String },
    /// A one-time password issued by staff.
    Otp { otp: String },
}

/// The user whose PIN this is, or `None`. The keyed tag of `pin` is compared in constant time with the
/// user's stored tag, and the same work is done when the user or their PIN does not exist. The caller
/// decides what a deactivated user gets; this function only checks the credential.
pub(crate) fn verify_pin(
    svc: &Services,
    tx: &impl ReadTx,
    user_id: &UserId,
    pin: &str,
) -> Result<Option<User>, StoreError> {
    let tag = svc.keys.pin_tag(pin);
    let user = store::users::get_user(tx, user_id)?;
    let stored = store::credentials::get_credential(tx, user_id)?.and_then(|c| c.pin_tag);
    let matches = match stored {
        Some(t) => tags_equal(&t, &tag),
        None => {
            let _ = tags_equal(&tag, &[0u8; 32]);
            false
        }
    };
    Ok(if matches { user } else { None })
}

/// The user a staff one-time password was issued for, or `None`. One-time passwords arrive with the
/// credentials work; until then none is ever outstanding, so every one is refused.
pub(crate) fn verify_otp(_svc: &Services, _tx: &impl ReadTx, _otp: &str) -> Result<Option<User>, StoreError> {
    Ok(None)
}

/// Check a proof; `None` means it did not hold.
pub(crate) fn verify(svc: &Services, tx: &impl ReadTx, proof: &Proof) -> Result<Option<User>, StoreError> {
    match proof {
        Proof::Pin { user_id, pin } => verify_pin(svc, tx, user_id, pin),
        Proof::Otp { otp } => verify_otp(svc, tx, otp),
    }
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proof::Pin { user_id, .. } => write!(f, "Proof::Pin({user_id}, [redacted])"),
            Proof::Otp { .. } => f.write_str("Proof::Otp([redacted])"),
        }
    }
}

impl Proof {
    /// Who the proof claims to be, for the audit log (never the secret itself).
    pub fn claimed(&self) -> Option<String> {
        match self {
            Proof::Pin { user_id, .. } => Some(user_id.to_string()),
            Proof::Otp { .. } => None,
        }
    }

    pub fn method(&self) -> &'static str {
        match self {
            Proof::Pin { .. } => "pin",
            Proof::Otp { .. } => "otp",
        }
    }
}
