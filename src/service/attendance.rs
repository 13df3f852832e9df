//! Check-in and check-out: by badge scan, typed ID, name + the participant's PIN (through the one verification path), or marked by the instructor; self check-in at the kiosk; name search; who is on site now.

use redb::WriteTransaction;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::Principal;
use super::classroom::{end_classroom_sessions, get_class_or_404, require_runner};
use super::classroom_badge::resolve_badge;
use super::roster_events::RosterChanged;
use super::security::{Attempt, AttemptSource, verify};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::clock::rfc3339;
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::classroom::{Attendance, CheckInResult, CheckMethod, CheckOutResult, Class};
use crate::domain::ids::UserId;
use crate::domain::name_search::name_matches;
use crate::domain::user::User;
use crate::store::{self, StoreError};

/// How the person is identified.
#[derive(Debug, Clone)]
pub enum Identify {
    /// A badge's QR payload as the scanner typed it.
    Badge(String),
    /// A typed ID; the instructor sees the person.
    Id(UserId),
    /// Picked by name, then their own PIN.
    Pin { user_id: UserId, pin: String },
    /// Marked by the instructor.
    Staff(UserId),
}

impl Identify {
    fn method(&self) -> CheckMethod {
        match self {
            Identify::Badge(_) => CheckMethod::Badge,
            Identify::Id(_) => CheckMethod::Id,
            Identify::Pin { .. } => CheckMethod::Pin,
            Identify::Staff(_) => CheckMethod::Staff,
        }
    }
}

/// Who is asking: a signed-in instructor (or manager), or the person at the kiosk for themselves.
#[derive(Debug, Clone)]
pub enum Asker {
    Staff(Principal),
    SelfService,
}

impl Asker {
    fn actor(&self) -> Actor {
        match self {
            Asker::Staff(p) => p.actor(),
            Asker::SelfService => Actor::SelfService,
        }
    }
}

/// Where the request came from: the throttling source for PINs and the audit's source.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: AttemptSource,
    pub audit_source: Option<String>,
}

/// The result of a check-in or check-out, for the screen.
#[derive(Debug, Clone)]
pub struct Checked {
    pub class: Class,
    pub user: User,
    pub attendance: Attendance,
    /// Nothing changed: already in (check-in) or not in (check-out).
    pub unchanged: bool,
}

/// A person checked in anywhere now.
#[derive(Debug, Clone)]
pub struct OnSite {
    pub user: User,
    pub class: Class,
    pub attendance: Attendance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    In,
    Out,
}

type Verdict<T> = Result<Result<T, ServiceError>, ServiceError>;

/// Find the person. Refusals that must be committed (a failed PIN is recorded) come back inside.
fn identify(
    svc: &Services,
    tx: &WriteTransaction,
    who: &Identify,
    origin: &Origin,
    event: &'static str,
) -> Verdict<User> {
    let id = match who {
        Identify::Badge(payload) => match resolve_badge(svc, tx, payload)? {
            Ok(id) => id,
            Err(refusal) => return Ok(Err(ServiceError::Badge(refusal))),
        },
        Identify::Id(id) | Identify::Staff(id) => id.clone(),
        Identify::Pin { user_id, pin } => {
            let attempt = Attempt::pin(
                user_id,
                pin,
                origin.source.clone(),
                event,
                origin.audit_source.clone(),
            );
            return Ok(verify(svc, tx, &attempt)?.map(|v| v.user));
        }
    };
    Ok(store::users::get_user(tx, &id)?.ok_or(ServiceError::NotFound {
        what: "user",
        id: id.to_string(),
    }))
}

/// One committed change of someone's presence.
struct Change<'a> {
    class: &'a Class,
    user: &'a User,
    attendance: &'a Attendance,
    dir: Direction,
    method: CheckMethod,
    actor: &'a Actor,
    at: OffsetDateTime,
}

fn write_change(svc: &Services, tx: &WriteTransaction, c: &Change<'_>) -> Result<(), StoreError> {
    let Change {
        class,
        user,
        attendance: a,
        dir,
        method,
        actor,
        at,
    } = *c;
    store::classes::put_attendance(tx, a)?;
    let (kind, event, audit) = match dir {
        Direction::In => (
            ActivityKind::CheckedIn {
                class_title: class.title.clone(),
                method: method.as_str().into(),
            },
            "class.check_in",
            "class.check_in",
        ),
        Direction::Out => (
            ActivityKind::CheckedOut {
                class_title: class.title.clone(),
                method: method.as_str().into(),
                auto: method == CheckMethod::Auto,
            },
            "class.check_out",
            "class.check_out",
        ),
    };
    store::activity::append_activity(
        tx,
        &user.id,
        &ActivityEntry {
            at,
            kind,
            actor: actor.label(),
        },
    )?;
    store::outbox::append_event(
        tx,
        event,
        json!({ "class_id": class.id, "user_id": user.id, "method": method, "at": rfc3339(at), "walk_in": a.walk_in }),
        at,
    )?;
    let mut entry = svc.audit(audit, "success", actor);
    if method == CheckMethod::Auto {
        entry.actor = Some("auto".into());
    }
    entry.subject = Some(user.id.to_string());
    entry.detail = Some(format!("class {} by {}", class.id, method.as_str()));
    store::audit::append_audit(tx, &entry)
}

