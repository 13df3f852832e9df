//! Training access links: what a link is, its token, its allocation, and whether it may enroll someone now (expiry, active flag, cap).

use std::collections::BTreeSet;

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DomainError;
use super::org::UnitKind;
use super::person::clean_text;

/// Longest link name, in characters.
pub const LINK_NAME_MAX_CHARS: usize = 100;
/// Longest link description, in characters.
pub const LINK_DESCRIPTION_MAX_CHARS: usize = 500;
/// Largest enrollment cap a link may have.
pub const LINK_CAP_MAX: u32 = 100_000;
/// Most units of one kind a link may allocate to.
pub const ALLOCATION_MAX_PER_KIND: usize = 50;
/// Random bytes in a link token: 128 bits, 22 base64url characters.
pub const TOKEN_BYTES: usize = 16;

/// Why a link enrolls nobody right now. Each maps to its own API code and kiosk message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("this access link has expired")]
    Expired,
    #[error("this access link has been deactivated")]
    Deactivated,
    #[error("this access link has reached its enrollment cap")]
    Full,
}

/// A link's state as staff screens show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Active,
    Expired,
    Deactivated,
    Full,
}

/// The groups, sites and regions a link puts its users in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub groups: BTreeSet<Uuid>,
    pub sites: BTreeSet<Uuid>,
    pub regions: BTreeSet<Uuid>,
}

impl Allocation {
    /// Every unit with its kind: groups, then sites, then regions.
    pub fn units(&self) -> Vec<(UnitKind, Uuid)> {
        let mut out = Vec::new();
        for (kind, set) in [
            (UnitKind::Group, &self.groups),
            (UnitKind::Site, &self.sites),
            (UnitKind::Region, &self.regions),
        ] {
            out.extend(set.iter().map(|id| (kind, *id)));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.sites.is_empty() && self.regions.is_empty()
    }

    /// Refuse more units of one kind than a link may hold.
    pub fn check_size(&self) -> Result<(), DomainError> {
        for (field, set) in [
            ("allocation.groups", &self.groups),
            ("allocation.sites", &self.sites),
            ("allocation.regions", &self.regions),
        ] {
            if set.len() > ALLOCATION_MAX_PER_KIND {
                return Err(DomainError::invalid(
                    field,
                    format!("at most {ALLOCATION_MAX_PER_KIND} units of one kind"),
                ));
            }
        }
        Ok(())
    }
}

/// A training access link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLink {
    /// UUIDv7.
    pub id: Uuid,
    /// The unguessable part of the link's URL (`/enroll/<token>`), base64url.
    pub token: String,
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Most distinct users the link may enroll; `None` = no cap.
    pub cap: Option<u32>,
    pub allocation: Allocation,
    pub active: bool,
    /// Shown as a tile on the kiosk's start screen.
    pub pinned: bool,
    /// Distinct users who used the link (an existing user counts once).
    pub used: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new link's settings, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInput {
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub cap: Option<u32>,
    pub allocation: Allocation,
    pub pinned: bool,
}

/// Changes to a link; `None` leaves a setting as it is. For expiry and cap, `Some(None)` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, with = "patch_time")]
    pub expires_at: Option<Option<OffsetDateTime>>,
    #[serde(default, deserialize_with = "present")]
    pub cap: Option<Option<u32>>,
    pub allocation: Option<Allocation>,
    pub pinned: Option<bool>,
}

