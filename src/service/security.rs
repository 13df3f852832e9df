//! The one verification path for every credential login (PIN, TOTP, OTP, a badge proof), with throttling, the security clock and audit. (Staff views of it: `throttle_status.rs`.)

use redb::WriteTransaction;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::badges::check_badge;
use super::{Actor, ServiceError, Services};
use crate::domain::credentials::{
    CredentialKind, OTP_DIGITS, TOTP_DIGITS, TotpSecret, typed_digits, unix_secs,
};
use crate::domain::device::DeviceKind;
use crate::domain::ids::UserId;
use crate::domain::throttle::{
    self, AccountThrottle, FailureWindow, MonotonicMark, Refusal, SiteThrottle, SourceKind,
};
use crate::domain::user::User;
use crate::keys::tags_equal;
use crate::store::throttle::ThrottleRecord;
use crate::store::{self, ReadTx, StoreError};

/// Where a login attempt comes from: the key of its per-device budget and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSource {
    pub key: String,
    pub kind: SourceKind,
}

impl AttemptSource {
    /// The kiosk browser on the box (loopback listener).
    pub fn box_kiosk() -> AttemptSource {
        AttemptSource {
            key: "kiosk".into(),
            kind: SourceKind::BoxKiosk,
        }
    }

    /// A laptop browser or script, by source address.
    pub fn address(ip: &str) -> AttemptSource {
        AttemptSource {
            key: format!("addr:{ip}"),
            kind: SourceKind::Address,
        }
    }

    /// A paired device.
    pub fn device(id: Uuid, kind: DeviceKind) -> AttemptSource {
        AttemptSource {
            key: format!("device:{id}"),
            kind: match kind {
                DeviceKind::Headset => SourceKind::Headset,
                DeviceKind::Kiosk => SourceKind::KioskDevice,
            },
        }
    }
}

/// A credential as presented. Secrets are never logged or stored in clear.
#[derive(Clone)]
pub enum Presented {
    /// ID + PIN; `totp` is the second factor for staff who enrolled an authenticator.
    Pin {
        user_id: UserId,
        pin: String,
        totp: Option<String>,
    },
    Totp {
        user_id: UserId,
        code: String,
    },
    /// A one-time password entered alone.
    Otp {
        code: String,
    },
    /// A PIN alone (only where the site turned PIN-only login on).
    PinOnly {
        pin: String,
    },
    /// A badge's QR payload as the scanner typed it (an existing user's proof at a link).
    Badge {
        payload: String,
    },
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Presented::{}([redacted])", self.kind().as_str())
    }
}

impl Presented {
    pub fn kind(&self) -> CredentialKind {
        match self {
            Presented::Pin { .. } | Presented::PinOnly { .. } => CredentialKind::Pin,
            Presented::Totp { .. } => CredentialKind::Totp,
            Presented::Otp { .. } => CredentialKind::Otp,
            Presented::Badge { .. } => CredentialKind::Badge,
        }
    }

    fn named_user(&self) -> Option<&UserId> {
        match self {
            Presented::Pin { user_id, .. } | Presented::Totp { user_id, .. } => Some(user_id),
            Presented::Otp { .. } | Presented::PinOnly { .. } | Presented::Badge { .. } => None,
        }
    }
}

/// The account a badge attempt counts against: the holder of a good badge, else (forged, unknown,
/// retired, a deactivated holder's) a name for an account that cannot exist, `badge:SG1…` with the
/// badge number, so repeating one bad badge backs off like an unknown ID does.
fn badge_account(svc: &Services, tx: &impl ReadTx, payload: &str) -> Result<String, ServiceError> {
    Ok(match check_badge(svc, tx, payload)? {
        Ok(v) => v.user.id.to_string(),
        Err(_) => {
            let number: String = payload.trim().chars().take(13).collect();
            format!("badge:{number}")
        }
    })
}

/// One login attempt: what, from where, and how it is audited.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub presented: Presented,
    pub source: AttemptSource,
    /// The audit event, e.g. `staff.sign_in` or `headset.login`.
    pub audit_event: &'static str,
    /// Shown in the audit entry's `source` (address, `kiosk`, device name).
    pub audit_source: Option<String>,
    /// Staff sign-in: a user with a confirmed authenticator must give its code with the PIN.
    pub totp_second_factor: bool,
}

