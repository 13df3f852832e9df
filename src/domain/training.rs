//! The training catalogue, assignments by group, site, region or user, and each user's resulting status.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::DomainError;
use super::ids::UserId;
use super::org::UnitKind;
use super::person::clean_text;
use super::user::User;

pub const TITLE_MAX_CHARS: usize = 200;
/// Longest module duration accepted, in minutes (a full working day of VR would be absurd already).
pub const DURATION_MAX_MINUTES: u32 = 24 * 60;
/// Longest validity of a completion: ten years.
pub const VALIDITY_MAX_DAYS: u32 = 3650;

/// A module of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    pub id: Uuid,
    pub title: String,
    pub duration_minutes: u32,
    /// How long a completion stays valid; `None` = forever.
    pub valid_for_days: Option<u32>,
}

impl Module {
    pub fn new(
        id: Uuid,
        title: &str,
        duration_minutes: u32,
        valid_for_days: Option<u32>,
    ) -> Result<Module, DomainError> {
        if duration_minutes == 0 || duration_minutes > DURATION_MAX_MINUTES {
            return Err(DomainError::invalid(
                "duration_minutes",
                format!("must be 1 to {DURATION_MAX_MINUTES}"),
            ));
        }
        if let Some(d) = valid_for_days
            && (d == 0 || d > VALIDITY_MAX_DAYS)
        {
            return Err(DomainError::invalid(
                "valid_for_days",
                format!("must be 1 to {VALIDITY_MAX_DAYS}, or absent for no expiry"),
            ));
        }
        Ok(Module {
            id,
            title: clean_text("title", title, TITLE_MAX_CHARS)?,
            duration_minutes,
            valid_for_days,
        })
    }
}

/// Who an assignment is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AssignmentTarget {
    Group(Uuid),
    Site(Uuid),
    Region(Uuid),
    User(UserId),
}

impl AssignmentTarget {
    pub fn unit(kind: UnitKind, id: Uuid) -> AssignmentTarget {
        match kind {
            UnitKind::Group => AssignmentTarget::Group(id),
            UnitKind::Site => AssignmentTarget::Site(id),
            UnitKind::Region => AssignmentTarget::Region(id),
        }
    }

    /// Whether this target covers the user.
    pub fn covers(&self, user: &User) -> bool {
        match self {
            AssignmentTarget::Group(g) => user.groups.contains(g),
            AssignmentTarget::Site(s) => user.sites.contains(s),
            AssignmentTarget::Region(r) => user.regions.contains(r),
            AssignmentTarget::User(u) => &user.id == u,
        }
    }
}

/// A module assigned to a target, due by a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub id: Uuid,
    pub module_id: Uuid,
    pub target: AssignmentTarget,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user completed a module at a time (VR, classroom attendance, or the central system).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub module_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
}

/// Where a user stands with one assigned module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStatus {
    Pending,
    Completed,
    Expired,
}

impl TrainingStatus {
    /// The word the API and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingStatus::Pending => "pending",
            TrainingStatus::Completed => "completed",
            TrainingStatus::Expired => "expired",
        }
    }
}

/// One line of a user's assigned training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedTraining {
    pub module: Module,
    pub status: TrainingStatus,
    /// When it is (or was) due: the earliest due date among the assignments for a pending module;
    /// the expiry of the last completion for an expired one; none for a completed one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// When the current completion stops being valid.
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
}

