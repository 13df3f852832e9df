//! User records: create, list, show, deactivate, join units. Each change writes activity, outbox and audit in one transaction.

use serde_json::json;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::ids::UserId;
use crate::domain::org::{Unit, UnitKind};
use crate::domain::training::{AssignedTraining, assigned_training};
use crate::domain::user::{CreatedVia, NewUserInput, User};
use crate::keys::os_rng;
use crate::store::{self, StoreError};

/// Most users one list call returns.
pub const LIST_MAX: usize = 500;
/// Activity entries shown with a user.
pub const ACTIVITY_SHOWN: usize = 100;

/// A user with what a profile screen shows beside the record.
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub user: User,
    pub units: Vec<Unit>,
    pub training: Vec<AssignedTraining>,
    pub activity: Vec<ActivityEntry>,
}

fn created_label(via: &CreatedVia) -> String {
    match via {
        CreatedVia::Admin => "admin",
        CreatedVia::Init => "init",
        CreatedVia::Demo => "demo",
        CreatedVia::Link { .. } => "access_link",
        CreatedVia::Central => "central",
    }
    .to_string()
}

/// Write a new user inside an open transaction: mint an ID (re-drawn on a clash), index, join units,
/// log activity, queue the outbox event and audit. Shared by admin creation, `init`, the demo and enrollment.
pub(crate) fn insert_new_user(
    svc: &Services,
    tx: &redb::WriteTransaction,
    input: &NewUserInput,
    units: &[Uuid],
    via: CreatedVia,
    actor: &Actor,
) -> ServiceResult<User> {
    insert_new_user_with(svc, tx, input, units, via, actor, |_| {})
}

/// [`insert_new_user`], letting the caller fill in more of the record (e.g. accepted terms) before it is stored.
pub(crate) fn insert_new_user_with(
    svc: &Services,
    tx: &redb::WriteTransaction,
    input: &NewUserInput,
    units: &[Uuid],
    via: CreatedVia,
    actor: &Actor,
    complete: impl FnOnce(&mut User),
) -> ServiceResult<User> {
    let new = input.validate()?;
    let now = svc.now();
    let mut rng = os_rng();
    let id = loop {
        let id = UserId::mint(&mut rng);
        if store::users::get_user(tx, &id)?.is_none() {
            break id;
        }
    };
    let mut user = new.into_user(id, via, now);
    complete(&mut user);
    let mut joined = Vec::new();
    for unit_id in units {
        let unit = store::org::get_unit(tx, *unit_id)?.ok_or_else(|| ServiceError::NotFound {
            what: "unit",
            id: unit_id.to_string(),
        })?;
        if user.join(unit.kind, unit.id) {
            joined.push(unit);
        }
    }
    store::users::insert_user(tx, &user)?;
    let label = created_label(&user.created_via);
    store::activity::append_activity(
        tx,
        &user.id,
        &ActivityEntry {
            at: now,
            kind: ActivityKind::Created { via: label },
            actor: actor.label(),
        },
    )?;
    for unit in &joined {
        store::activity::append_activity(
            tx,
            &user.id,
            &ActivityEntry {
                at: now,
                kind: ActivityKind::JoinedUnit {
                    unit_kind: unit.kind.as_str().into(),
                    unit_name: unit.name.clone(),
                },
                actor: actor.label(),
            },
        )?;
    }
    store::outbox::append_event(tx, "user.created", json!({ "user": user }), now)?;
    let mut audit = svc.audit("user.create", "success", actor);
    audit.subject = Some(user.id.to_string());
    store::audit::append_audit(tx, &audit)?;
    Ok(user)
}

impl Services {
    /// Create a user (staff or CLI).
    pub async fn create_user(
        &self,
        actor: Actor,
        input: NewUserInput,
        units: Vec<Uuid>,
    ) -> ServiceResult<User> {
        input.validate()?;
        let svc = self.clone();
        self.store
            .write(move |tx| insert_new_user(&svc, tx, &input, &units, CreatedVia::Admin, &actor))
            .await
    }

    /// One page of users, ordered by ID, after `after`.
    pub async fn list_users(&self, after: Option<UserId>, limit: usize) -> ServiceResult<Vec<User>> {
        let limit = limit.clamp(1, LIST_MAX);
        Ok(self
            .store
            .read(move |tx| store::users::list_users(tx, after.as_ref(), limit))
            .await?)
    }

