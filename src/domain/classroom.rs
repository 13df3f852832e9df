//! Classroom sessions and attendance: the class record, its states (scheduled → open → closed, or cancelled), check-in/out rules, outcomes and the auto check-out rule.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time, UtcOffset};
use uuid::Uuid;

use super::DomainError;
use super::device::room_name;
use super::ids::UserId;
use super::person::clean_text;
use super::training::TITLE_MAX_CHARS;

/// At most this many instructors per class.
pub const INSTRUCTORS_MAX: usize = 10;
/// At most this many modules per class.
pub const MODULES_MAX: usize = 20;
/// At most this many people on an expected roster.
pub const EXPECTED_MAX: usize = 500;
/// The longest class: a day.
pub const LENGTH_MAX: Duration = Duration::hours(24);

/// A class's state, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassState {
    Scheduled,
    Open,
    Closed,
    Cancelled,
}

impl ClassState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassState::Scheduled => "scheduled",
            ClassState::Open => "open",
            ClassState::Closed => "closed",
            ClassState::Cancelled => "cancelled",
        }
    }
}

/// Why a class refuses a change or a check-in. Each has its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClassRefusal {
    #[error("the class is not open yet: the instructor opens it")]
    NotOpenYet,
    #[error("the class is closed")]
    Closed,
    #[error("the class was cancelled")]
    Cancelled,
    #[error("only a scheduled class can be opened or cancelled")]
    NotScheduled,
    #[error("a closed or cancelled class cannot be changed")]
    Finished,
}

/// How someone was checked in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckMethod {
    /// A badge's QR payload (scanner or camera).
    Badge,
    /// A typed user ID (the instructor sees the person).
    Id,
    /// Name search, then the participant's own PIN.
    Pin,
    /// The instructor marked them.
    Staff,
    /// By the gateway: the daily cut-off or N hours after check-in.
    Auto,
    /// Still present when the class closed.
    Close,
    /// A walk-in who enrolled with the instructor's walk-in pass.
    Enrollment,
}

impl CheckMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckMethod::Badge => "badge",
            CheckMethod::Id => "id",
            CheckMethod::Pin => "pin",
            CheckMethod::Staff => "staff",
            CheckMethod::Auto => "auto",
            CheckMethod::Close => "close",
            CheckMethod::Enrollment => "enrollment",
        }
    }
}

/// A participant's outcome, recorded when the class closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Counts as the class's modules completed.
    Attended,
    Partial,
    NoShow,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Attended => "attended",
            Outcome::Partial => "partial",
            Outcome::NoShow => "no_show",
        }
    }
}

/// One classroom session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: Uuid,
    pub title: String,
    pub module_ids: Vec<Uuid>,
    /// The site unit, when given.
    pub site_id: Option<Uuid>,
    pub room: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    pub instructors: Vec<UserId>,
    pub expected: Vec<UserId>,
    pub state: ClassState,
    #[serde(with = "time::serde::rfc3339::option")]
    pub opened_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What staff give to create (or, field by field, edit) a class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassInput {
    pub title: Option<String>,
    pub module_ids: Option<Vec<Uuid>>,
    pub site_id: Option<Option<Uuid>>,
    pub room: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub instructors: Option<Vec<UserId>>,
    pub expected: Option<Vec<UserId>>,
}

fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

impl Class {
    /// A new scheduled class from complete input.
    pub fn new(id: Uuid, input: &ClassInput, now: OffsetDateTime) -> Result<Class, DomainError> {
        let missing = |f: &'static str| DomainError::invalid(f, "is required");
        let mut class = Class {
            id,
            title: String::new(),
            module_ids: Vec::new(),
            site_id: None,
            room: String::new(),
            starts_at: input.starts_at.ok_or_else(|| missing("starts_at"))?,
            ends_at: input.ends_at.ok_or_else(|| missing("ends_at"))?,
            instructors: Vec::new(),
            expected: Vec::new(),
            state: ClassState::Scheduled,
            opened_at: None,
            closed_at: None,
            created_at: now,
            updated_at: now,
        };
        if input.title.is_none() {
            return Err(missing("title"));
        }
        if input.room.is_none() {
            return Err(missing("room"));
        }
        if input.instructors.is_none() {
            return Err(missing("instructors"));
        }
        class.apply(input, now)?;
        Ok(class)
    }

