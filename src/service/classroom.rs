//! Classroom sessions: create, edit, cancel (managers), open and close (the class's instructors or managers), today's list, and the roster view.

use redb::WriteTransaction;
use serde_json::json;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::auth::Principal;
use super::roster_events::RosterChanged;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::clock::rfc3339;
use crate::domain::DomainError;
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::classroom::{Attendance, CheckMethod, CheckOutResult, Class, ClassInput, Outcome};
use crate::domain::ids::UserId;
use crate::domain::org::UnitKind;
use crate::domain::staff::Role;
use crate::domain::training::Completion;
use crate::domain::user::User;
use crate::store::{self, ReadTx, StoreError};

/// One line of a class's roster.
#[derive(Debug, Clone)]
pub struct RosterLine {
    pub user: User,
    pub expected: bool,
    pub attendance: Option<Attendance>,
}

impl RosterLine {
    pub fn present(&self) -> bool {
        self.attendance.as_ref().is_some_and(Attendance::is_present)
    }
}

/// A class with everyone expected or seen.
#[derive(Debug, Clone)]
pub struct RosterView {
    pub class: Class,
    pub lines: Vec<RosterLine>,
}

/// Whether `p` may open, run, close and see the roster of `class`: one of its instructors, or a
/// manager or admin.
pub fn may_run(p: &Principal, class: &Class) -> bool {
    matches!(p.role, Role::Manager | Role::Admin) || class.instructors.contains(&p.user_id)
}

pub(crate) fn require_runner(p: &Principal, class: &Class) -> Result<(), ServiceError> {
    if may_run(p, class) {
        Ok(())
    } else {
        Err(ServiceError::NotClassInstructor)
    }
}

pub(crate) fn get_class_or_404(tx: &impl ReadTx, id: Uuid) -> Result<Class, ServiceError> {
    store::classes::get_class(tx, id)?.ok_or_else(|| ServiceError::NotFound {
        what: "class",
        id: id.to_string(),
    })
}

/// The roster of a class: expected people first, then walk-ins, each by name.
pub(crate) fn roster_of(tx: &impl ReadTx, class: Class) -> Result<RosterView, StoreError> {
    let rows = store::classes::class_attendance(tx, class.id)?;
    let mut lines = Vec::new();
    for id in &class.expected {
        if let Some(user) = store::users::get_user(tx, id)? {
            let attendance = rows.iter().find(|a| &a.user_id == id).cloned();
            lines.push(RosterLine {
                user,
                expected: true,
                attendance,
            });
        }
    }
    for a in rows.into_iter().filter(|a| !class.expected.contains(&a.user_id)) {
        if let Some(user) = store::users::get_user(tx, &a.user_id)? {
            lines.push(RosterLine {
                user,
                expected: false,
                attendance: Some(a),
            });
        }
    }
    lines.sort_by(|a, b| {
        (
            !a.expected,
            a.user.name.given.to_lowercase(),
            a.user.name.family.to_lowercase(),
        )
            .cmp(&(
                !b.expected,
                b.user.name.given.to_lowercase(),
                b.user.name.family.to_lowercase(),
            ))
    });
    Ok(RosterView { class, lines })
}

/// Check that what a class names exists: modules, the site, instructors (staff), expected people.
fn check_references(tx: &impl ReadTx, class: &Class) -> Result<(), ServiceError> {
    for m in &class.module_ids {
        if store::training::get_module(tx, *m)?.is_none() {
            return Err(DomainError::invalid("module_ids", format!("no module {m}")).into());
        }
    }
    if let Some(site) = class.site_id {
        let unit = store::org::get_unit(tx, site)?;
        if unit.is_none_or(|u| u.kind != UnitKind::Site) {
            return Err(DomainError::invalid("site_id", format!("no site {site}")).into());
        }
    }
    for i in &class.instructors {
        let user = store::users::get_user(tx, i)?;
        if user.is_none_or(|u| !u.role.is_staff() || !u.is_active()) {
            return Err(DomainError::invalid(
                "instructors",
                format!("{i} is not an active instructor, manager or admin"),
            )
            .into());
        }
    }
    for e in &class.expected {
        if store::users::get_user(tx, e)?.is_none() {
            return Err(DomainError::invalid("expected", format!("no user {e}")).into());
        }
    }
    Ok(())
}

