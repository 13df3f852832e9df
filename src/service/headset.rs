//! Headset use cases: login on an approved device, sessions bound to it, progress events, logout, the room roster, staff views.

use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::classroom_hooks::{RosterEntry, classroom_admits, room_roster};
use super::security::{Attempt, AttemptSource, Presented, security_now, security_peek, verify};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::device::{
    Device, DeviceState, HeadsetSession, ProgressEvent, ProgressKind, StoredProgress,
};
use crate::domain::training::{AssignedTraining, Completion, assigned_training};
use crate::domain::user::{AccessLevel, User};
use crate::keys::{new_token, token_hash};
use crate::store::{self, ReadTx, StoreError};

/// A session's last-seen time is written at most this often.
const TOUCH_EVERY: Duration = Duration::seconds(15);

/// What a headset gets on login.
#[derive(Debug, Clone)]
pub struct HeadsetLogin {
    pub token: String,
    pub session: HeadsetSession,
    pub expires_at: OffsetDateTime,
    pub user: User,
    pub training: Vec<AssignedTraining>,
}

/// A headset request with a live session.
#[derive(Debug, Clone)]
pub struct HeadsetPrincipal {
    pub device: Device,
    pub session: HeadsetSession,
    pub token_hash: [u8; 32],
}

/// A headset session as staff see it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: HeadsetSession,
    pub expires_at: OffsetDateTime,
    pub device_name: String,
    pub user_name: String,
}

fn training_of(
    tx: &impl ReadTx,
    user: &User,
    now: OffsetDateTime,
) -> Result<Vec<AssignedTraining>, StoreError> {
    let modules = store::training::list_modules(tx)?;
    let assignments = store::training::list_assignments(tx)?;
    let completions = store::training::list_completions(tx, &user.id)?;
    Ok(assigned_training(user, &modules, &assignments, &completions, now))
}