/// A fresh link token: 128 bits from `rng` (the OS generator), unpadded base64url.
pub fn new_token(rng: &mut impl CryptoRng) -> String {
    use base64::Engine;
    let mut bytes = [0u8; TOKEN_BYTES];
    rng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn check_name(name: &str) -> Result<String, DomainError> {
    clean_text("name", name, LINK_NAME_MAX_CHARS)
}

/// A description may be empty; otherwise the same rules as other one-line text.
fn check_description(text: &str) -> Result<String, DomainError> {
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    clean_text("description", text, LINK_DESCRIPTION_MAX_CHARS)
}

fn check_expiry(expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> Result<(), DomainError> {
    match expires_at {
        Some(t) if t <= now => Err(DomainError::invalid("expires_at", "must be in the future")),
        _ => Ok(()),
    }
}

fn check_cap(cap: Option<u32>) -> Result<(), DomainError> {
    match cap {
        Some(c) if c == 0 || c > LINK_CAP_MAX => Err(DomainError::invalid(
            "cap",
            format!("must be 1 to {LINK_CAP_MAX}, or absent for no cap"),
        )),
        _ => Ok(()),
    }
}

impl AccessLink {
    /// A new, active link. `token` comes from [`new_token`].
    pub fn new(
        id: Uuid,
        token: String,
        input: LinkInput,
        now: OffsetDateTime,
    ) -> Result<AccessLink, DomainError> {
        let name = check_name(&input.name)?;
        let description = check_description(&input.description)?;
        check_expiry(input.expires_at, now)?;
        check_cap(input.cap)?;
        input.allocation.check_size()?;
        Ok(AccessLink {
            id,
            token,
            name,
            description,
            expires_at: input.expires_at,
            cap: input.cap,
            allocation: input.allocation,
            active: true,
            pinned: input.pinned,
            used: 0,
            created_at: now,
            updated_at: now,
        })
    }

    /// Apply staff changes; nothing changes when any of them is invalid.
    pub fn apply(&mut self, patch: LinkPatch, now: OffsetDateTime) -> Result<(), DomainError> {
        let name = patch.name.as_deref().map(check_name).transpose()?;
        let description = patch.description.as_deref().map(check_description).transpose()?;
        if let Some(expiry) = patch.expires_at {
            check_expiry(expiry, now)?;
        }
        if let Some(cap) = patch.cap {
            check_cap(cap)?;
        }
        if let Some(a) = &patch.allocation {
            a.check_size()?;
        }
        if let Some(name) = name {
            self.name = name;
        }
        if let Some(d) = description {
            self.description = d;
        }
        if let Some(e) = patch.expires_at {
            self.expires_at = e;
        }
        if let Some(c) = patch.cap {
            self.cap = c;
        }
        if let Some(a) = patch.allocation {
            self.allocation = a;
        }
        if let Some(p) = patch.pinned {
            self.pinned = p;
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    pub fn is_full(&self) -> bool {
        self.cap.is_some_and(|c| self.used >= c)
    }

    /// Deactivated first (staff said no), then expired, then full.
    pub fn state(&self, now: OffsetDateTime) -> LinkState {
        if !self.active {
            LinkState::Deactivated
        } else if self.is_expired(now) {
            LinkState::Expired
        } else if self.is_full() {
            LinkState::Full
        } else {
            LinkState::Active
        }
    }

    /// Whether the link is open at all (active, not expired), cap aside.
    pub fn check_open(&self, now: OffsetDateTime) -> Result<(), LinkRefusal> {
        match self.state(now) {
            LinkState::Deactivated => Err(LinkRefusal::Deactivated),
            LinkState::Expired => Err(LinkRefusal::Expired),
            LinkState::Full | LinkState::Active => Ok(()),
        }
    }

    /// Whether a newcomer could enroll now.
    pub fn check_usable(&self, now: OffsetDateTime) -> Result<(), LinkRefusal> {
        match self.state(now) {
            LinkState::Deactivated => Err(LinkRefusal::Deactivated),
            LinkState::Expired => Err(LinkRefusal::Expired),
            LinkState::Full => Err(LinkRefusal::Full),
            LinkState::Active => Ok(()),
        }
    }

    /// Let one user through. A user the link already counted passes even when the link is full and
    /// is not counted again; anyone else takes one slot of the cap.
    pub fn admit(&mut self, already_counted: bool, now: OffsetDateTime) -> Result<(), LinkRefusal> {
        self.check_open(now)?;
        if already_counted {
            return Ok(());
        }
        if self.is_full() {
            return Err(LinkRefusal::Full);
        }
        self.used = self.used.saturating_add(1);
        Ok(())
    }

    pub fn deactivate(&mut self, now: OffsetDateTime) -> Result<(), DomainError> {
        if !self.active {
            return Err(DomainError::Conflict(format!(
                "the link {:?} is already deactivated",
                self.name
            )));
        }
        self.active = false;
        self.updated_at = now;
        Ok(())
    }

    pub fn reactivate(&mut self, now: OffsetDateTime) -> Result<(), DomainError> {
        if self.active {
            return Err(DomainError::Conflict(format!(
                "the link {:?} is already active",
                self.name
            )));
        }
        self.active = true;
        self.updated_at = now;
        Ok(())
    }
}

/// A field that is present (maybe `null`) becomes `Some(value)`; serde's `default` covers absence.
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `Option<Option<OffsetDateTime>>` as RFC 3339: absent = unchanged, `null` = removed.
mod patch_time {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::OffsetDateTime;

    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    struct Inner(#[serde(with = "time::serde::rfc3339::option")] Option<OffsetDateTime>);

    pub fn serialize<S: Serializer>(v: &Option<Option<OffsetDateTime>>, s: S) -> Result<S::Ok, S::Error> {
        v.map(Inner).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
        Ok(Some(Inner::deserialize(d)?.0))
    }
}

#[cfg(test)]
mod tests;
