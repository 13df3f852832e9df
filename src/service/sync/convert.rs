//! Central records on the wire ↔ the gateway's domain records, validated by the same domain rules as local input.

use std::collections::BTreeSet;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::classroom::{Class, ClassInput, ClassState};
use crate::domain::ids::UserId;
use crate::domain::link::{AccessLink, Allocation, LinkInput};
use crate::domain::org::{Unit, UnitKind};
use crate::domain::person::{EMPLOYER_MAX_CHARS, Email, Language, PersonName, Phone, clean_text};
use crate::domain::staff::Role;
use crate::domain::training::{Assignment, AssignmentTarget, Module};
use crate::domain::user::{AccessLevel, CreatedVia, User, UserStatus};
use crate::sync::wire::{
    WireAllocation, WireAssignment, WireClass, WireLink, WireModule, WireTarget, WireUnit, WireUser,
};

fn optional<T>(
    raw: &Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse(s).map(Some),
    }
}

fn status(s: &str) -> Result<UserStatus, DomainError> {
    match s {
        "active" => Ok(UserStatus::Active),
        "deactivated" => Ok(UserStatus::Deactivated),
        _ => Err(DomainError::invalid("status", "must be active or deactivated")),
    }
}

fn status_str(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Active => "active",
        UserStatus::Deactivated => "deactivated",
    }
}

fn access_str(a: AccessLevel) -> &'static str {
    match a {
        AccessLevel::Full => "full",
        AccessLevel::ClassroomOnly => "classroom_only",
    }
}

/// A central user record as the local user `id`, over what the gateway already holds of them
/// (terms, how they came, local creation time are kept).
pub fn user_from_wire(
    id: UserId,
    central_id: &str,
    version: u64,
    w: &WireUser,
    existing: Option<&User>,
    now: OffsetDateTime,
) -> Result<User, DomainError> {
    Ok(User {
        id,
        name: PersonName::new(&w.given_name, &w.family_name)?,
        email: optional(&w.email, Email::parse)?,
        phone: optional(&w.phone, Phone::parse)?,
        employer: optional(&w.employer, |s| clean_text("employer", s, EMPLOYER_MAX_CHARS))?,
        language: optional(&w.language, Language::parse)?.unwrap_or_default(),
        role: Role::parse(&w.role)?,
        access_level: AccessLevel::parse(&w.access_level)?,
        status: status(&w.status)?,
        groups: w.groups.iter().copied().collect(),
        sites: w.sites.iter().copied().collect(),
        regions: w.regions.iter().copied().collect(),
        terms: existing.and_then(|u| u.terms.clone()),
        created_via: existing.map_or(CreatedVia::Central, |u| u.created_via.clone()),
        created_at: w.created_at,
        updated_at: now,
        central_version: Some(version),
        central_id: Some(central_id.to_string()),
    })
}

/// A local user as the central system records them (what the digest compares).
pub fn user_to_wire(u: &User) -> WireUser {
    let site_minted = !matches!(u.created_via, CreatedVia::Central);
    WireUser {
        gateway_user_id: site_minted.then(|| u.id.as_str().to_string()),
        given_name: u.name.given.clone(),
        family_name: u.name.family.clone(),
        email: u.email.as_ref().map(|e| e.as_str().to_string()),
        phone: u.phone.as_ref().map(|p| p.as_str().to_string()),
        employer: u.employer.clone(),
        language: Some(u.language.as_str().to_string()),
        role: u.role.as_str().to_string(),
        access_level: access_str(u.access_level).to_string(),
        status: status_str(u.status).to_string(),
        groups: u.groups.iter().copied().collect(),
        sites: u.sites.iter().copied().collect(),
        regions: u.regions.iter().copied().collect(),
        created_at: u.created_at,
    }
}

pub fn uuid_id(id: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(id).map_err(|_| DomainError::invalid("id", "must be a UUID for this kind"))
}

