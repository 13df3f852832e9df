//! Staff sign-in: the first admin's bootstrap code, PINs stored as keyed tags, sessions with idle and absolute expiry.

use rand::Rng;
use time::{Duration, OffsetDateTime};

use super::classroom_badge::resolve_badge;
use super::security::{Attempt, AttemptSource, Presented, verify};
use super::users::insert_new_user;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::badge::BadgeRefusal;
use crate::domain::ids::{UserId, random_crockford};
use crate::domain::staff::{Role, ScreenKind, SessionEnd, SessionTimes};
use crate::domain::user::{CreatedVia, NewUserInput, User};
use crate::keys::{new_token, os_rng, tags_equal, token_hash};
use crate::store::credentials::StaffCredential;
use crate::store::sessions::StoredSession;
use crate::store::{self, StoreError};

/// How long a bootstrap code from `sitegate init` stays good.
pub const BOOTSTRAP_VALID: Duration = Duration::hours(24);
/// A session's last-seen time is written at most this often (it is of lesser weight than the session itself).
const TOUCH_EVERY: Duration = Duration::seconds(15);

/// What `sitegate init` hands to the technician: the admin and the one-time code (shown once).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bootstrap {
    pub user: User,
    pub code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// True when an admin already existed without a PIN and got a fresh code (no admin was created).
    pub reissued: bool,
    /// On a re-issue, the name `init` was given when it is not the existing admin's: it was not used.
    #[serde(default)]
    pub unused_name: Option<String>,
}

/// Who a sign-in says it is: a typed ID, or a badge scan.
#[derive(Debug, Clone)]
pub enum Claimed {
    Id(UserId),
    /// A badge's QR payload as the scanner typed it.
    Badge(String),
}

/// The ID a sign-in is checked against. A badge that is not a sitegate badge at all is refused
/// as such (a shape error, like an ID's wrong check character); a forged, unknown or retired
/// badge, or a deactivated holder's, stands for an account that cannot exist, so it gets the same
/// work, throttling and generic answer as an unknown ID.
fn claimed_id(svc: &Services, tx: &impl store::ReadTx, claimed: Claimed) -> Result<UserId, ServiceError> {
    match claimed {
        Claimed::Id(id) => Ok(id),
        Claimed::Badge(payload) => match resolve_badge(svc, tx, &payload)? {
            Ok(id) => Ok(id),
            Err(BadgeRefusal::NotSitegate) => Err(ServiceError::Badge(BadgeRefusal::NotSitegate)),
            Err(_) => {
                let number: String = payload.trim().chars().take(13).collect();
                Ok(UserId::from_canonical(format!("badge:{number}")))
            }
        },
    }
}

/// A signed-in staff member, as a request sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    pub screen: ScreenKind,
    pub expires_at: OffsetDateTime,
    pub token_hash: [u8; 32],
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            user_id: self.user_id.to_string(),
        }
    }
}

/// A new session: the token is given to the client once; only its hash is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub principal: Principal,
    pub user: User,
}

/// Draw a random PIN of `len` digits that no active user holds; returns the PIN and its tag.
pub(crate) fn draw_unique_pin(
    svc: &Services,
    tx: &redb::WriteTransaction,
    len: u8,
) -> Result<(String, [u8; 32]), StoreError> {
    let mut rng = os_rng();
    loop {
        let pin: String = (0..len)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        let tag = svc.keys.pin_tag(&pin);
        if store::credentials::pin_owner(tx, &tag)?.is_none() {
            return Ok((pin, tag));
        }
    }
}

fn canonical_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .filter_map(|c| {
            crate::domain::ids::crockford_value(c).map(|v| crate::domain::ids::ALPHABET[v as usize] as char)
        })
        .collect()
}