impl Services {
    /// Log a user in on an approved headset. Every refusal is audited; specific ones
    /// (`user_deactivated`, `classroom_only`) only after the credential was verified.
    pub async fn headset_login(&self, device: Device, presented: Presented) -> ServiceResult<HeadsetLogin> {
        if matches!(presented, Presented::PinOnly { .. }) && !self.settings.credentials.pin_only_login {
            return Err(ServiceError::PinOnlyLoginOff);
        }
        let svc = self.clone();
        self.store
            .write(move |tx| -> Result<Result<HeadsetLogin, ServiceError>, ServiceError> {
                let attempt = Attempt {
                    presented,
                    source: AttemptSource::device(device.id, device.kind),
                    audit_event: "headset.login",
                    audit_source: Some(format!("device {} ({})", device.id, device.name)),
                    totp_second_factor: false,
                };
                let verified = match verify(&svc, tx, &attempt)? {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(e)),
                };
                let user = verified.user;
                let deny = |why: &str| -> Result<(), StoreError> {
                    let mut a = svc.audit("headset.login", "denied", &Actor::SelfService);
                    a.subject = Some(user.id.to_string());
                    a.source = attempt.audit_source.clone();
                    a.detail = Some(why.to_string());
                    store::audit::append_audit(tx, &a)
                };
                let current = store::devices::get_device(tx, device.id)?;
                if current.as_ref().is_none_or(|d| d.state != DeviceState::Approved) {
                    deny("device no longer approved")?;
                    return Ok(Err(ServiceError::DeviceRevoked));
                }
                if !user.is_active() {
                    deny("user deactivated")?;
                    return Ok(Err(ServiceError::UserDeactivated(user.id.to_string())));
                }
                if user.access_level == AccessLevel::ClassroomOnly && !classroom_admits(tx, &user, &device, verified.at)? {
                    deny("classroom-only user not checked in to an open class")?;
                    return Ok(Err(ServiceError::ClassroomOnly(user.id.to_string())));
                }
                let token = new_token();
                let session = HeadsetSession {
                    id: Uuid::now_v7(),
                    user_id: user.id.clone(),
                    device_id: device.id,
                    created_at: verified.at,
                    last_seen: verified.at,
                };
                store::headset_sessions::put_session(tx, &token_hash(&token), &session)?;
                if let Some(mut d) = current {
                    d.last_seen = Some(verified.at);
                    store::devices::put_device(tx, &d)?;
                }
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: svc.now(),
                        kind: ActivityKind::HeadsetLoggedIn {
                            device: device.name.clone(),
                            credential: verified.kind.as_str().into(),
                        },
                        actor: "self".into(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "headset.login",
                    json!({ "user_id": user.id, "device_id": device.id, "session_id": session.id, "credential": verified.kind }),
                    svc.now(),
                )?;
                let training = training_of(tx, &user, svc.now())?;
                Ok(Ok(HeadsetLogin {
                    token,
                    expires_at: session.expires_at(&svc.settings.credentials.headset),
                    session,
                    user,
                    training,
                }))
            })
            .await?
    }

    /// Check a headset session token, sent by the device it is bound to.
    pub async fn authenticate_headset(&self, device: Device, token: &str) -> ServiceResult<HeadsetPrincipal> {
        let hash = token_hash(token);
        let svc = self.clone();
        let policy = self.settings.credentials.headset;
        let (session, now) = self
            .store
            .read(move |tx| {
                Ok((
                    store::headset_sessions::get_session(tx, &hash)?,
                    security_peek(&svc, tx)?,
                ))
            })
            .await?;
        let Some(session) = session.filter(|s| s.device_id == device.id) else {
            return Err(ServiceError::Unauthenticated);
        };
        if !session.is_alive(&policy, now) {
            let svc = self.clone();
            self.store
                .write(move |tx| -> Result<(), ServiceError> {
                    if let Some(s) = store::headset_sessions::get_session(tx, &hash)? {
                        store::headset_sessions::delete_session(tx, &hash)?;
                        let mut a = svc.audit("headset.session_end", "success", &Actor::SelfService);
                        a.subject = Some(s.user_id.to_string());
                        a.detail = Some("expired".into());
                        store::audit::append_audit(tx, &a)?;
                    }
                    Ok(())
                })
                .await?;
            return Err(ServiceError::Unauthenticated);
        }
        let mut session = session;
        if now - session.last_seen >= TOUCH_EVERY {
            session.last_seen = now;
            let touched = session.clone();
            self.store
                .write(move |tx| -> Result<(), ServiceError> {
                    // Ended meanwhile: touching must not bring it back.
                    if store::headset_sessions::get_session(tx, &hash)?.is_some() {
                        store::headset_sessions::put_session(tx, &hash, &touched)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(HeadsetPrincipal {
            device,
            session,
            token_hash: hash,
        })
    }

    /// The session's user and their training now (a headset refreshing its screen).
    pub async fn headset_me(&self, p: &HeadsetPrincipal) -> ServiceResult<(User, Vec<AssignedTraining>)> {
        let user_id = p.session.user_id.clone();
        let now = self.now();
        let found = self
            .store
            .read(move |tx| {
                let Some(user) = store::users::get_user(tx, &user_id)? else {
                    return Ok(None);
                };
                let training = training_of(tx, &user, now)?;
                Ok(Some((user, training)))
            })
            .await?;
        found.ok_or(ServiceError::Unauthenticated)
    }

    /// End the session.
    pub async fn headset_logout(&self, p: HeadsetPrincipal) -> ServiceResult<()> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                store::headset_sessions::delete_session(tx, &p.token_hash)?;
                store::activity::append_activity(
                    tx,
                    &p.session.user_id,
                    &ActivityEntry {
                        at: svc.now(),
                        kind: ActivityKind::HeadsetLoggedOut {
                            device: p.device.name.clone(),
                        },
                        actor: "self".into(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "headset.logout",
                    json!({ "user_id": p.session.user_id, "device_id": p.device.id, "session_id": p.session.id }),
                    svc.now(),
                )?;
                let mut a = svc.audit("headset.logout", "success", &Actor::SelfService);
                a.subject = Some(p.session.user_id.to_string());
                store::audit::append_audit(tx, &a)?;
                Ok(())
            })
            .await
    }

    /// Record a progress event once per client event ID: activity, outbox and (for a pass) the
    /// completion in one commit. Returns the stored event and whether it was a repeat.
    pub async fn report_progress(
        &self,
        p: HeadsetPrincipal,
        event: ProgressEvent,
    ) -> ServiceResult<(StoredProgress, bool)> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                if let Some(stored) = store::progress::get_progress(tx, event.event_id)? {
                    if stored.event == event && stored.user_id == p.session.user_id {
                        return Ok((stored, true));
                    }
                    return Err(ServiceError::EventIdReused(event.event_id.to_string()));
                }
                let user = store::users::get_user(tx, &p.session.user_id)?.ok_or(ServiceError::Unauthenticated)?;
                let now = svc.now();
                let line = training_of(tx, &user, now)?
                    .into_iter()
                    .find(|t| t.module.id == event.module_id)
                    .ok_or_else(|| ServiceError::ModuleNotAssigned(event.module_id.to_string()))?;
                let title = line.module.title.clone();
                let device = p.device.name.clone();
                let kind = match (event.kind, event.passed) {
                    (ProgressKind::Started, _) => ActivityKind::ModuleStarted { module_title: title, device },
                    (ProgressKind::Aborted, _) => ActivityKind::ModuleAborted { module_title: title, device },
                    (ProgressKind::Completed, Some(true)) => {
                        store::training::put_completion(
                            tx,
                            &user.id,
                            &Completion {
                                module_id: event.module_id,
                                completed_at: now,
                            },
                        )?;
                        ActivityKind::ModuleCompleted { module_title: title }
                    }
                    (ProgressKind::Completed, _) => ActivityKind::ModuleFailed {
                        module_title: title,
                        score: event.score.unwrap_or(0),
                        device,
                    },
                };
                let stored = StoredProgress {
                    event: event.clone(),
                    user_id: user.id.clone(),
                    device_id: p.device.id,
                    received_at: now,
                };
                store::progress::put_progress(tx, &stored)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: now,
                        kind,
                        actor: "self".into(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "training.progress",
                    json!({
                        "event_id": event.event_id, "user_id": user.id, "device_id": p.device.id,
                        "module_id": event.module_id, "kind": event.kind, "score": event.score, "passed": event.passed,
                    }),
                    now,
                )?;
                Ok((stored, false))
            })
            .await
    }

    /// The participants a headset may offer to pick from: those checked in to the class open in its room.
    pub async fn headset_roster(&self, device: Device) -> ServiceResult<Vec<RosterEntry>> {
        let Some(room) = device.room.clone() else {
            return Ok(Vec::new());
        };
        let svc = self.clone();
        Ok(self
            .store
            .read(move |tx| {
                let now = security_peek(&svc, tx)?;
                room_roster(tx, &room, now)
            })
            .await?)
    }

    /// Active headset sessions, for staff.
    pub async fn list_headset_sessions(&self) -> ServiceResult<Vec<SessionView>> {
        let svc = self.clone();
        let policy = self.settings.credentials.headset;
        Ok(self
            .store
            .read(move |tx| {
                let now = security_peek(&svc, tx)?;
                let mut out = Vec::new();
                for (_, s) in store::headset_sessions::list_sessions(tx)? {
                    if !s.is_alive(&policy, now) {
                        continue;
                    }
                    let device_name = store::devices::get_device(tx, s.device_id)?
                        .map(|d| d.name)
                        .unwrap_or_default();
                    let user_name = store::users::get_user(tx, &s.user_id)?
                        .map(|u| u.name.short())
                        .unwrap_or_default();
                    out.push(SessionView {
                        expires_at: s.expires_at(&policy),
                        session: s,
                        device_name,
                        user_name,
                    });
                }
                out.sort_by_key(|v| v.session.created_at);
                Ok(out)
            })
            .await?)
    }

    /// Staff end one headset session.
    pub async fn end_headset_session(&self, actor: Actor, id: Uuid) -> ServiceResult<HeadsetSession> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let _ = security_now(&svc, tx)?;
                let ended = store::headset_sessions::delete_where(tx, |s| s.id == id)?;
                let s = ended.into_iter().next().ok_or_else(|| ServiceError::NotFound {
                    what: "session",
                    id: id.to_string(),
                })?;
                let mut a = svc.audit("headset.session_end", "success", &actor);
                a.subject = Some(s.user_id.to_string());
                a.detail = Some(format!("session {} ended by staff", s.id));
                store::audit::append_audit(tx, &a)?;
                Ok(s)
            })
            .await
    }
}