impl Attempt {
    /// ID + VR PIN with no second factor: a worker proving who they are at the kiosk, at an access
    /// link or at a class.
    pub fn pin(
        user_id: &UserId,
        pin: &str,
        source: AttemptSource,
        audit_event: &'static str,
        audit_source: Option<String>,
    ) -> Attempt {
        Attempt {
            presented: Presented::Pin {
                user_id: user_id.clone(),
                pin: pin.to_owned(),
                totp: None,
            },
            source,
            audit_event,
            audit_source,
            totp_second_factor: false,
        }
    }
}

/// A verified credential.
#[derive(Debug, Clone)]
pub struct Verified {
    pub user: User,
    pub kind: CredentialKind,
    /// The security clock's time of the attempt.
    pub at: OffsetDateTime,
}

/// The security clock: the wall clock, except that it never runs backwards (persisted in META).
pub(crate) fn security_now(svc: &Services, tx: &WriteTransaction) -> Result<OffsetDateTime, StoreError> {
    let mark = MonotonicMark::advance(store::throttle::get_mark(tx)?, svc.now());
    store::throttle::put_mark(tx, &mark)?;
    Ok(mark.at)
}

/// Keep the security clock's mark moving while nothing else does, so that time which passed
/// unobserved is not lost when the wall clock is later set back (at most `every` is lost).
pub async fn tick_security_clock(
    svc: Services,
    every: std::time::Duration,
    shutdown: crate::tasks::Shutdown,
) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(every) => {
                let s = svc.clone();
                let result: Result<OffsetDateTime, ServiceError> =
                    svc.store.write(move |tx| Ok(security_now(&s, tx)?)).await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "cannot move the security clock's mark");
                }
            }
        }
    }
}

/// The security clock's time without moving its mark (read transactions).
pub(crate) fn security_peek(svc: &Services, tx: &impl ReadTx) -> Result<OffsetDateTime, StoreError> {
    Ok(MonotonicMark::advance(store::throttle::get_mark(tx)?, svc.now()).at)
}

pub(crate) fn secs_until(d: time::Duration) -> u64 {
    u64::try_from(d.whole_seconds().max(1)).unwrap_or(1)
}

/// A fixed secret for the work done when a user has no authenticator: same work, never a match.
const DUMMY_TOTP: [u8; 20] = [0x5a; 20];

enum Outcome {
    Good(Box<User>),
    /// The PIN was right but the authenticator code is missing.
    NeedTotp,
    Bad,
}

/// Verify an attempt inside the caller's write transaction: throttling first (a refusal says
/// nothing about the credential), then the credential with the same work whether or not an
/// account matched, then the record of the outcome and an audit entry either way. The outer
/// `Result` is storage; the inner one the verdict, committed by the caller either way.
pub(crate) fn verify(
    svc: &Services,
    tx: &WriteTransaction,
    attempt: &Attempt,
) -> Result<Result<Verified, ServiceError>, ServiceError> {
    let now = security_now(svc, tx)?;
    let limits = svc.settings.credentials.throttle;
    let site = store::throttle::get_site(tx)?;
    let device = store::throttle::get_source(tx, &attempt.source.key)?;
    let named = match &attempt.presented {
        Presented::Badge { payload } => Some(badge_account(svc, tx, payload)?),
        other => other.named_user().map(|u| u.to_string()),
    };
    let account = match &named {
        Some(id) => Some(store::throttle::get_account(tx, id)?),
        None => None,
    };
    let audit = |outcome: &str, detail: String| -> Result<(), StoreError> {
        let mut a = svc.audit(attempt.audit_event, outcome, &Actor::SelfService);
        a.subject = named.clone();
        a.source = attempt.audit_source.clone();
        a.detail = Some(detail);
        store::audit::append_audit(tx, &a)
    };
    let kind = attempt.presented.kind();
    let count = |outcome: &'static str| {
        svc.metrics.login(crate::metrics::LoginLabels {
            kind: kind.as_str(),
            source: crate::metrics::label_of(&attempt.source.kind),
            outcome,
        })
    };
    if let Err(refusal) = throttle::check(
        &limits,
        now,
        attempt.source.kind,
        &site,
        &device,
        account.as_ref(),
    ) {
        let (err, why) = match refusal {
            Refusal::SiteSuspended => (ServiceError::LoginSuspended, "site suspended".to_string()),
            Refusal::DeviceThrottled { until } => (
                ServiceError::DeviceThrottled {
                    retry_after_secs: secs_until(until - now),
                },
                format!("device {} throttled", attempt.source.key),
            ),
            Refusal::AccountBackoff { wait } => (
                ServiceError::LoginThrottled {
                    retry_after_secs: secs_until(wait),
                },
                "account backoff".to_string(),
            ),
        };
        audit("throttled", format!("{}: {why}", kind.as_str()))?;
        count("throttled");
        return Ok(Err(err));
    }

    let outcome = check_credential(svc, tx, attempt, now)?;
    match outcome {
        Outcome::Good(user) => {
            let user = *user;
            if let Some(id) = &named {
                store::throttle::put_account(tx, id, &AccountThrottle::default())?;
            }
            audit("success", kind.as_str().to_string())?;
            count("success");
            Ok(Ok(Verified { user, kind, at: now }))
        }
        Outcome::NeedTotp => {
            audit("totp_required", "pin verified; authenticator code missing".into())?;
            count("totp_required");
            Ok(Err(ServiceError::TotpRequired))
        }
        Outcome::Bad => {
            record_failure(svc, tx, attempt, now, named.as_deref(), account, device, site)?;
            audit("failure", kind.as_str().to_string())?;
            count("failure");
            Ok(Err(ServiceError::InvalidCredentials))
        }
    }
}