/// End the headset sessions of a classroom-only user who is no longer checked in anywhere.
pub(crate) fn end_classroom_sessions(
    svc: &Services,
    tx: &WriteTransaction,
    user: &User,
    why: &str,
) -> Result<(), StoreError> {
    if user.access_level != crate::domain::user::AccessLevel::ClassroomOnly {
        return Ok(());
    }
    for class in store::classes::open_classes(tx)? {
        if store::classes::get_attendance(tx, class.id, &user.id)?.is_some_and(|a| a.is_present()) {
            return Ok(());
        }
    }
    let ended = store::headset_sessions::delete_where(tx, |s| s.user_id == user.id)?;
    for s in ended {
        let mut a = svc.audit("headset.session_end", "success", &Actor::SelfService);
        a.actor = Some("classroom".into());
        a.subject = Some(user.id.to_string());
        a.detail = Some(format!("session {}: classroom-only user {why}", s.id));
        store::audit::append_audit(tx, &a)?;
    }
    Ok(())
}

fn activity(
    tx: &WriteTransaction,
    user: &UserId,
    at: OffsetDateTime,
    kind: ActivityKind,
    actor: &str,
) -> Result<(), StoreError> {
    store::activity::append_activity(
        tx,
        user,
        &ActivityEntry {
            at,
            kind,
            actor: actor.to_string(),
        },
    )
}

impl Services {
    /// The site's UTC offset (for "today" and the daily cut-off).
    pub fn site_offset(&self) -> UtcOffset {
        self.settings
            .classroom
            .auto_checkout
            .offset
            .unwrap_or(UtcOffset::UTC)
    }

    pub async fn create_class(&self, actor: Actor, input: ClassInput) -> ServiceResult<Class> {
        let class = Class::new(Uuid::now_v7(), &input, self.now())?;
        let svc = self.clone();
        self.store
            .write(move |tx| {
                check_references(tx, &class)?;
                store::classes::put_class(tx, &class)?;
                store::outbox::append_event(tx, "class.created", json!({ "class": class }), svc.now())?;
                let mut a = svc.audit("class.create", "success", &actor);
                a.subject = Some(class.id.to_string());
                store::audit::append_audit(tx, &a)?;
                Ok(class)
            })
            .await
    }

    pub async fn edit_class(&self, actor: Actor, id: Uuid, input: ClassInput) -> ServiceResult<Class> {
        let svc = self.clone();
        let class = self
            .store
            .write(move |tx| {
                let mut class = get_class_or_404(tx, id)?;
                class.apply(&input, svc.now())?;
                check_references(tx, &class)?;
                store::classes::put_class(tx, &class)?;
                store::outbox::append_event(tx, "class.updated", json!({ "class": class }), svc.now())?;
                let mut a = svc.audit("class.edit", "success", &actor);
                a.subject = Some(class.id.to_string());
                store::audit::append_audit(tx, &a)?;
                Ok::<_, ServiceError>(class)
            })
            .await?;
        self.roster_events.notify(RosterChanged(Some(id)));
        Ok(class)
    }

    pub async fn cancel_class(&self, actor: Actor, id: Uuid) -> ServiceResult<Class> {
        let svc = self.clone();
        let class = self
            .store
            .write(move |tx| {
                let mut class = get_class_or_404(tx, id)?;
                class.cancel(svc.now()).map_err(DomainError::from)?;
                store::classes::put_class(tx, &class)?;
                store::outbox::append_event(tx, "class.cancelled", json!({ "class_id": id }), svc.now())?;
                let mut a = svc.audit("class.cancel", "success", &actor);
                a.subject = Some(id.to_string());
                store::audit::append_audit(tx, &a)?;
                Ok::<_, ServiceError>(class)
            })
            .await?;
        self.roster_events.notify(RosterChanged(Some(id)));
        Ok(class)
    }

    /// Classes starting on `day` (site time), or every class; by start time.
    pub async fn list_classes(&self, day: Option<Date>) -> ServiceResult<Vec<Class>> {
        let offset = self.site_offset();
        let mut list = self.store.read(store::classes::list_classes).await?;
        if let Some(day) = day {
            list.retain(|c| c.starts_at.to_offset(offset).date() == day);
        }
        list.sort_by_key(|c| (c.starts_at, c.id));
        Ok(list)
    }

    /// The class and its roster.
    /// A class's roster, for its instructors, managers and admins (`NotClassInstructor` for
    /// other staff: the roster names people and says where they are).
    pub async fn class_roster(&self, p: &Principal, id: Uuid) -> ServiceResult<RosterView> {
        let p = p.clone();
        self.store
            .read(move |tx| {
                let Some(class) = store::classes::get_class(tx, id)? else {
                    return Ok(Err(ServiceError::NotFound {
                        what: "class",
                        id: id.to_string(),
                    }));
                };
                if let Err(e) = require_runner(&p, &class) {
                    return Ok(Err(e));
                }
                roster_of(tx, class).map(Ok)
            })
            .await?
    }