    /// Apply an edit (only the fields given), checking every rule again.
    pub fn apply(&mut self, input: &ClassInput, now: OffsetDateTime) -> Result<(), DomainError> {
        if matches!(self.state, ClassState::Closed | ClassState::Cancelled) {
            return Err(ClassRefusal::Finished.into());
        }
        let mut next = self.clone();
        if let Some(t) = &input.title {
            next.title = clean_text("title", t, TITLE_MAX_CHARS)?;
        }
        if let Some(m) = &input.module_ids {
            if m.len() > MODULES_MAX {
                return Err(DomainError::invalid(
                    "module_ids",
                    format!("at most {MODULES_MAX}"),
                ));
            }
            next.module_ids = dedup(m);
        }
        if let Some(s) = input.site_id {
            next.site_id = s;
        }
        if let Some(r) = &input.room {
            next.room = room_name(r)?;
        }
        if let Some(s) = input.starts_at {
            next.starts_at = s;
        }
        if let Some(e) = input.ends_at {
            next.ends_at = e;
        }
        if next.ends_at <= next.starts_at || next.ends_at - next.starts_at > LENGTH_MAX {
            return Err(DomainError::invalid(
                "ends_at",
                "must be after starts_at, and a class lasts at most 24 hours",
            ));
        }
        if let Some(i) = &input.instructors {
            if i.is_empty() || i.len() > INSTRUCTORS_MAX {
                return Err(DomainError::invalid(
                    "instructors",
                    format!("name 1 to {INSTRUCTORS_MAX} instructors"),
                ));
            }
            next.instructors = dedup(i);
        }
        if let Some(e) = &input.expected {
            if e.len() > EXPECTED_MAX {
                return Err(DomainError::invalid(
                    "expected",
                    format!("at most {EXPECTED_MAX} people"),
                ));
            }
            next.expected = dedup(e);
        }
        next.updated_at = now;
        *self = next;
        Ok(())
    }

    pub fn open(&mut self, now: OffsetDateTime) -> Result<(), ClassRefusal> {
        if self.state != ClassState::Scheduled {
            return Err(ClassRefusal::NotScheduled);
        }
        self.state = ClassState::Open;
        self.opened_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    pub fn cancel(&mut self, now: OffsetDateTime) -> Result<(), ClassRefusal> {
        if self.state != ClassState::Scheduled {
            return Err(ClassRefusal::NotScheduled);
        }
        self.state = ClassState::Cancelled;
        self.updated_at = now;
        Ok(())
    }

    pub fn close(&mut self, now: OffsetDateTime) -> Result<(), ClassRefusal> {
        self.accepts_check_in()?;
        self.state = ClassState::Closed;
        self.closed_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Check-in and check-out happen only while the class is open.
    pub fn accepts_check_in(&self) -> Result<(), ClassRefusal> {
        match self.state {
            ClassState::Open => Ok(()),
            ClassState::Scheduled => Err(ClassRefusal::NotOpenYet),
            ClassState::Closed => Err(ClassRefusal::Closed),
            ClassState::Cancelled => Err(ClassRefusal::Cancelled),
        }
    }

    /// Whether the class is held in `room` (case and outer spaces ignored).
    pub fn in_room(&self, room: &str) -> bool {
        self.room.trim().to_lowercase() == room.trim().to_lowercase()
    }
}

/// One participant's presence in one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub class_id: Uuid,
    pub user_id: UserId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_in_at: Option<OffsetDateTime>,
    pub check_in_method: Option<CheckMethod>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_out_at: Option<OffsetDateTime>,
    pub check_out_method: Option<CheckMethod>,
    /// Not on the expected roster.
    pub walk_in: bool,
    pub outcome: Option<Outcome>,
}

/// What a check-in did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckInResult {
    /// Newly checked in (or back after a check-out).
    CheckedIn,
    /// Already in since this time: nothing changed (a double scan).
    AlreadyIn(OffsetDateTime),
}

/// What a check-out did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutResult {
    CheckedOut,
    /// Not checked in (never, or out already at this time).
    NotIn(Option<OffsetDateTime>),
}

impl Attendance {
    pub fn new(class: &Class, user_id: UserId) -> Attendance {
        Attendance {
            class_id: class.id,
            walk_in: !class.expected.contains(&user_id),
            user_id,
            checked_in_at: None,
            check_in_method: None,
            checked_out_at: None,
            check_out_method: None,
            outcome: None,
        }
    }

    /// Present now: checked in and not out.
    pub fn is_present(&self) -> bool {
        self.checked_in_at.is_some() && self.checked_out_at.is_none()
    }

    pub fn check_in(&mut self, method: CheckMethod, now: OffsetDateTime) -> CheckInResult {
        if let (true, Some(at)) = (self.is_present(), self.checked_in_at) {
            return CheckInResult::AlreadyIn(at);
        }
        self.checked_in_at = Some(now);
        self.check_in_method = Some(method);
        self.checked_out_at = None;
        self.check_out_method = None;
        CheckInResult::CheckedIn
    }

    pub fn check_out(&mut self, method: CheckMethod, at: OffsetDateTime) -> CheckOutResult {
        if !self.is_present() {
            return CheckOutResult::NotIn(self.checked_out_at);
        }
        self.checked_out_at = Some(at);
        self.check_out_method = Some(method);
        CheckOutResult::CheckedOut
    }

    /// The outcome when the instructor names none: present at any time → attended, else no-show.
    pub fn default_outcome(&self) -> Outcome {
        if self.checked_in_at.is_some() {
            Outcome::Attended
        } else {
            Outcome::NoShow
        }
    }
}

