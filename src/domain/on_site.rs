//! The on-site list as it prints for a roll call: a snapshot (site, when, who, in which class and room, since when) kept inside its print job, so a retry or a restart prints the same list.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Everyone checked in at `generated_at`. Times carry the site's UTC offset, so the printout
/// reads site time whatever the gateway's clock zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSiteList {
    pub site: String,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub people: Vec<OnSitePerson>,
}

/// One person on the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSitePerson {
    pub given_name: String,
    pub family_name: String,
    /// The user ID as people read it (`ABCDE-FGHJK`).
    pub user_id: String,
    pub class_title: String,
    pub room: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub checked_in_at: Option<OffsetDateTime>,
}

/// `HH:MM` of `t` in its own offset.
pub fn hhmm(t: OffsetDateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}
