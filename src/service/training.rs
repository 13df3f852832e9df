//! The training catalogue and assignments: add modules, assign them to units or users, list them.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::training::{Assignment, AssignmentTarget, Module};
use crate::store;

/// A new module, before validation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewModule {
    pub title: String,
    pub duration_minutes: u32,
    pub valid_for_days: Option<u32>,
}

impl Services {
    /// Add a module to the catalogue; titles are unique (case-insensitive).
    pub async fn add_module(&self, actor: Actor, new: NewModule) -> ServiceResult<Module> {
        let module = Module::new(
            Uuid::now_v7(),
            &new.title,
            new.duration_minutes,
            new.valid_for_days,
        )?;
        let svc = self.clone();
        self.store
            .write(move |tx| {
                if store::training::find_module_by_title(tx, &module.title)?.is_some() {
                    return Err(ServiceError::Domain(DomainError::Conflict(format!(
                        "a module titled {:?} already exists",
                        module.title
                    ))));
                }
                let now = svc.now();
                store::training::put_module(tx, &module)?;
                store::outbox::append_event(tx, "module.created", json!({ "module": module }), now)?;
                let mut audit = svc.audit("module.create", "success", &actor);
                audit.subject = Some(module.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(module)
            })
            .await
    }

    pub async fn list_modules(&self) -> ServiceResult<Vec<Module>> {
        Ok(self.store.read(store::training::list_modules).await?)
    }

    pub async fn list_assignments(&self) -> ServiceResult<Vec<Assignment>> {
        Ok(self.store.read(store::training::list_assignments).await?)
    }

    /// Resolve a module given by UUID or by title.
    pub async fn resolve_module(&self, key: String) -> ServiceResult<Module> {
        let found = self
            .store
            .read(move |tx| match Uuid::parse_str(key.trim()) {
                Ok(id) => store::training::get_module(tx, id).map(|m| m.ok_or(key)),
                Err(_) => store::training::find_module_by_title(tx, &key).map(|m| m.ok_or(key)),
            })
            .await?;
        found.map_err(|key| ServiceError::NotFound {
            what: "module",
            id: key,
        })
    }

    /// Assign a module to a group, site, region or one user, optionally due by a date.
    pub async fn assign_module(
        &self,
        actor: Actor,
        module_id: Uuid,
        target: AssignmentTarget,
        due_at: Option<OffsetDateTime>,
    ) -> ServiceResult<Assignment> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let module =
                    store::training::get_module(tx, module_id)?.ok_or_else(|| ServiceError::NotFound {
                        what: "module",
                        id: module_id.to_string(),
                    })?;
                match &target {
                    AssignmentTarget::User(uid) => {
                        store::users::get_user(tx, uid)?.ok_or_else(|| ServiceError::NotFound {
                            what: "user",
                            id: uid.to_string(),
                        })?;
                    }
                    AssignmentTarget::Group(id)
                    | AssignmentTarget::Site(id)
                    | AssignmentTarget::Region(id) => {
                        store::org::get_unit(tx, *id)?.ok_or_else(|| ServiceError::NotFound {
                            what: "unit",
                            id: id.to_string(),
                        })?;
                    }
                }
                let now = svc.now();
                if due_at.is_some_and(|due| due <= now) {
                    return Err(DomainError::invalid("due_at", "must be in the future").into());
                }
                let assignment = Assignment {
                    id: Uuid::now_v7(),
                    module_id,
                    target,
                    due_at,
                    created_at: now,
                };
                store::training::put_assignment(tx, &assignment)?;
                if let AssignmentTarget::User(uid) = &assignment.target {
                    store::activity::append_activity(
                        tx,
                        uid,
                        &ActivityEntry {
                            at: now,
                            kind: ActivityKind::TrainingAssigned {
                                module_title: module.title.clone(),
                            },
                            actor: actor.label(),
                        },
                    )?;
                }
                store::outbox::append_event(
                    tx,
                    "assignment.created",
                    json!({ "assignment": assignment }),
                    now,
                )?;
                let mut audit = svc.audit("assignment.create", "success", &actor);
                audit.subject = Some(assignment.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(assignment)
            })
            .await
    }
}