fn check_credential(
    svc: &Services,
    tx: &WriteTransaction,
    attempt: &Attempt,
    now: OffsetDateTime,
) -> Result<Outcome, ServiceError> {
    let wall = unix_secs(svc.now());
    Ok(match &attempt.presented {
        Presented::Pin { user_id, pin, totp } => {
            let tag = svc.keys.pin_tag(pin);
            let user = store::users::get_user(tx, user_id)?;
            let mut cred = store::credentials::get_credential(tx, user_id)?;
            let stored = cred.as_ref().and_then(|c| c.pin_tag);
            let pin_ok = tags_equal(&stored.unwrap_or([0u8; 32]), &tag) && stored.is_some();
            let Some(user) = user.filter(|_| pin_ok) else {
                return Ok(Outcome::Bad);
            };
            let enrolled = cred.as_mut().and_then(|c| c.totp.as_mut());
            match (attempt.totp_second_factor, enrolled) {
                (true, Some(t)) => {
                    let Some(code) = totp else {
                        return Ok(Outcome::NeedTotp);
                    };
                    let Some(step) = check_totp(svc, user_id, &t.sealed, code, wall, t.last_step) else {
                        return Ok(Outcome::Bad);
                    };
                    t.last_step = Some(step);
                    if let Some(c) = &cred {
                        store::credentials::put_credential(tx, user_id, c)?;
                    }
                    Outcome::Good(Box::new(user))
                }
                _ => Outcome::Good(Box::new(user)),
            }
        }
        Presented::Totp { user_id, code } => {
            let user = store::users::get_user(tx, user_id)?;
            let mut cred = store::credentials::get_credential(tx, user_id)?;
            let Some(t) = cred.as_mut().and_then(|c| c.totp.as_mut()) else {
                let _ = TotpSecret::from_bytes(DUMMY_TOTP.to_vec()).verify(code, wall, None);
                return Ok(Outcome::Bad);
            };
            let step = check_totp(svc, user_id, &t.sealed, code, wall, t.last_step);
            match (user, step) {
                (Some(user), Some(step)) => {
                    t.last_step = Some(step);
                    if let Some(c) = &cred {
                        store::credentials::put_credential(tx, user_id, c)?;
                    }
                    Outcome::Good(Box::new(user))
                }
                _ => Outcome::Bad,
            }
        }
        Presented::Otp { code } => {
            let Some(code) = typed_digits(code, OTP_DIGITS) else {
                let _ = svc.keys.otp_tag(code);
                return Ok(Outcome::Bad);
            };
            let tag = svc.keys.otp_tag(&code);
            match store::otps::get_otp(tx, &tag)? {
                Some(otp) if otp.is_outstanding(now) => {
                    // Single use: gone in the same commit as the login.
                    store::otps::delete_otp(tx, &tag)?;
                    match store::users::get_user(tx, &otp.user_id)? {
                        Some(u) => Outcome::Good(Box::new(u)),
                        None => Outcome::Bad,
                    }
                }
                Some(_) => {
                    store::otps::delete_otp(tx, &tag)?;
                    Outcome::Bad
                }
                None => Outcome::Bad,
            }
        }
        // The MAC (constant time), the number, the badge's state and its holder's: any refusal is
        // the generic failure, so a scan tells nothing more than a wrong PIN does.
        Presented::Badge { payload } => match check_badge(svc, tx, payload)? {
            Ok(v) => Outcome::Good(Box::new(v.user)),
            Err(_) => Outcome::Bad,
        },
        Presented::PinOnly { pin } => {
            let tag = svc.keys.pin_tag(pin);
            match store::credentials::pin_owner(tx, &tag)? {
                Some(owner) => match store::users::get_user(tx, &owner)? {
                    Some(u) => Outcome::Good(Box::new(u)),
                    None => Outcome::Bad,
                },
                None => Outcome::Bad,
            }
        }
    })
}