/// Work out a user's assigned training from the catalogue, all assignments and the user's completions.
/// A module assigned several ways appears once, with the earliest due date.
pub fn assigned_training(
    user: &User,
    modules: &[Module],
    assignments: &[Assignment],
    completions: &[Completion],
    now: OffsetDateTime,
) -> Vec<AssignedTraining> {
    let mut out: Vec<AssignedTraining> = Vec::new();
    for module in modules {
        let mine: Vec<&Assignment> = assignments
            .iter()
            .filter(|a| a.module_id == module.id && a.target.covers(user))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let due_at = mine.iter().filter_map(|a| a.due_at).min();
        let last = completions
            .iter()
            .filter(|c| c.module_id == module.id)
            .map(|c| c.completed_at)
            .max();
        let line = match last {
            None => AssignedTraining {
                module: module.clone(),
                status: TrainingStatus::Pending,
                due_at,
                completed_at: None,
                valid_until: None,
            },
            Some(done) => {
                let valid_until = module.valid_for_days.map(|d| done + Duration::days(i64::from(d)));
                match valid_until {
                    Some(until) if until <= now => AssignedTraining {
                        module: module.clone(),
                        status: TrainingStatus::Expired,
                        due_at: Some(until),
                        completed_at: Some(done),
                        valid_until,
                    },
                    _ => AssignedTraining {
                        module: module.clone(),
                        status: TrainingStatus::Completed,
                        due_at: None,
                        completed_at: Some(done),
                        valid_until,
                    },
                }
            }
        };
        out.push(line);
    }
    out.sort_by(|a, b| {
        let rank = |s: TrainingStatus| match s {
            TrainingStatus::Expired => 0,
            TrainingStatus::Pending => 1,
            TrainingStatus::Completed => 2,
        };
        rank(a.status)
            .cmp(&rank(b.status))
            .then(a.due_at.cmp(&b.due_at))
            .then(a.module.title.cmp(&b.module.title))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::{CreatedVia, NewUserInput};
    use time::macros::datetime;

    fn user() -> User {
        let mut u = NewUserInput {
            given_name: "Ana".into(),
            family_name: "Silva".into(),
            ..Default::default()
        }
        .validate()
        .unwrap()
        .into_user(
            UserId::mint(&mut rand::rng()),
            CreatedVia::Admin,
            datetime!(2026-01-01 0:00 UTC),
        );
        u.groups.insert(Uuid::from_u128(1));
        u.sites.insert(Uuid::from_u128(2));
        u
    }

    fn assign(module: &Module, target: AssignmentTarget, due: Option<OffsetDateTime>) -> Assignment {
        Assignment {
            id: Uuid::now_v7(),
            module_id: module.id,
            target,
            due_at: due,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn status_follows_from_assignments_and_completions() {
        let u = user();
        let now = datetime!(2026-11-25 12:00 UTC);
        let heights = Module::new(Uuid::from_u128(10), "Working at heights", 20, Some(365)).unwrap();
        let fire = Module::new(Uuid::from_u128(11), "Fire safety", 15, Some(30)).unwrap();
        let ppe = Module::new(Uuid::from_u128(12), "PPE basics", 10, None).unwrap();
        let other = Module::new(Uuid::from_u128(13), "Not mine", 10, None).unwrap();
        let assignments = vec![
            assign(
                &heights,
                AssignmentTarget::Group(Uuid::from_u128(1)),
                Some(datetime!(2026-12-31 0:00 UTC)),
            ),
            assign(
                &heights,
                AssignmentTarget::User(u.id.clone()),
                Some(datetime!(2026-12-01 0:00 UTC)),
            ),
            assign(&fire, AssignmentTarget::Site(Uuid::from_u128(2)), None),
            assign(&ppe, AssignmentTarget::User(u.id.clone()), None),
            assign(&other, AssignmentTarget::Region(Uuid::from_u128(99)), None),
        ];
        let completions = vec![
            Completion {
                module_id: fire.id,
                completed_at: datetime!(2026-09-01 0:00 UTC),
            },
            Completion {
                module_id: ppe.id,
                completed_at: datetime!(2020-01-01 0:00 UTC),
            },
        ];
        let list = assigned_training(
            &u,
            &[heights.clone(), fire.clone(), ppe.clone(), other],
            &assignments,
            &completions,
            now,
        );
        assert_eq!(
            list.len(),
            3,
            "unassigned module must not appear, duplicates merge"
        );
        assert_eq!(list[0].module.id, fire.id);
        assert_eq!(list[0].status, TrainingStatus::Expired);
        assert_eq!(list[0].due_at, Some(datetime!(2026-10-01 0:00 UTC)));
        assert_eq!(list[1].module.id, heights.id);
        assert_eq!(list[1].status, TrainingStatus::Pending);
        assert_eq!(
            list[1].due_at,
            Some(datetime!(2026-12-01 0:00 UTC)),
            "earliest due date wins"
        );
        assert_eq!(list[2].module.id, ppe.id);
        assert_eq!(
            list[2].status,
            TrainingStatus::Completed,
            "no validity = never expires"
        );
    }

    #[test]
    fn module_rules() {
        assert!(Module::new(Uuid::nil(), "X", 0, None).is_err());
        assert!(Module::new(Uuid::nil(), "X", 10, Some(0)).is_err());
        assert!(Module::new(Uuid::nil(), " ", 10, None).is_err());
    }
}
