//! Roles, who may do what, and the rules of staff sessions (idle and absolute expiry per screen).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::DomainError;

/// A user's role, from least to most trusted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Trainee,
    Instructor,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Trainee, Role::Instructor, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trainee => "trainee",
            Role::Instructor => "instructor",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, DomainError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| DomainError::invalid("role", "must be trainee, instructor, manager or admin"))
    }

    /// Staff are the roles that may sign in to staff screens.
    pub fn is_staff(self) -> bool {
        self != Role::Trainee
    }
}

/// Role sets used by endpoints and commands. An endpoint names one of these; none means nobody.
pub mod roles {
    use super::Role;
    pub const ADMIN: &[Role] = &[Role::Admin];
    pub const MANAGERS: &[Role] = &[Role::Manager, Role::Admin];
    pub const STAFF: &[Role] = &[Role::Instructor, Role::Manager, Role::Admin];
}

/// Which kind of screen a staff session lives on: a shared kiosk times out fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScreenKind {
    Kiosk,
    Laptop,
    /// A script or the CLI holding a bearer token.
    Api,
}

/// Session lifetimes, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_kiosk: Duration,
    pub idle_laptop: Duration,
    pub absolute: Duration,
}

impl SessionPolicy {
    pub fn idle_for(&self, screen: ScreenKind) -> Duration {
        match screen {
            ScreenKind::Kiosk => self.idle_kiosk,
            ScreenKind::Laptop | ScreenKind::Api => self.idle_laptop,
        }
    }
}

/// A staff session's timing, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    pub screen: ScreenKind,
}

/// Why a session is no longer good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Idle,
    Absolute,
}

impl SessionTimes {
    /// Whether the session is still alive at `now`, and if not, why.
    pub fn check(&self, policy: &SessionPolicy, now: OffsetDateTime) -> Result<(), SessionEnd> {
        if now - self.created_at >= policy.absolute {
            return Err(SessionEnd::Absolute);
        }
        if now - self.last_seen >= policy.idle_for(self.screen) {
            return Err(SessionEnd::Idle);
        }
        Ok(())
    }

    /// When the session will end if untouched from now.
    pub fn expires_at(&self, policy: &SessionPolicy) -> OffsetDateTime {
        let idle = self.last_seen + policy.idle_for(self.screen);
        let absolute = self.created_at + policy.absolute;
        idle.min(absolute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy() -> SessionPolicy {
        SessionPolicy {
            idle_kiosk: Duration::minutes(2),
            idle_laptop: Duration::minutes(15),
            absolute: Duration::hours(12),
        }
    }

    #[test]
    fn kiosk_sessions_idle_out_after_two_minutes_laptops_after_fifteen() {
        let t0 = datetime!(2026-11-25 08:00 UTC);
        let kiosk = SessionTimes {
            created_at: t0,
            last_seen: t0,
            screen: ScreenKind::Kiosk,
        };
        assert_eq!(kiosk.check(&policy(), t0 + Duration::seconds(119)), Ok(()));
        assert_eq!(
            kiosk.check(&policy(), t0 + Duration::seconds(120)),
            Err(SessionEnd::Idle)
        );
        let laptop = SessionTimes {
            screen: ScreenKind::Laptop,
            ..kiosk
        };
        assert_eq!(laptop.check(&policy(), t0 + Duration::minutes(14)), Ok(()));
        assert_eq!(
            laptop.check(&policy(), t0 + Duration::minutes(15)),
            Err(SessionEnd::Idle)
        );
    }

    #[test]
    fn activity_never_extends_past_the_absolute_limit() {
        let t0 = datetime!(2026-11-25 08:00 UTC);
        let s = SessionTimes {
            created_at: t0,
            last_seen: t0 + Duration::hours(12) - Duration::seconds(1),
            screen: ScreenKind::Laptop,
        };
        assert_eq!(
            s.check(&policy(), t0 + Duration::hours(12)),
            Err(SessionEnd::Absolute)
        );
        assert_eq!(s.expires_at(&policy()), t0 + Duration::hours(12));
    }

    #[test]
    fn roles_parse_and_rank() {
        assert_eq!(Role::parse("Admin").unwrap(), Role::Admin);
        assert!(Role::parse("boss").is_err());
        assert!(!Role::Trainee.is_staff());
        assert!(Role::Instructor.is_staff());
    }
}