impl Services {
    /// Create the first admin (or re-issue the code of an admin who never redeemed theirs).
    pub async fn init_admin(&self, input: NewUserInput) -> ServiceResult<Bootstrap> {
        let input = NewUserInput {
            role: Some(Role::Admin),
            ..input
        };
        let given = input.validate()?.name;
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = svc.now();
                let mut pending_admin = None;
                let mut after: Option<UserId> = None;
                loop {
                    let page = store::users::list_users(tx, after.as_ref(), 500)?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id.clone());
                    for u in page
                        .into_iter()
                        .filter(|u| u.role == Role::Admin && u.is_active())
                    {
                        let has_pin = store::credentials::get_credential(tx, &u.id)?
                            .and_then(|c| c.pin_tag)
                            .is_some();
                        if has_pin {
                            return Err(ServiceError::AlreadyInitialized {
                                id: u.id.to_string(),
                                name: u.name.full(),
                            });
                        }
                        pending_admin = Some(u);
                    }
                }
                let (user, reissued) = match pending_admin {
                    Some(u) => (u, true),
                    None => (
                        insert_new_user(&svc, tx, &input, &[], CreatedVia::Init, &Actor::Cli)?,
                        false,
                    ),
                };
                let unused_name = (reissued && given != user.name).then(|| given.full());
                let code = random_crockford(&mut os_rng(), 10);
                let expires_at = now + BOOTSTRAP_VALID;
                let cred = StaffCredential {
                    pin_tag: None,
                    bootstrap_tag: Some(svc.keys.code_tag(user.id.as_str(), &code)),
                    bootstrap_expires_at: Some(expires_at),
                    ..Default::default()
                };
                store::credentials::put_credential(tx, &user.id, &cred)?;
                let mut audit = svc.audit("admin.bootstrap_issued", "success", &Actor::Cli);
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(Bootstrap {
                    user,
                    code: format!("{}-{}", &code[..5], &code[5..]),
                    expires_at,
                    reissued,
                    unused_name,
                })
            })
            .await
    }

    /// Exchange a bootstrap code, once, for the admin's own PIN (returned once, never stored in clear).
    pub async fn redeem_bootstrap(
        &self,
        user_id: UserId,
        code: String,
        source: Option<String>,
    ) -> ServiceResult<String> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> Result<Result<String, ServiceError>, ServiceError> {
                let now = svc.now();
                let tag = svc.keys.code_tag(user_id.as_str(), &canonical_code(&code));
                let cred = store::credentials::get_credential(tx, &user_id)?;
                let good = match &cred {
                    Some(StaffCredential {
                        bootstrap_tag: Some(t),
                        bootstrap_expires_at: Some(exp),
                        ..
                    }) => tags_equal(t, &tag) && now < *exp,
                    _ => {
                        // Same work as a real comparison, so a missing account takes as long.
                        let _ = tags_equal(&tag, &[0u8; 32]);
                        false
                    }
                };
                let mut audit = svc.audit(
                    "admin.bootstrap_redeem",
                    if good { "success" } else { "failure" },
                    &Actor::SelfService,
                );
                audit.subject = Some(user_id.to_string());
                audit.source = source;
                store::audit::append_audit(tx, &audit)?;
                if !good {
                    return Ok(Err(ServiceError::InvalidBootstrapCode));
                }
                let (pin, pin_tag) = draw_unique_pin(&svc, tx, svc.settings.pin_length)?;
                store::credentials::set_pin(tx, &user_id, pin_tag)?;
                let cred = StaffCredential {
                    pin_tag: Some(pin_tag),
                    bootstrap_tag: None,
                    bootstrap_expires_at: None,
                    ..Default::default()
                };
                store::credentials::put_credential(tx, &user_id, &cred)?;
                store::activity::append_activity(
                    tx,
                    &user_id,
                    &ActivityEntry {
                        at: now,
                        kind: ActivityKind::PinIssued,
                        actor: "self".into(),
                    },
                )?;
                super::sync::outgoing::pin_issued(tx, &user_id, &pin, now)?;
                Ok(Ok(pin))
            })
            .await?
    }

    /// Issue a new PIN for a user (staff action or demo); the old one stops working in the same commit.
    pub async fn issue_pin(&self, actor: Actor, user_id: UserId) -> ServiceResult<String> {
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
                let now = svc.now();
                let (pin, pin_tag) = draw_unique_pin(&svc, tx, svc.settings.pin_length)?;
                store::credentials::set_pin(tx, &user.id, pin_tag)?;
                let mut cred = store::credentials::get_credential(tx, &user.id)?.unwrap_or_default();
                cred.pin_tag = Some(pin_tag);
                store::credentials::put_credential(tx, &user.id, &cred)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: now,
                        kind: ActivityKind::PinIssued,
                        actor: actor.label(),
                    },
                )?;
                super::sync::outgoing::pin_issued(tx, &user.id, &pin, now)?;
                let mut audit = svc.audit("user.pin_issue", "success", &actor);
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(pin)
            })
            .await
    }

    /// Staff sign-in with ID (typed, or their badge scanned) and PIN (and the authenticator code
    /// of staff who enrolled one), through the one verification path: throttled, same work and the
    /// same generic `InvalidCredentials` for every failure, audited either way.
    pub async fn sign_in(
        &self,
        claimed: Claimed,
        pin: String,
        totp: Option<String>,
        screen: ScreenKind,
        source: AttemptSource,
        audit_source: Option<String>,
    ) -> ServiceResult<NewSession> {
        let svc = self.clone();
        self.store
            .write(
                move |tx| -> Result<Result<NewSession, ServiceError>, ServiceError> {
                    let now = svc.now();
                    let user_id = match claimed_id(&svc, tx, claimed) {
                        Ok(id) => id,
                        Err(ServiceError::Store(e)) => return Err(e.into()),
                        Err(e) => return Ok(Err(e)),
                    };
                    let attempt = Attempt {
                        presented: Presented::Pin {
                            user_id: user_id.clone(),
                            pin,
                            totp,
                        },
                        source,
                        audit_event: "staff.sign_in",
                        audit_source: audit_source.clone(),
                        totp_second_factor: true,
                    };
                    let user = match verify(&svc, tx, &attempt)? {
                        Ok(v) => v.user,
                        Err(e) => return Ok(Err(e)),
                    };
                    let refusal = if !user.is_active() {
                        Some(ServiceError::UserDeactivated(user.id.to_string()))
                    } else if !user.role.is_staff() {
                        Some(ServiceError::Forbidden("staff".into()))
                    } else {
                        None
                    };
                    if let Some(e) = refusal {
                        let mut audit = svc.audit("staff.sign_in", "denied", &Actor::SelfService);
                        audit.subject = Some(user_id.to_string());
                        audit.source = audit_source;
                        audit.detail = Some(e.to_string());
                        store::audit::append_audit(tx, &audit)?;
                        return Ok(Err(e));
                    }
                    let token = new_token();
                    let hash = token_hash(&token);
                    let times = SessionTimes {
                        created_at: now,
                        last_seen: now,
                        screen,
                    };
                    store::sessions::put_session(
                        tx,
                        &hash,
                        &StoredSession {
                            user_id: user.id.clone(),
                            role: user.role,
                            times,
                        },
                    )?;
                    store::activity::append_activity(
                        tx,
                        &user.id,
                        &ActivityEntry {
                            at: now,
                            kind: ActivityKind::StaffSignedIn,
                            actor: "self".into(),
                        },
                    )?;
                    let principal = Principal {
                        user_id: user.id.clone(),
                        role: user.role,
                        screen,
                        expires_at: times.expires_at(&svc.settings.sessions),
                        token_hash: hash,
                    };
                    Ok(Ok(NewSession {
                        token,
                        principal,
                        user,
                    }))
                },
            )
            .await?
    }

    /// Check a session token: alive, user still active. Touches its last-seen time now and then.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Principal> {
        let hash = token_hash(token);
        let now = self.now();
        let policy = self.settings.sessions;
        let found = self
            .store
            .read(move |tx| {
                let Some(s) = store::sessions::get_session(tx, &hash)? else {
                    return Ok(None);
                };
                let user = store::users::get_user(tx, &s.user_id)?;
                Ok(Some((s, user)))
            })
            .await?;
        let Some((session, user)) = found else {
            return Err(ServiceError::Unauthenticated);
        };
        let alive = session.times.check(&policy, now);
        let user_ok = user.as_ref().is_some_and(|u| u.is_active() && u.role.is_staff());
        if alive.is_err() || !user_ok {
            let reason = match alive {
                Err(SessionEnd::Idle) => "idle",
                Err(SessionEnd::Absolute) => "absolute",
                Ok(()) => "user_inactive",
            };
            let svc = self.clone();
            let user_id = session.user_id.clone();
            self.store
                .write(move |tx| -> Result<(), ServiceError> {
                    store::sessions::delete_session(tx, &hash)?;
                    let mut audit = svc.audit(
                        "staff.session_end",
                        "success",
                        &Actor::Staff {
                            user_id: user_id.to_string(),
                        },
                    );
                    audit.detail = Some(reason.into());
                    store::audit::append_audit(tx, &audit)?;
                    Ok(())
                })
                .await?;
            return Err(ServiceError::Unauthenticated);
        }
        let mut times = session.times;
        if now - times.last_seen >= TOUCH_EVERY {
            times.last_seen = now;
            let stored = StoredSession {
                times,
                ..session.clone()
            };
            self.store
                .write(move |tx| -> Result<(), ServiceError> {
                    // The session may have been ended meanwhile; touching must not bring it back.
                    if store::sessions::get_session(tx, &hash)?.is_some() {
                        store::sessions::put_session(tx, &hash, &stored)?;
                    }
                    Ok(())
                })
                .await?;
        }
        let role = user.map(|u| u.role).unwrap_or(session.role);
        Ok(Principal {
            user_id: session.user_id,
            role,
            screen: times.screen,
            expires_at: times.expires_at(&policy),
            token_hash: hash,
        })
    }

    /// End a session.
    pub async fn sign_out(&self, principal: Principal) -> ServiceResult<()> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                store::sessions::delete_session(tx, &principal.token_hash)?;
                store::audit::append_audit(tx, &svc.audit("staff.sign_out", "success", &principal.actor()))?;
                Ok(())
            })
            .await
    }
}