/// When people still checked in are checked out by the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AutoCheckout {
    /// Daily cut-off (site local time), when set.
    pub daily_at: Option<Time>,
    /// The site's offset from UTC, for the cut-off.
    pub offset: Option<UtcOffset>,
    /// Hours after check-in, when set.
    pub after: Option<Duration>,
}

impl AutoCheckout {
    /// When someone checked in at `checked_in_at` is due to be checked out: the first cut-off
    /// after the check-in or `after` past it, whichever comes first. `None`: never.
    pub fn due(&self, checked_in_at: OffsetDateTime) -> Option<OffsetDateTime> {
        let by_cutoff = self.daily_at.map(|at| {
            let local = checked_in_at.to_offset(self.offset.unwrap_or(UtcOffset::UTC));
            let today = local.replace_time(at);
            if today > local {
                today
            } else {
                today + Duration::days(1)
            }
        });
        let by_hours = self.after.map(|d| checked_in_at + d);
        match (by_cutoff, by_hours) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::{datetime, offset, time};

    fn class() -> Class {
        let input = ClassInput {
            title: Some("Working at heights".into()),
            room: Some("Room 2".into()),
            starts_at: Some(datetime!(2026-11-25 09:00 UTC)),
            ends_at: Some(datetime!(2026-11-25 12:00 UTC)),
            instructors: Some(vec![UserId::from_canonical("I1".into())]),
            ..Default::default()
        };
        Class::new(Uuid::nil(), &input, datetime!(2026-11-24 09:00 UTC)).unwrap()
    }

    #[test]
    fn states_move_one_way() {
        let mut c = class();
        assert_eq!(c.accepts_check_in(), Err(ClassRefusal::NotOpenYet));
        assert_eq!(
            c.close(datetime!(2026-11-25 09:00 UTC)),
            Err(ClassRefusal::NotOpenYet)
        );
        c.open(datetime!(2026-11-25 09:00 UTC)).unwrap();
        assert_eq!(
            c.open(datetime!(2026-11-25 09:00 UTC)),
            Err(ClassRefusal::NotScheduled)
        );
        assert_eq!(
            c.cancel(datetime!(2026-11-25 09:00 UTC)),
            Err(ClassRefusal::NotScheduled)
        );
        c.close(datetime!(2026-11-25 12:00 UTC)).unwrap();
        assert_eq!(c.accepts_check_in(), Err(ClassRefusal::Closed));
        let mut d = class();
        d.cancel(datetime!(2026-11-25 08:00 UTC)).unwrap();
        assert_eq!(d.accepts_check_in(), Err(ClassRefusal::Cancelled));
        assert!(
            d.apply(&ClassInput::default(), datetime!(2026-11-25 08:00 UTC))
                .is_err()
        );
    }

    #[test]
    fn a_class_ends_after_it_starts() {
        let mut c = class();
        let bad = ClassInput {
            ends_at: Some(datetime!(2026-11-25 08:00 UTC)),
            ..Default::default()
        };
        assert!(matches!(
            c.apply(&bad, datetime!(2026-11-24 10:00 UTC)),
            Err(DomainError::Invalid { field: "ends_at", .. })
        ));
        assert_eq!(
            c.ends_at,
            datetime!(2026-11-25 12:00 UTC),
            "a refused edit changes nothing"
        );
    }

    #[test]
    fn a_double_check_in_says_since_when() {
        let c = class();
        let mut a = Attendance::new(&c, UserId::from_canonical("U1".into()));
        assert!(a.walk_in);
        assert_eq!(
            a.check_in(CheckMethod::Badge, datetime!(2026-11-25 09:02 UTC)),
            CheckInResult::CheckedIn
        );
        assert_eq!(
            a.check_in(CheckMethod::Id, datetime!(2026-11-25 09:05 UTC)),
            CheckInResult::AlreadyIn(datetime!(2026-11-25 09:02 UTC))
        );
        assert_eq!(a.check_in_method, Some(CheckMethod::Badge));
        assert_eq!(
            a.check_out(CheckMethod::Staff, datetime!(2026-11-25 10:00 UTC)),
            CheckOutResult::CheckedOut
        );
        assert!(!a.is_present());
        assert_eq!(a.default_outcome(), Outcome::Attended);
    }

    #[test]
    fn auto_checkout_takes_the_earlier_rule() {
        let rule = AutoCheckout {
            daily_at: Some(time!(18:00)),
            offset: Some(offset!(+1)),
            after: Some(Duration::hours(10)),
        };
        // 09:00 local: cut-off 18:00 local (17:00 UTC) comes before 10 hours.
        assert_eq!(
            rule.due(datetime!(2026-11-25 08:00 UTC)),
            Some(datetime!(2026-11-25 17:00 UTC))
        );
        // 19:00 local: next cut-off is tomorrow, 10 hours comes first.
        assert_eq!(
            rule.due(datetime!(2026-11-25 18:00 UTC)),
            Some(datetime!(2026-11-26 04:00 UTC))
        );
        assert_eq!(AutoCheckout::default().due(datetime!(2026-11-25 18:00 UTC)), None);
    }
}