pub fn unit_from_wire(kind: UnitKind, id: Uuid, w: &WireUnit) -> Result<Unit, DomainError> {
    Unit::new(id, kind, &w.name)
}

pub fn unit_to_wire(u: &Unit) -> WireUnit {
    WireUnit { name: u.name.clone() }
}

pub fn module_from_wire(id: Uuid, w: &WireModule) -> Result<Module, DomainError> {
    Module::new(id, &w.title, w.duration_minutes, w.valid_for_days)
}

pub fn module_to_wire(m: &Module) -> WireModule {
    WireModule {
        title: m.title.clone(),
        duration_minutes: m.duration_minutes,
        valid_for_days: m.valid_for_days,
    }
}

/// An assignment; a user target is given by central ID and `resolve` finds the local ID.
pub fn assignment_from_wire(
    id: Uuid,
    w: &WireAssignment,
    resolve: impl Fn(&str) -> Result<UserId, DomainError>,
) -> Result<Assignment, DomainError> {
    let unit = || uuid_id(&w.target.id).map_err(|_| DomainError::invalid("target.id", "must be a UUID"));
    let target = match w.target.kind.as_str() {
        "group" => AssignmentTarget::Group(unit()?),
        "site" => AssignmentTarget::Site(unit()?),
        "region" => AssignmentTarget::Region(unit()?),
        "user" => AssignmentTarget::User(resolve(&w.target.id)?),
        _ => {
            return Err(DomainError::invalid(
                "target.kind",
                "must be group, site, region or user",
            ));
        }
    };
    Ok(Assignment {
        id,
        module_id: w.module_id,
        target,
        due_at: w.due_at,
        created_at: w.created_at,
    })
}

/// An assignment on the wire; `central_of` gives a local user's central ID.
pub fn assignment_to_wire(a: &Assignment, central_of: impl Fn(&UserId) -> String) -> WireAssignment {
    let (kind, id) = match &a.target {
        AssignmentTarget::Group(g) => ("group", g.to_string()),
        AssignmentTarget::Site(s) => ("site", s.to_string()),
        AssignmentTarget::Region(r) => ("region", r.to_string()),
        AssignmentTarget::User(u) => ("user", central_of(u)),
    };
    WireAssignment {
        module_id: a.module_id,
        target: WireTarget {
            kind: kind.into(),
            id,
        },
        due_at: a.due_at,
        created_at: a.created_at,
    }
}

fn allocation(w: &WireAllocation) -> Allocation {
    Allocation {
        groups: w.groups.iter().copied().collect::<BTreeSet<_>>(),
        sites: w.sites.iter().copied().collect(),
        regions: w.regions.iter().copied().collect(),
    }
}

/// A central link over the local one: the kiosk pin and the local count of uses are kept.
pub fn link_from_wire(
    id: Uuid,
    w: &WireLink,
    existing: Option<&AccessLink>,
    now: OffsetDateTime,
) -> Result<AccessLink, DomainError> {
    if w.token.len() < 22
        || !w
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(DomainError::invalid(
            "token",
            "must be at least 22 base64url characters (128 bits)",
        ));
    }
    // The domain's own checks (name, description, cap, allocation size); expiry may already
    // have passed, which the central system may well send.
    let input = LinkInput {
        name: w.name.clone(),
        description: w.description.clone(),
        expires_at: None,
        cap: w.cap,
        allocation: allocation(&w.allocation),
        pinned: existing.is_some_and(|l| l.pinned),
    };
    let mut link = AccessLink::new(id, w.token.clone(), input, w.created_at)?;
    link.expires_at = w.expires_at;
    link.active = w.active;
    link.used = existing.map_or(0, |l| l.used).max(w.used);
    link.created_at = w.created_at;
    link.updated_at = now;
    Ok(link)
}

