//! A user record as the central system describes it: details, role, access level, status, memberships.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DomainError;
use super::ids::UserId;
use super::person::{EMPLOYER_MAX_CHARS, Email, Language, PersonName, Phone, clean_text};
use super::staff::Role;

/// What training content a user may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    Full,
    ClassroomOnly,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 2] = [AccessLevel::Full, AccessLevel::ClassroomOnly];

    /// The word the API and the CLI use (and [`AccessLevel::parse`] takes back).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Full => "full",
            AccessLevel::ClassroomOnly => "classroom_only",
        }
    }

    pub fn parse(s: &str) -> Result<AccessLevel, DomainError> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "full" => Ok(AccessLevel::Full),
            "classroom_only" => Ok(AccessLevel::ClassroomOnly),
            _ => Err(DomainError::invalid(
                "access_level",
                "must be full or classroom_only",
            )),
        }
    }
}

/// Whether the user may still sign in and train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Deactivated,
}

impl UserStatus {
    /// The word the API and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }
}

/// How the record came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CreatedVia {
    Admin,
    Init,
    Demo,
    Link { link_id: Uuid },
    Central,
}

/// Which version of the site's terms the user accepted, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsAcceptance {
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One user, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub employer: Option<String>,
    pub language: Language,
    pub role: Role,
    pub access_level: AccessLevel,
    pub status: UserStatus,
    pub groups: BTreeSet<Uuid>,
    pub sites: BTreeSet<Uuid>,
    pub regions: BTreeSet<Uuid>,
    pub terms: Option<TermsAcceptance>,
    pub created_via: CreatedVia,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The central system's version of this record, when it came from there.
    pub central_version: Option<u64>,
    /// The user's ID in the central system, once known (a user enrolled here gets it when the
    /// central system accepts the enrollment; their site ID keeps working).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub central_id: Option<String>,
}

/// What a person or the CLI gives to create a user, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserInput {
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub employer: Option<String>,
    pub language: Option<String>,
    pub role: Option<Role>,
    pub access_level: Option<AccessLevel>,
}

/// A validated new user, still without an ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub employer: Option<String>,
    pub language: Language,
    pub role: Role,
    pub access_level: AccessLevel,
}

fn optional<T>(
    raw: &Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse(s).map(Some),
    }
}

impl NewUserInput {
    /// Validate every field, reporting the first that is wrong.
    pub fn validate(&self) -> Result<NewUser, DomainError> {
        Ok(NewUser {
            name: PersonName::new(&self.given_name, &self.family_name)?,
            email: optional(&self.email, Email::parse)?,
            phone: optional(&self.phone, Phone::parse)?,
            employer: optional(&self.employer, |s| clean_text("employer", s, EMPLOYER_MAX_CHARS))?,
            language: optional(&self.language, Language::parse)?.unwrap_or_default(),
            role: self.role.unwrap_or(Role::Trainee),
            access_level: self.access_level.unwrap_or(AccessLevel::Full),
        })
    }
}

impl NewUser {
    /// The full record for a freshly minted ID.
    pub fn into_user(self, id: UserId, via: CreatedVia, now: OffsetDateTime) -> User {
        User {
            id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            employer: self.employer,
            language: self.language,
            role: self.role,
            access_level: self.access_level,
            status: UserStatus::Active,
            groups: BTreeSet::new(),
            sites: BTreeSet::new(),
            regions: BTreeSet::new(),
            terms: None,
            created_via: via,
            created_at: now,
            updated_at: now,
            central_version: None,
            central_id: None,
        }
    }
}

impl User {
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }

    /// Deactivate: the user keeps their history but can no longer sign in.
    pub fn deactivate(&mut self, now: OffsetDateTime) -> Result<(), DomainError> {
        if self.status == UserStatus::Deactivated {
            return Err(DomainError::Conflict(format!(
                "user {} is already deactivated",
                self.id
            )));
        }
        self.status = UserStatus::Deactivated;
        self.updated_at = now;
        Ok(())
    }

    /// Whether the user is in the given unit.
    pub fn is_member(&self, kind: super::org::UnitKind, unit: &Uuid) -> bool {
        use super::org::UnitKind;
        match kind {
            UnitKind::Group => self.groups.contains(unit),
            UnitKind::Site => self.sites.contains(unit),
            UnitKind::Region => self.regions.contains(unit),
        }
    }

    /// Add the user to a unit; returns whether anything changed.
    pub fn join(&mut self, kind: super::org::UnitKind, unit: Uuid) -> bool {
        use super::org::UnitKind;
        match kind {
            UnitKind::Group => self.groups.insert(unit),
            UnitKind::Site => self.sites.insert(unit),
            UnitKind::Region => self.regions.insert(unit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn new_user_defaults_and_validation() {
        let input = NewUserInput {
            given_name: "Zofia".into(),
            family_name: "Łukasiewicz-Wróbel".into(),
            email: Some(" ".into()),
            ..Default::default()
        };
        let new = input.validate().unwrap();
        assert_eq!(new.role, Role::Trainee);
        assert_eq!(new.access_level, AccessLevel::Full);
        assert_eq!(new.email, None);
        assert_eq!(new.language.as_str(), "en");
        let bad = NewUserInput {
            email: Some("nope".into()),
            ..input
        };
        assert!(matches!(
            bad.validate(),
            Err(DomainError::Invalid { field: "email", .. })
        ));
    }

    #[test]
    fn deactivation_is_one_way_and_reported_twice() {
        let mut rng = rand::rng();
        let t = datetime!(2026-11-25 08:00 UTC);
        let mut u = NewUserInput {
            given_name: "Li".into(),
            family_name: "Na".into(),
            ..Default::default()
        }
        .validate()
        .unwrap()
        .into_user(UserId::mint(&mut rng), CreatedVia::Admin, t);
        assert!(u.is_active());
        u.deactivate(t).unwrap();
        assert!(!u.is_active());
        assert!(matches!(u.deactivate(t), Err(DomainError::Conflict(_))));
    }
}
