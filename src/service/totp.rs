//! TOTP enrollment: a fresh 160-bit secret shown once as an otpauth URI, confirmed by a first code, sealed at rest; reset by staff.

use base64::Engine;
use serde_json::json;
use time::OffsetDateTime;

use super::security::security_now;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::credentials::{TOTP_ENROLL_VALID, TotpSecret, otpauth_uri, unix_secs};
use crate::domain::ids::UserId;
use crate::domain::staff::Role;
use crate::domain::user::User;
use crate::keys::os_rng;
use crate::store::credentials::{PendingTotp, TotpCredential};
use crate::store::{self, StoreError};

/// What the enrolling person's phone needs: shown once.
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    pub user_id: UserId,
    pub otpauth_uri: String,
    /// The secret in base32, for typing into an app by hand.
    pub secret_base32: String,
    pub expires_at: OffsetDateTime,
}

/// Whether a user has an authenticator.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpStatus {
    pub enrolled: bool,
    pub pending: bool,
    /// Admins and managers must enroll one; once enrolled, staff sign-in asks for its code.
    pub required: bool,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn target(tx: &impl store::ReadTx, user_id: &UserId, limit: Option<Role>) -> Result<User, ServiceError> {
    let user = store::users::get_user(tx, user_id)?.ok_or_else(|| ServiceError::NotFound {
        what: "user",
        id: user_id.to_string(),
    })?;
    if let Some(r) = limit
        && user.role > r
    {
        return Err(ServiceError::Forbidden(format!(
            "{} (the user is {})",
            user.role.as_str(),
            user.role.as_str()
        )));
    }
    Ok(user)
}

/// Admins and managers must have an authenticator.
pub fn totp_required(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Manager)
}

impl Services {
    /// Start (or restart) enrollment. A confirmed authenticator keeps working until the new one is confirmed.
    /// `limit`: the acting staff member's role; nobody manages the authenticator of a higher role.
    pub async fn begin_totp(
        &self,
        actor: Actor,
        user_id: UserId,
        limit: Option<Role>,
    ) -> ServiceResult<TotpEnrollment> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let user = target(tx, &user_id, limit)?;
                if !user.is_active() {
                    return Err(ServiceError::UserDeactivated(user.id.to_string()));
                }
                let now = security_now(&svc, tx)?;
                let secret = TotpSecret::random(&mut os_rng());
                let sealed = b64(&svc.keys.seal_totp(user.id.as_str(), secret.as_bytes()));
                let mut cred = store::credentials::get_credential(tx, &user.id)?.unwrap_or_default();
                cred.totp_pending = Some(PendingTotp {
                    sealed,
                    started_at: now,
                });
                store::credentials::put_credential(tx, &user.id, &cred)?;
                let mut audit = svc.audit("user.totp_enroll_begin", "success", &actor);
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(TotpEnrollment {
                    otpauth_uri: otpauth_uri(
                        &svc.settings.credentials.totp_issuer,
                        user.id.as_str(),
                        &secret,
                    ),
                    secret_base32: secret.base32(),
                    user_id: user.id,
                    expires_at: now + TOTP_ENROLL_VALID,
                })
            })
            .await
    }

    /// Confirm enrollment with the first code the app shows.
    pub async fn confirm_totp(
        &self,
        actor: Actor,
        user_id: UserId,
        code: String,
        limit: Option<Role>,
    ) -> ServiceResult<()> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> Result<Result<(), ServiceError>, ServiceError> {
                let user = target(tx, &user_id, limit)?;
                let now = security_now(&svc, tx)?;
                let mut cred = store::credentials::get_credential(tx, &user.id)?.unwrap_or_default();
                let Some(pending) = cred
                    .totp_pending
                    .clone()
                    .filter(|p| now - p.started_at < TOTP_ENROLL_VALID)
                else {
                    return Err(DomainError::Conflict(
                        "no authenticator enrollment is waiting (or it lapsed): start again".into(),
                    )
                    .into());
                };
                let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(&pending.sealed)
                    .ok()
                    .and_then(|b| svc.keys.open_totp(user.id.as_str(), &b))
                    .ok_or(StoreError::Corrupt {
                        table: store::tables::names::CREDENTIALS,
                        detail: "a pending TOTP secret does not open with this key file".into(),
                    })?;
                let step = TotpSecret::from_bytes(secret.to_vec()).verify(&code, unix_secs(svc.now()), None);
                let mut audit = svc.audit(
                    "user.totp_enroll_confirm",
                    if step.is_some() { "success" } else { "failure" },
                    &actor,
                );
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                let Some(step) = step else {
                    return Ok(Err(DomainError::invalid(
                        "code",
                        "the code does not match: check the phone's time and enter the code now shown",
                    )
                    .into()));
                };
                cred.totp = Some(TotpCredential {
                    sealed: pending.sealed,
                    last_step: Some(step),
                    enrolled_at: now,
                });
                cred.totp_pending = None;
                store::credentials::put_credential(tx, &user.id, &cred)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: svc.now(),
                        kind: ActivityKind::TotpEnrolled,
                        actor: actor.label(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "user.totp_enrolled",
                    json!({ "user_id": user.id }),
                    svc.now(),
                )?;
                Ok(Ok(()))
            })
            .await?
    }

    /// Remove a user's authenticator (lost phone). Their staff sign-in then needs the PIN only until they enroll again.
    pub async fn reset_totp(
        &self,
        actor: Actor,
        user_id: UserId,
        limit: Option<Role>,
    ) -> ServiceResult<bool> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let user = target(tx, &user_id, limit)?;
                let mut cred = store::credentials::get_credential(tx, &user.id)?.unwrap_or_default();
                let had = cred.totp.is_some() || cred.totp_pending.is_some();
                cred.totp = None;
                cred.totp_pending = None;
                store::credentials::put_credential(tx, &user.id, &cred)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: svc.now(),
                        kind: ActivityKind::TotpReset,
                        actor: actor.label(),
                    },
                )?;
                store::outbox::append_event(tx, "user.totp_reset", json!({ "user_id": user.id }), svc.now())?;
                let mut audit = svc.audit("user.totp_reset", "success", &actor);
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(had)
            })
            .await
    }

    /// Whether the user has (or must have) an authenticator.
    pub async fn totp_status(&self, user_id: UserId) -> ServiceResult<TotpStatus> {
        self.store
            .read(move |tx| {
                let status = target(tx, &user_id, None).and_then(|user| {
                    let cred = store::credentials::get_credential(tx, &user.id)?.unwrap_or_default();
                    Ok(TotpStatus {
                        enrolled: cred.totp.is_some(),
                        pending: cred.totp_pending.is_some(),
                        required: totp_required(user.role),
                    })
                });
                Ok(status)
            })
            .await?
    }
}