    /// A user's record, units, assigned training and recent activity.
    pub async fn user_detail(&self, id: UserId) -> ServiceResult<UserDetail> {
        let now = self.now();
        let shown = id.to_string();
        self.store
            .read(move |tx| -> Result<Option<UserDetail>, StoreError> {
                let Some(user) = store::users::get_user(tx, &id)? else {
                    return Ok(None);
                };
                let mut units = Vec::new();
                for unit_id in user.groups.iter().chain(&user.sites).chain(&user.regions) {
                    if let Some(u) = store::org::get_unit(tx, *unit_id)? {
                        units.push(u);
                    }
                }
                let modules = store::training::list_modules(tx)?;
                let assignments = store::training::list_assignments(tx)?;
                let completions = store::training::list_completions(tx, &user.id)?;
                let training = assigned_training(&user, &modules, &assignments, &completions, now);
                let activity = store::activity::list_activity(tx, &user.id, ACTIVITY_SHOWN)?;
                Ok(Some(UserDetail {
                    user,
                    units,
                    training,
                    activity,
                }))
            })
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "user",
                id: shown,
            })
    }

    /// Deactivate a user: their PIN and one-time passwords stop working and their staff and headset sessions end, in the same transaction.
    pub async fn deactivate_user(&self, actor: Actor, id: UserId) -> ServiceResult<User> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut user = store::users::get_user(tx, &id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "user",
                    id: id.to_string(),
                })?;
                let now = svc.now();
                user.deactivate(now)?;
                store::users::update_user(tx, &user)?;
                end_access(tx, &user.id)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: now,
                        kind: ActivityKind::Deactivated,
                        actor: actor.label(),
                    },
                )?;
                store::outbox::append_event(tx, "user.deactivated", json!({ "user_id": user.id }), now)?;
                let mut audit = svc.audit("user.deactivate", "success", &actor);
                audit.subject = Some(user.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(user)
            })
            .await
    }

    /// Add a user to a group, site or region.
    pub async fn join_unit(&self, actor: Actor, id: UserId, unit_id: Uuid) -> ServiceResult<User> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut user = store::users::get_user(tx, &id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "user",
                    id: id.to_string(),
                })?;
                let unit = store::org::get_unit(tx, unit_id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "unit",
                    id: unit_id.to_string(),
                })?;
                let now = svc.now();
                if !user.join(unit.kind, unit.id) {
                    return Ok(user);
                }
                user.updated_at = now;
                store::users::update_user(tx, &user)?;
                store::activity::append_activity(
                    tx,
                    &user.id,
                    &ActivityEntry {
                        at: now,
                        kind: ActivityKind::JoinedUnit {
                            unit_kind: unit.kind.as_str().into(),
                            unit_name: unit.name.clone(),
                        },
                        actor: actor.label(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "user.joined_unit",
                    json!({ "user_id": user.id, "unit_id": unit.id, "unit_kind": unit.kind }),
                    now,
                )?;
                let mut audit = svc.audit("user.join_unit", "success", &actor);
                audit.subject = Some(user.id.to_string());
                audit.detail = Some(format!("{} {}", unit.kind.as_str(), unit.id));
                store::audit::append_audit(tx, &audit)?;
                Ok(user)
            })
            .await
    }

    /// Resolve a unit given by UUID or by name.
    pub async fn resolve_unit(&self, kind: UnitKind, key: String) -> ServiceResult<Unit> {
        let found = self
            .store
            .read(move |tx| match Uuid::parse_str(key.trim()) {
                Ok(id) => store::org::get_unit(tx, id).map(|u| u.ok_or(key)),
                Err(_) => store::org::find_unit_by_name(tx, kind, &key).map(|u| u.ok_or(key)),
            })
            .await?;
        found.map_err(|key| ServiceError::NotFound {
            what: kind.as_str(),
            id: key,
        })
    }
}

/// A deactivated (or deleted) user's PIN and one-time passwords stop working and their staff and
/// headset sessions end, in the caller's transaction.
pub(crate) fn end_access(tx: &redb::WriteTransaction, user: &UserId) -> Result<(), store::StoreError> {
    store::credentials::clear_pin(tx, user)?;
    store::sessions::delete_sessions_of(tx, user)?;
    store::headset_sessions::delete_sessions_of_user(tx, user)?;
    for (tag, otp) in store::otps::list_otps(tx)? {
        if &otp.user_id == user {
            store::otps::delete_otp(tx, &tag)?;
        }
    }
    Ok(())
}