pub fn link_to_wire(l: &AccessLink) -> WireLink {
    WireLink {
        token: l.token.clone(),
        name: l.name.clone(),
        description: l.description.clone(),
        expires_at: l.expires_at,
        cap: l.cap,
        allocation: WireAllocation {
            groups: l.allocation.groups.iter().copied().collect(),
            sites: l.allocation.sites.iter().copied().collect(),
            regions: l.allocation.regions.iter().copied().collect(),
        },
        active: l.active,
        used: l.used,
        created_at: l.created_at,
    }
}

/// A centrally scheduled class over the local one: opening and closing happen on site, so a
/// local open or closed state is kept; `resolve` maps central user IDs to local ones.
pub fn class_from_wire(
    id: Uuid,
    w: &WireClass,
    existing: Option<&Class>,
    resolve: impl Fn(&str) -> Result<UserId, DomainError>,
    now: OffsetDateTime,
) -> Result<Class, DomainError> {
    let state = match w.state.as_str() {
        "scheduled" => ClassState::Scheduled,
        "cancelled" => ClassState::Cancelled,
        _ => return Err(DomainError::invalid("state", "must be scheduled or cancelled")),
    };
    let users = |ids: &[String]| ids.iter().map(|i| resolve(i)).collect::<Result<Vec<_>, _>>();
    let input = ClassInput {
        title: Some(w.title.clone()),
        module_ids: Some(w.module_ids.clone()),
        site_id: Some(w.site_id),
        room: Some(w.room.clone()),
        starts_at: Some(w.starts_at),
        ends_at: Some(w.ends_at),
        instructors: Some(users(&w.instructors)?),
        expected: Some(users(&w.expected)?),
    };
    let mut class = Class::new(id, &input, now)?;
    class.created_at = existing.map_or(now, |c| c.created_at);
    match existing {
        Some(local) if matches!(local.state, ClassState::Open | ClassState::Closed) => {
            class.state = local.state;
            class.opened_at = local.opened_at;
            class.closed_at = local.closed_at;
        }
        _ => class.state = state,
    }
    Ok(class)
}

pub fn class_to_wire(c: &Class, central_of: impl Fn(&UserId) -> String) -> WireClass {
    WireClass {
        title: c.title.clone(),
        module_ids: c.module_ids.clone(),
        site_id: c.site_id,
        room: c.room.clone(),
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        instructors: c.instructors.iter().map(&central_of).collect(),
        expected: c.expected.iter().map(&central_of).collect(),
        state: match c.state {
            ClassState::Cancelled => "cancelled",
            _ => "scheduled",
        }
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_user() -> WireUser {
        WireUser {
            gateway_user_id: None,
            given_name: "Håkon".into(),
            family_name: "Ødegård".into(),
            email: Some("hakon@example.com".into()),
            phone: None,
            employer: Some("Nordic Steel".into()),
            language: Some("en".into()),
            role: "trainee".into(),
            access_level: "classroom_only".into(),
            status: "active".into(),
            groups: vec![Uuid::now_v7()],
            sites: vec![],
            regions: vec![],
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_central_user_round_trips_through_the_domain() {
        let w = wire_user();
        let id = UserId::central("C000000000001").unwrap();
        let u = user_from_wire(id, "C000000000001", 4, &w, None, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(u.central_version, Some(4));
        assert_eq!(user_to_wire(&u), w);
    }

    #[test]
    fn a_central_user_that_fails_validation_is_refused_with_its_field() {
        let mut w = wire_user();
        w.email = Some("not an email".into());
        let id = UserId::central("C1").unwrap();
        let e = user_from_wire(id.clone(), "C1", 1, &w, None, OffsetDateTime::UNIX_EPOCH).unwrap_err();
        assert!(matches!(e, DomainError::Invalid { field: "email", .. }), "{e:?}");
        let mut w = wire_user();
        w.given_name = "x".repeat(10_000);
        assert!(user_from_wire(id, "C1", 1, &w, None, OffsetDateTime::UNIX_EPOCH).is_err());
    }
}