/// Check a TOTP code against a sealed secret. `None` for a wrong, replayed or unreadable one.
fn check_totp(
    svc: &Services,
    user_id: &UserId,
    sealed: &str,
    code: &str,
    wall: u64,
    last_step: Option<u64>,
) -> Option<u64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sealed)
        .ok();
    let secret = bytes.and_then(|b| svc.keys.open_totp(user_id.as_str(), &b));
    let Some(secret) = secret else {
        tracing::warn!(user_id = %user_id, "a TOTP secret does not open with this key file");
        let _ = TotpSecret::from_bytes(DUMMY_TOTP.to_vec()).verify(code, wall, None);
        return None;
    };
    let _ = TOTP_DIGITS;
    TotpSecret::from_bytes(secret.to_vec()).verify(code, wall, last_step)
}

#[allow(clippy::too_many_arguments)]
fn record_failure(
    svc: &Services,
    tx: &WriteTransaction,
    attempt: &Attempt,
    now: OffsetDateTime,
    named: Option<&str>,
    account: Option<AccountThrottle>,
    mut device: FailureWindow,
    mut site: SiteThrottle,
) -> Result<(), ServiceError> {
    let limits = svc.settings.credentials.throttle;
    if let (Some(id), Some(mut a)) = (named, account) {
        a.record_failure(now);
        store::throttle::put_account(tx, id, &a)?;
    }
    device.record(now, limits.window, attempt.source.kind.budget(&limits));
    store::throttle::put_source(tx, &attempt.source.key, &device)?;
    site.window.record(now, limits.window, limits.site_failures);
    if !site.alerted && site.window.count(limits.window, now) >= limits.site_failures {
        site.alerted = true;
        let mut alert = svc.audit("alert.pin_login_suspended", "alert", &Actor::SelfService);
        alert.detail = Some(format!(
            "{} failed logins in 24 h: logins from headsets and laptops are suspended until staff clear it",
            limits.site_failures
        ));
        store::audit::append_audit(tx, &alert)?;
        store::outbox::append_event(
            tx,
            "security.pin_login_suspended",
            json!({ "failures": limits.site_failures }),
            svc.now(),
        )?;
        tracing::warn!("site-wide login failures reached the limit: headset and laptop logins suspended");
    }
    store::throttle::put_site(tx, &site)?;
    prune(svc, tx, now)?;
    Ok(())
}

/// Drop rows that no longer matter, so unknown IDs and old addresses do not pile up.
fn prune(svc: &Services, tx: &WriteTransaction, now: OffsetDateTime) -> Result<(), StoreError> {
    let limits = svc.settings.credentials.throttle;
    for (key, rec) in store::throttle::list(tx)? {
        let stale = match &rec {
            ThrottleRecord::Account(a) => a.is_stale(&limits, now),
            ThrottleRecord::Source(w) => w.is_stale(limits.window, now),
            ThrottleRecord::Site(_) => false,
        };
        if stale {
            store::throttle::delete(tx, &key)?;
        }
    }
    Ok(())
}