/// Check `user` in or out of `class` inside the caller's transaction: attendance, activity,
/// outbox and audit when it changes. Answers the attendance and whether it changed.
fn apply(
    svc: &Services,
    tx: &WriteTransaction,
    change: (&Class, &User),
    method: CheckMethod,
    actor: &Actor,
    dir: Direction,
) -> Result<(Attendance, bool), StoreError> {
    let (class, user) = change;
    let now = svc.now();
    let mut a = store::classes::get_attendance(tx, class.id, &user.id)?
        .unwrap_or_else(|| Attendance::new(class, user.id.clone()));
    let changed = match dir {
        Direction::In => a.check_in(method, now) == CheckInResult::CheckedIn,
        Direction::Out => a.check_out(method, now) == CheckOutResult::CheckedOut,
    };
    if changed {
        let change = Change {
            class,
            user,
            attendance: &a,
            dir,
            method,
            actor,
            at: now,
        };
        write_change(svc, tx, &change)?;
    }
    Ok((a, changed))
}

/// Check `user` in to the open `class` inside the caller's transaction (a walk-in arriving through
/// enrollment). Answers the attendance and whether it changed.
pub(crate) fn check_in_within(
    svc: &Services,
    tx: &WriteTransaction,
    class: &Class,
    user: &User,
    method: CheckMethod,
    actor: &Actor,
) -> Result<(Attendance, bool), StoreError> {
    apply(svc, tx, (class, user), method, actor, Direction::In)
}

impl Services {
    /// Check someone in to an open class. A second check-in changes nothing and says since when.
    pub async fn check_in(
        &self,
        asker: Asker,
        class_id: Uuid,
        who: Identify,
        origin: Origin,
    ) -> ServiceResult<Checked> {
        self.check(asker, class_id, who, origin, Direction::In).await
    }

    /// Check someone out of an open class (the same ways as in).
    pub async fn check_out(
        &self,
        asker: Asker,
        class_id: Uuid,
        who: Identify,
        origin: Origin,
    ) -> ServiceResult<Checked> {
        self.check(asker, class_id, who, origin, Direction::Out).await
    }

    async fn check(
        &self,
        asker: Asker,
        class_id: Uuid,
        who: Identify,
        origin: Origin,
        dir: Direction,
    ) -> ServiceResult<Checked> {
        let svc = self.clone();
        let checked = self
            .store
            .write(move |tx| -> Verdict<Checked> {
                let class = get_class_or_404(tx, class_id)?;
                if let Asker::Staff(p) = &asker {
                    require_runner(p, &class)?;
                }
                class
                    .accepts_check_in()
                    .map_err(crate::domain::DomainError::from)?;
                let event = if dir == Direction::In {
                    "class.check_in"
                } else {
                    "class.check_out"
                };
                let user = match identify(&svc, tx, &who, &origin, event)? {
                    Ok(u) => u,
                    Err(e) => return Ok(Err(e)),
                };
                if !user.is_active() {
                    let mut a = svc.audit(event, "denied", &asker.actor());
                    a.subject = Some(user.id.to_string());
                    a.detail = Some("user deactivated".into());
                    store::audit::append_audit(tx, &a)?;
                    return Ok(Err(ServiceError::UserDeactivated(user.id.to_string())));
                }
                let (a, changed) = apply(&svc, tx, (&class, &user), who.method(), &asker.actor(), dir)?;
                if changed && dir == Direction::Out {
                    end_classroom_sessions(&svc, tx, &user, "checked out")?;
                }
                Ok(Ok(Checked {
                    class,
                    user,
                    attendance: a,
                    unchanged: !changed,
                }))
            })
            .await??;
        if !checked.unchanged {
            self.roster_events.notify(RosterChanged(Some(class_id)));
        }
        Ok(checked)
    }

    /// People to pick from for the name + PIN method: expected ones first, then any active user
    /// whose name matches (at most `limit`).
    pub async fn search_people(
        &self,
        p: Principal,
        class_id: Uuid,
        query: String,
        limit: usize,
    ) -> ServiceResult<Vec<User>> {
        self.store
            .read(move |tx| {
                let Some(class) = store::classes::get_class(tx, class_id)? else {
                    return Ok(Err(ServiceError::NotFound {
                        what: "class",
                        id: class_id.to_string(),
                    }));
                };
                if let Err(e) = require_runner(&p, &class) {
                    return Ok(Err(e));
                }
                let mut users: Vec<User> = store::users::list_users(tx, None, usize::MAX)?
                    .into_iter()
                    .filter(|u| u.is_active() && name_matches(&query, &u.name.given, &u.name.family))
                    .collect();
                users.sort_by_key(|u| {
                    (
                        !class.expected.contains(&u.id),
                        u.name.given.to_lowercase(),
                        u.name.family.to_lowercase(),
                    )
                });
                users.truncate(limit);
                Ok(Ok(users))
            })
            .await?
    }

    /// The classes open now, for the kiosk's self check-in screen.
    pub async fn open_classes(&self) -> ServiceResult<Vec<Class>> {
        let mut list = self.store.read(store::classes::open_classes).await?;
        list.sort_by_key(|c| (c.starts_at, c.id));
        Ok(list)
    }

    /// Everyone checked in to an open class now (the evacuation roll call), by name.
    pub async fn on_site(&self) -> ServiceResult<Vec<OnSite>> {
        let mut list = self
            .store
            .read(|tx| {
                let mut out = Vec::new();
                for class in store::classes::open_classes(tx)? {
                    for a in store::classes::class_attendance(tx, class.id)? {
                        if !a.is_present() {
                            continue;
                        }
                        if let Some(user) = store::users::get_user(tx, &a.user_id)? {
                            out.push(OnSite {
                                user,
                                class: class.clone(),
                                attendance: a,
                            });
                        }
                    }
                }
                Ok(out)
            })
            .await?;
        list.sort_by_key(|o| {
            (
                o.user.name.family.to_lowercase(),
                o.user.name.given.to_lowercase(),
            )
        });
        Ok(list)
    }
}
