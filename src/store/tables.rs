//! Every redb table of sitegate as a typed constant, its name, and the record names of the stored types.

use redb::{TableDefinition, WriteTransaction};

use super::StoreError;
use super::audit::AuditEntry;
use super::codec::{Record, Versioned};
use super::credentials::StaffCredential;
use super::outbox::OutboxEvent;
use super::sessions::StoredSession;
use crate::domain::activity::ActivityEntry;
use crate::domain::badge::Badge;
use crate::domain::org::Unit;
use crate::domain::print_job::PrintJob;
use crate::domain::training::{Assignment, Completion, Module};
use crate::domain::user::User;

/// Table names, used by the definitions below and by `StoreError::Corrupt`.
pub mod names {
    pub const META: &str = "meta";
    pub const USERS: &str = "users";
    pub const USER_BY_EMAIL: &str = "user_by_email";
    pub const USER_BY_PHONE: &str = "user_by_phone";
    pub const UNITS: &str = "units";
    pub const MODULES: &str = "modules";
    pub const ASSIGNMENTS: &str = "assignments";
    pub const COMPLETIONS: &str = "completions";
    pub const ACTIVITY: &str = "activity";
    pub const CREDENTIALS: &str = "credentials";
    pub const PIN_INDEX: &str = "pin_index";
    pub const SESSIONS: &str = "sessions";
    pub const AUDIT: &str = "audit";
    pub const OUTBOX: &str = "outbox";
    pub const BADGES: &str = "badges";
    pub const BADGE_BY_USER: &str = "badge_by_user";
    pub const PRINT_JOBS: &str = "print_jobs";
}

/// Setting name → value (`schema_version`, `gateway_id`, counters).
pub const META: TableDefinition<&str, &str> = TableDefinition::new(names::META);
/// User ID (canonical) → user.
pub const USERS: TableDefinition<&str, Versioned<User>> = TableDefinition::new(names::USERS);
/// Email (lower-cased) → user ID.
pub const USER_BY_EMAIL: TableDefinition<&str, &str> = TableDefinition::new(names::USER_BY_EMAIL);
/// Phone (E.164) → user ID.
pub const USER_BY_PHONE: TableDefinition<&str, &str> = TableDefinition::new(names::USER_BY_PHONE);
/// Unit UUID → group, site or region.
pub const UNITS: TableDefinition<u128, Versioned<Unit>> = TableDefinition::new(names::UNITS);
/// Module UUID → catalogue module.
pub const MODULES: TableDefinition<u128, Versioned<Module>> = TableDefinition::new(names::MODULES);
/// Assignment UUID → assignment.
pub const ASSIGNMENTS: TableDefinition<u128, Versioned<Assignment>> =
    TableDefinition::new(names::ASSIGNMENTS);
/// (user ID, module UUID) → the user's latest completion of that module.
pub const COMPLETIONS: TableDefinition<(&str, u128), Versioned<Completion>> =
    TableDefinition::new(names::COMPLETIONS);
/// (user ID, unix nanos, sequence within that nanosecond) → activity entry.
pub const ACTIVITY: TableDefinition<(&str, i128, u64), Versioned<ActivityEntry>> =
    TableDefinition::new(names::ACTIVITY);
/// User ID → staff credential (PIN tag, bootstrap code).
pub const CREDENTIALS: TableDefinition<&str, Versioned<StaffCredential>> =
    TableDefinition::new(names::CREDENTIALS);
/// PIN tag → user ID.
pub const PIN_INDEX: TableDefinition<&[u8; 32], &str> = TableDefinition::new(names::PIN_INDEX);
/// Session token hash → session.
pub const SESSIONS: TableDefinition<&[u8; 32], Versioned<StoredSession>> =
    TableDefinition::new(names::SESSIONS);
/// (unix nanos, sequence within that nanosecond) → audit entry.
pub const AUDIT: TableDefinition<(i128, u64), Versioned<AuditEntry>> = TableDefinition::new(names::AUDIT);
/// Gateway sequence number (gap-free, from 1) → event for the central system.
pub const OUTBOX: TableDefinition<u64, Versioned<OutboxEvent>> = TableDefinition::new(names::OUTBOX);
/// Badge number → badge (holder, serial, state, issued).
pub const BADGES: TableDefinition<&str, Versioned<Badge>> = TableDefinition::new(names::BADGES);
/// User ID → the number of their current badge.
pub const BADGE_BY_USER: TableDefinition<&str, &str> = TableDefinition::new(names::BADGE_BY_USER);
/// Print job UUIDv7 → job (badge, printer, state, attempts, last error, next attempt).
pub const PRINT_JOBS: TableDefinition<u128, Versioned<PrintJob>> = TableDefinition::new(names::PRINT_JOBS);

/// Open (and so create) every table, so that reads never meet a missing table.
pub(crate) fn create_all(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(META)?;
    tx.open_table(USERS)?;
    tx.open_table(USER_BY_EMAIL)?;
    tx.open_table(USER_BY_PHONE)?;
    tx.open_table(UNITS)?;
    tx.open_table(MODULES)?;
    tx.open_table(ASSIGNMENTS)?;
    tx.open_table(COMPLETIONS)?;
    tx.open_table(ACTIVITY)?;
    tx.open_table(CREDENTIALS)?;
    tx.open_table(PIN_INDEX)?;
    tx.open_table(SESSIONS)?;
    tx.open_table(AUDIT)?;
    tx.open_table(OUTBOX)?;
    tx.open_table(BADGES)?;
    tx.open_table(BADGE_BY_USER)?;
    tx.open_table(PRINT_JOBS)?;
    Ok(())
}

impl Record for User {
    const NAME: &'static str = "user";
}
impl Record for Unit {
    const NAME: &'static str = "unit";
}
impl Record for Module {
    const NAME: &'static str = "module";
}
impl Record for Assignment {
    const NAME: &'static str = "assignment";
}
impl Record for Completion {
    const NAME: &'static str = "completion";
}
impl Record for ActivityEntry {
    const NAME: &'static str = "activity_entry";
}
impl Record for Badge {
    const NAME: &'static str = "badge";
}
impl Record for PrintJob {
    const NAME: &'static str = "print_job";
}
