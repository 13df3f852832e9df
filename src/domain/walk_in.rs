//! Walk-in passes: an instructor's one-use permission for someone who has no account to enroll
//! through an access link and arrive checked in to an open class.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::ids::UserId;

/// How long a pass waits for its walk-in to finish enrolling.
pub const PASS_LIFETIME: Duration = Duration::minutes(30);
/// Passes of one class that may wait unused at once: a queue, not an unbounded table.
pub const OPEN_PASSES_PER_CLASS: usize = 60;

/// A pass as stored (under the hash of its token; the token itself is handed over once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkInPass {
    pub class_id: Uuid,
    /// The access link the walk-in enrolls through.
    pub link_id: Uuid,
    pub issued_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who it checked in, once used.
    pub used_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
}

/// Why a pass checked nobody in. The enrollment itself still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WalkInRefusal {
    #[error("this walk-in pass is unknown: ask the instructor to check you in")]
    Unknown,
    #[error("this walk-in pass has expired: ask the instructor to check you in")]
    Expired,
    #[error("this walk-in pass was used already: ask the instructor to check you in")]
    Used,
    #[error("this walk-in pass belongs to another access link")]
    OtherLink,
}

impl WalkInRefusal {
    /// The stable API code.
    pub fn code(self) -> &'static str {
        match self {
            WalkInRefusal::Unknown => "walk_in_pass_unknown",
            WalkInRefusal::Expired => "walk_in_pass_expired",
            WalkInRefusal::Used => "walk_in_pass_used",
            WalkInRefusal::OtherLink => "walk_in_pass_other_link",
        }
    }
}

impl WalkInPass {
    pub fn new(class_id: Uuid, link_id: Uuid, issued_by: UserId, now: OffsetDateTime) -> WalkInPass {
        WalkInPass {
            class_id,
            link_id,
            issued_by,
            issued_at: now,
            expires_at: now + PASS_LIFETIME,
            used_by: None,
            used_at: None,
        }
    }

    /// Still waiting for its walk-in: unused and not expired.
    pub fn is_waiting(&self, now: OffsetDateTime) -> bool {
        self.used_by.is_none() && now < self.expires_at
    }

    /// Whether this pass may check someone in who enrolled through `link_id` now.
    pub fn check(&self, link_id: Uuid, now: OffsetDateTime) -> Result<(), WalkInRefusal> {
        if self.used_by.is_some() {
            return Err(WalkInRefusal::Used);
        }
        if now >= self.expires_at {
            return Err(WalkInRefusal::Expired);
        }
        if self.link_id != link_id {
            return Err(WalkInRefusal::OtherLink);
        }
        Ok(())
    }

    /// Spend the pass on `user`.
    pub fn spend(&mut self, user: &UserId, now: OffsetDateTime) {
        self.used_by = Some(user.clone());
        self.used_at = Some(now);
    }

    /// A pass kept for a day after it ends, for the record, then forgotten.
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        let ended = self.used_at.unwrap_or(self.expires_at);
        now - ended > Duration::days(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn pass() -> WalkInPass {
        let id = UserId::from_canonical("INSTRUCTOR".into());
        WalkInPass::new(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            id,
            datetime!(2026-11-25 09:00 UTC),
        )
    }

    #[test]
    fn a_fresh_pass_admits_its_own_link_only() {
        let p = pass();
        let now = datetime!(2026-11-25 09:10 UTC);
        assert_eq!(p.check(Uuid::from_u128(2), now), Ok(()));
        assert_eq!(p.check(Uuid::from_u128(3), now), Err(WalkInRefusal::OtherLink));
    }

    #[test]
    fn a_pass_expires_after_thirty_minutes() {
        let p = pass();
        assert!(p.is_waiting(datetime!(2026-11-25 09:29 UTC)));
        assert_eq!(
            p.check(Uuid::from_u128(2), datetime!(2026-11-25 09:30 UTC)),
            Err(WalkInRefusal::Expired)
        );
        assert!(!p.is_waiting(datetime!(2026-11-25 09:30 UTC)));
    }

    #[test]
    fn a_pass_is_spent_once() {
        let mut p = pass();
        let now = datetime!(2026-11-25 09:05 UTC);
        p.spend(&p.issued_by.clone(), now);
        assert_eq!(p.check(Uuid::from_u128(2), now), Err(WalkInRefusal::Used));
        assert!(!p.is_waiting(now));
        assert!(!p.is_stale(datetime!(2026-11-26 09:00 UTC)));
        assert!(p.is_stale(datetime!(2026-11-26 09:06 UTC)));
    }
}