    pub async fn open_class(&self, p: Principal, id: Uuid) -> ServiceResult<Class> {
        let svc = self.clone();
        let class = self
            .store
            .write(move |tx| {
                let mut class = get_class_or_404(tx, id)?;
                require_runner(&p, &class)?;
                class.open(svc.now()).map_err(DomainError::from)?;
                store::classes::put_class(tx, &class)?;
                store::outbox::append_event(
                    tx,
                    "class.opened",
                    json!({ "class_id": id, "opened_at": class.opened_at.map(rfc3339), "by": p.user_id }),
                    svc.now(),
                )?;
                let mut a = svc.audit("class.open", "success", &p.actor());
                a.subject = Some(id.to_string());
                store::audit::append_audit(tx, &a)?;
                Ok::<_, ServiceError>(class)
            })
            .await?;
        self.roster_events.notify(RosterChanged(Some(id)));
        Ok(class)
    }

    /// Close the class: everyone still in is checked out; each participant's outcome (given,
    /// else attended when they were checked in at any time, else no-show) goes to their activity
    /// log and the outbox, and "attended" completes the class's modules, all in one commit.
    pub async fn close_class(
        &self,
        p: Principal,
        id: Uuid,
        outcomes: Vec<(UserId, Outcome)>,
    ) -> ServiceResult<RosterView> {
        let svc = self.clone();
        let view = self
            .store
            .write(move |tx| {
                let now = svc.now();
                let mut class = get_class_or_404(tx, id)?;
                require_runner(&p, &class)?;
                class.close(now).map_err(DomainError::from)?;
                let view = roster_of(tx, class.clone())?;
                for (user, _) in &outcomes {
                    if !view.lines.iter().any(|l| &l.user.id == user) {
                        return Err(DomainError::invalid(
                            "outcomes",
                            format!("{user} is neither expected nor checked in"),
                        )
                        .into());
                    }
                }
                store::classes::put_class(tx, &class)?;
                let actor = p.user_id.to_string();
                let modules: Vec<_> = class
                    .module_ids
                    .iter()
                    .map(|m| store::training::get_module(tx, *m))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .flatten()
                    .collect();
                let mut summary = Vec::new();
                for line in &view.lines {
                    let mut a = line
                        .attendance
                        .clone()
                        .unwrap_or_else(|| Attendance::new(&class, line.user.id.clone()));
                    if a.check_out(CheckMethod::Close, now) == CheckOutResult::CheckedOut {
                        activity(
                            tx,
                            &line.user.id,
                            now,
                            ActivityKind::CheckedOut {
                                class_title: class.title.clone(),
                                method: CheckMethod::Close.as_str().into(),
                                auto: false,
                            },
                            &actor,
                        )?;
                    }
                    let outcome = outcomes
                        .iter()
                        .find(|(u, _)| u == &line.user.id)
                        .map_or_else(|| a.default_outcome(), |(_, o)| *o);
                    a.outcome = Some(outcome);
                    store::classes::put_attendance(tx, &a)?;
                    activity(
                        tx,
                        &line.user.id,
                        now,
                        ActivityKind::ClassOutcome {
                            class_title: class.title.clone(),
                            outcome: outcome.as_str().into(),
                        },
                        &actor,
                    )?;
                    if outcome == Outcome::Attended {
                        for m in &modules {
                            store::training::put_completion(
                                tx,
                                &line.user.id,
                                &Completion {
                                    module_id: m.id,
                                    completed_at: now,
                                },
                            )?;
                            activity(
                                tx,
                                &line.user.id,
                                now,
                                ActivityKind::ModuleCompleted {
                                    module_title: m.title.clone(),
                                },
                                &actor,
                            )?;
                        }
                    }
                    store::outbox::append_event(
                        tx,
                        "class.outcome",
                        json!({ "class_id": id, "user_id": line.user.id, "outcome": outcome, "modules": class.module_ids,
                                "checked_in_at": a.checked_in_at.map(rfc3339), "checked_out_at": a.checked_out_at.map(rfc3339) }),
                        now,
                    )?;
                    summary.push(json!({ "user_id": line.user.id, "outcome": outcome }));
                    end_classroom_sessions(&svc, tx, &line.user, "class closed")?;
                }
                store::outbox::append_event(
                    tx,
                    "class.closed",
                    json!({ "class_id": id, "closed_at": rfc3339(now), "outcomes": summary }),
                    now,
                )?;
                let mut a = svc.audit("class.close", "success", &p.actor());
                a.subject = Some(id.to_string());
                store::audit::append_audit(tx, &a)?;
                Ok::<_, ServiceError>(roster_of(tx, class)?)
            })
            .await?;
        self.roster_events.notify(RosterChanged(Some(id)));
        Ok(view)
    }
}
