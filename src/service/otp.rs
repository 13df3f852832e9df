//! One-time passwords: staff issue one for a user (8 digits, single use, short-lived, stored as a tag), list and revoke them.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::security::security_now;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::credentials::{OTP_DIGITS, OneTimePassword, random_digits};
use crate::domain::ids::UserId;
use crate::keys::os_rng;
use crate::store;

/// A new one-time password: the code is shown this once.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IssuedOtp {
    pub otp: OneTimePassword,
    pub code: String,
}

/// Drop expired passwords; returns those still outstanding.
fn purge_expired(
    tx: &redb::WriteTransaction,
    now: OffsetDateTime,
) -> Result<Vec<OneTimePassword>, store::StoreError> {
    let mut live = Vec::new();
    for (tag, otp) in store::otps::list_otps(tx)? {
        if otp.is_outstanding(now) {
            live.push(otp);
        } else {
            store::otps::delete_otp(tx, &tag)?;
        }
    }
    live.sort_by_key(|o| o.issued_at);
    Ok(live)
}

impl Services {
    /// Issue a one-time password for an active user. Refused past the site-wide cap.
    pub async fn issue_otp(&self, actor: Actor, user_id: UserId) -> ServiceResult<IssuedOtp> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let user = store::users::get_user(tx, &user_id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "user",
                    id: user_id.to_string(),
                })?;
                if !user.is_active() {
                    return Err(ServiceError::UserDeactivated(user.id.to_string()));
                }
                let now = security_now(&svc, tx)?;
                let max = svc.settings.credentials.otp_max_outstanding;
                let live = purge_expired(tx, now)?;
                if live.len() >= usize::try_from(max).unwrap_or(usize::MAX) {
                    return Err(ServiceError::TooManyOtps(max));
                }
                let mut rng = os_rng();
                let (code, tag) = loop {
                    let code = random_digits(&mut rng, OTP_DIGITS);
                    let tag = svc.keys.otp_tag(&code);
                    if store::otps::get_otp(tx, &tag)?.is_none() {
                        break (code, tag);
                    }
                };
                let otp = OneTimePassword {
                    id: Uuid::now_v7(),
                    user_id: user.id.clone(),
                    issued_at: now,
                    expires_at: now + svc.settings.credentials.otp_valid,
                    issued_by: actor.label(),
                };
                store::otps::put_otp(tx, &tag, &otp)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: svc.now(),
                        kind: ActivityKind::OtpIssued,
                        actor: actor.label(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "user.otp_issued",
                    json!({ "user_id": user.id, "otp_id": otp.id }),
                    svc.now(),
                )?;
                let mut audit = svc.audit("user.otp_issue", "success", &actor);
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(IssuedOtp { otp, code })
            })
            .await
    }

    /// Outstanding one-time passwords (never their codes), optionally of one user.
    pub async fn list_otps(&self, user: Option<UserId>) -> ServiceResult<Vec<OneTimePassword>> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = security_now(&svc, tx)?;
                let live = purge_expired(tx, now)?;
                Ok(live
                    .into_iter()
                    .filter(|o| user.as_ref().is_none_or(|u| &o.user_id == u))
                    .collect())
            })
            .await
    }

    /// Revoke one outstanding password by its ID.
    pub async fn revoke_otp(&self, actor: Actor, id: Uuid) -> ServiceResult<OneTimePassword> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let otp = store::otps::delete_otp_by_id(tx, id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "otp",
                    id: id.to_string(),
                })?;
                store::activity::append_activity(
                    tx,
                    &otp.user_id,
                    &ActivityEntry {
                        at: svc.now(),
                        kind: ActivityKind::OtpRevoked,
                        actor: actor.label(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "user.otp_revoked",
                    json!({ "user_id": otp.user_id, "otp_id": otp.id }),
                    svc.now(),
                )?;
                let mut audit = svc.audit("user.otp_revoke", "success", &actor);
                audit.subject = Some(otp.user_id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(otp)
            })
            .await
    }
}
