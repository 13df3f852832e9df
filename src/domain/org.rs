//! Groups, sites and regions: the organisation units users belong to and training is assigned by.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DomainError;
use super::person::clean_text;

/// Longest unit name, in characters.
pub const UNIT_NAME_MAX_CHARS: usize = 100;

/// Which kind of organisation unit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Group,
    Site,
    Region,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Group => "group",
            UnitKind::Site => "site",
            UnitKind::Region => "region",
        }
    }

    pub fn parse(s: &str) -> Result<UnitKind, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "group" => Ok(UnitKind::Group),
            "site" => Ok(UnitKind::Site),
            "region" => Ok(UnitKind::Region),
            _ => Err(DomainError::invalid("kind", "must be group, site or region")),
        }
    }
}

/// A group, site or region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: Uuid,
    pub kind: UnitKind,
    pub name: String,
}

impl Unit {
    pub fn new(id: Uuid, kind: UnitKind, name: &str) -> Result<Unit, DomainError> {
        Ok(Unit {
            id,
            kind,
            name: clean_text("name", name, UNIT_NAME_MAX_CHARS)?,
        })
    }
}
