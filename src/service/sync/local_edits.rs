//! Site edits of central classes and users that the central system has not accepted yet (a class edited or cancelled on site, a unit added to a user), read from the outbox and laid back over each pulled version so staff do not see them undone.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::domain::classroom::{Class, ClassState};
use crate::domain::org::UnitKind;
use crate::domain::user::User;
use crate::store::outbox::OutboxEvent;

/// What the queued `class.*` and `user.joined_unit` events changed, by record.
#[derive(Debug, Default)]
pub struct LocalEdits {
    /// The class as the site last edited it (`class.created`, `class.updated`).
    classes: HashMap<Uuid, Class>,
    /// Classes cancelled on site (`class.cancelled`).
    cancelled: HashSet<Uuid>,
    /// Units added to users on site (`user.joined_unit`), by local user ID.
    joined: HashMap<String, Vec<(UnitKind, Uuid)>>,
}

fn uuid_at(payload: &serde_json::Value, field: &str) -> Option<Uuid> {
    payload
        .get(field)
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

impl LocalEdits {
    /// Take note of one queued event; call in sequence order.
    pub fn note(&mut self, event: &OutboxEvent) {
        let p = &event.payload;
        match event.kind.as_str() {
            "class.created" | "class.updated" => {
                if let Some(class) = p
                    .get("class")
                    .and_then(|v| serde_json::from_value::<Class>(v.clone()).ok())
                {
                    self.classes.insert(class.id, class);
                }
            }
            "class.cancelled" => {
                if let Some(id) = uuid_at(p, "class_id") {
                    self.cancelled.insert(id);
                }
            }
            "user.joined_unit" => {
                let user = p.get("user_id").and_then(|v| v.as_str());
                let kind = p
                    .get("unit_kind")
                    .and_then(|v| serde_json::from_value::<UnitKind>(v.clone()).ok());
                if let (Some(user), Some(kind), Some(unit)) = (user, kind, uuid_at(p, "unit_id")) {
                    self.joined
                        .entry(user.to_string())
                        .or_default()
                        .push((kind, unit));
                }
            }
            _ => {}
        }
    }

    /// Lay the site's edits of this class back over its pulled version: what staff set on site
    /// (title, modules, site, room, times, people) and a cancellation.
    pub fn lay_on_class(&self, class: &mut Class) {
        let mut cancel = self.cancelled.contains(&class.id);
        if let Some(local) = self.classes.get(&class.id) {
            class.title.clone_from(&local.title);
            class.module_ids.clone_from(&local.module_ids);
            class.site_id = local.site_id;
            class.room.clone_from(&local.room);
            class.starts_at = local.starts_at;
            class.ends_at = local.ends_at;
            class.instructors.clone_from(&local.instructors);
            class.expected.clone_from(&local.expected);
            cancel |= local.state == ClassState::Cancelled;
        }
        if cancel && class.state == ClassState::Scheduled {
            class.state = ClassState::Cancelled;
        }
    }

    /// Lay the units added on site back over a pulled user.
    pub fn lay_on_user(&self, user: &mut User) {
        for (kind, unit) in self.joined.get(user.id.as_str()).into_iter().flatten() {
            user.join(*kind, *unit);
        }
    }
}
