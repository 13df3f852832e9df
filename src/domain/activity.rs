//! A user's activity log: their training history, entry by entry.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityKind {
    Created {
        via: String,
    },
    Deactivated,
    DetailsChanged,
    JoinedUnit {
        unit_kind: String,
        unit_name: String,
    },
    TrainingAssigned {
        module_title: String,
    },
    ModuleCompleted {
        module_title: String,
    },
    PinIssued,
    StaffSignedIn,
    OtpIssued,
    OtpRevoked,
    TotpEnrolled,
    TotpReset,
    HeadsetLoggedIn {
        device: String,
        credential: String,
    },
    HeadsetLoggedOut {
        device: String,
    },
    ModuleStarted {
        module_title: String,
        device: String,
    },
    ModuleAborted {
        module_title: String,
        device: String,
    },
    ModuleFailed {
        module_title: String,
        score: u8,
        device: String,
    },
    /// Came through a training access link: as a newcomer, or an existing user who proved who they are.
    EnrolledViaLink {
        link_name: String,
        existing_user: bool,
    },
    /// Checked in to a classroom session (`method`: badge, id, pin, staff).
    CheckedIn {
        class_title: String,
        method: String,
    },
    /// Checked out of a classroom session; `auto` when the gateway did it at the cut-off.
    CheckedOut {
        class_title: String,
        method: String,
        auto: bool,
    },
    /// The outcome recorded when the class closed: attended, partial, no_show.
    ClassOutcome {
        class_title: String,
        outcome: String,
    },
    /// A new badge was issued (and the previous one, if any, retired).
    BadgeIssued {
        serial: u32,
    },
    /// The badge was printed.
    BadgePrinted {
        serial: u32,
        printer: String,
    },
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityEntry {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    #[serde(flatten)]
    pub kind: ActivityKind,
    /// Who caused it: a staff user's ID, "cli", "central" or "self".
    pub actor: String,
}
