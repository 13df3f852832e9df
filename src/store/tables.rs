//! Every redb table of sitegate as a typed constant, its name, and the record names of the stored types.

use redb::{TableDefinition, WriteTransaction};

use super::StoreError;
use super::audit::AuditEntry;
use super::codec::{Record, Versioned};
use super::credentials::StaffCredential;
use super::links::LinkUse;
use super::outbox::OutboxEvent;
use super::sessions::StoredSession;
use super::sync::{CentralEntry, DeadLetter, Lease, Quarantined, SyncState};
use super::throttle::ThrottleRecord;
use crate::domain::activity::ActivityEntry;
use crate::domain::badge::Badge;
use crate::domain::classroom::{Attendance, Class};
use crate::domain::credentials::OneTimePassword;
use crate::domain::device::{Device, HeadsetSession, StoredProgress};
use crate::domain::link::AccessLink;
use crate::domain::org::Unit;
use crate::domain::print_job::PrintJob;
use crate::domain::training::{Assignment, Completion, Module};
use crate::domain::user::User;
use crate::domain::walk_in::WalkInPass;

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
    pub const OTPS: &str = "otps";
    pub const DEVICES: &str = "devices";
    pub const DEVICE_BY_TOKEN: &str = "device_by_token";
    pub const HEADSET_SESSIONS: &str = "headset_sessions";
    pub const PROGRESS_EVENTS: &str = "progress_events";
    pub const THROTTLE: &str = "throttle";
    pub const ACCESS_LINKS: &str = "access_links";
    pub const LINK_BY_TOKEN: &str = "link_by_token";
    pub const LINK_USAGE: &str = "link_usage";
    pub const CLASSES: &str = "classes";
    pub const ATTENDANCE: &str = "attendance";
    pub const BADGES: &str = "badges";
    pub const BADGE_BY_USER: &str = "badge_by_user";
    pub const PRINT_JOBS: &str = "print_jobs";
    pub const WALK_IN_PASSES: &str = "walk_in_passes";
    pub const SYNC_STATE: &str = "sync_state";
    pub const DEAD_LETTERS: &str = "dead_letters";
    pub const QUARANTINE: &str = "quarantine";
    pub const CENTRAL_IDS: &str = "central_ids";
    pub const LINK_LEASES: &str = "link_leases";
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
/// One-time password tag → the password's record (user, expiry). Deleted when used or revoked.
pub const OTPS: TableDefinition<&[u8; 32], Versioned<OneTimePassword>> = TableDefinition::new(names::OTPS);
/// Device UUID → paired (or pending) headset or kiosk tablet.
pub const DEVICES: TableDefinition<u128, Versioned<Device>> = TableDefinition::new(names::DEVICES);
/// SHA-256 of a device token → device UUID.
pub const DEVICE_BY_TOKEN: TableDefinition<&[u8; 32], u128> = TableDefinition::new(names::DEVICE_BY_TOKEN);
/// SHA-256 of a headset session token → session.
pub const HEADSET_SESSIONS: TableDefinition<&[u8; 32], Versioned<HeadsetSession>> =
    TableDefinition::new(names::HEADSET_SESSIONS);
/// Client event UUID → progress event as received (so a repeat is stored once).
pub const PROGRESS_EVENTS: TableDefinition<u128, Versioned<StoredProgress>> =
    TableDefinition::new(names::PROGRESS_EVENTS);
/// `account:<id>`, `source:<key>` or `site` → throttling state.
pub const THROTTLE: TableDefinition<&str, Versioned<ThrottleRecord>> = TableDefinition::new(names::THROTTLE);

/// Link UUID → training access link.
pub const ACCESS_LINKS: TableDefinition<u128, Versioned<AccessLink>> =
    TableDefinition::new(names::ACCESS_LINKS);
/// SHA-256 of a link token → link UUID (hashed, so a lookup's timing says nothing about tokens).
pub const LINK_BY_TOKEN: TableDefinition<&[u8; 32], u128> = TableDefinition::new(names::LINK_BY_TOKEN);
/// (link UUID, user ID) → when and where that user came through the link (one row per distinct user).
pub const LINK_USAGE: TableDefinition<(u128, &str), Versioned<LinkUse>> =
    TableDefinition::new(names::LINK_USAGE);

/// Class UUID → classroom session.
pub const CLASSES: TableDefinition<u128, Versioned<Class>> = TableDefinition::new(names::CLASSES);
/// (class UUID, user ID) → that participant's check-in, check-out and outcome.
pub const ATTENDANCE: TableDefinition<(u128, &str), Versioned<Attendance>> =
    TableDefinition::new(names::ATTENDANCE);
/// Badge number → badge (holder, serial, state, issued).
pub const BADGES: TableDefinition<&str, Versioned<Badge>> = TableDefinition::new(names::BADGES);
/// User ID → the number of their current badge.
pub const BADGE_BY_USER: TableDefinition<&str, &str> = TableDefinition::new(names::BADGE_BY_USER);
/// Print job UUIDv7 → job (badge, printer, state, attempts, last error, next attempt).
pub const PRINT_JOBS: TableDefinition<u128, Versioned<PrintJob>> = TableDefinition::new(names::PRINT_JOBS);
/// Token hash → walk-in pass.
pub const WALK_IN_PASSES: TableDefinition<&[u8; 32], Versioned<WalkInPass>> =
    TableDefinition::new(names::WALK_IN_PASSES);

/// `state` → the sync's state (epoch, cursor, last results, the joined site).
pub const SYNC_STATE: TableDefinition<&str, Versioned<SyncState>> = TableDefinition::new(names::SYNC_STATE);
/// Outbox sequence number → an event the central system rejected, with the reason.
pub const DEAD_LETTERS: TableDefinition<u64, Versioned<DeadLetter>> =
    TableDefinition::new(names::DEAD_LETTERS);
/// `kind:central id` → a central record that could not be applied, and why.
pub const QUARANTINE: TableDefinition<&str, Versioned<Quarantined>> = TableDefinition::new(names::QUARANTINE);
/// `kind:central id` → the local record it is (user ID or UUID), its version, its refetch generation.
pub const CENTRAL_IDS: TableDefinition<&str, Versioned<CentralEntry>> =
    TableDefinition::new(names::CENTRAL_IDS);
/// Link UUID → the slots of that capped link leased to this gateway, and how many it used.
pub const LINK_LEASES: TableDefinition<u128, Versioned<Lease>> = TableDefinition::new(names::LINK_LEASES);

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
    tx.open_table(OTPS)?;
    tx.open_table(DEVICES)?;
    tx.open_table(DEVICE_BY_TOKEN)?;
    tx.open_table(HEADSET_SESSIONS)?;
    tx.open_table(PROGRESS_EVENTS)?;
    tx.open_table(THROTTLE)?;
    tx.open_table(ACCESS_LINKS)?;
    tx.open_table(LINK_BY_TOKEN)?;
    tx.open_table(LINK_USAGE)?;
    tx.open_table(CLASSES)?;
    tx.open_table(ATTENDANCE)?;
    tx.open_table(BADGES)?;
    tx.open_table(BADGE_BY_USER)?;
    tx.open_table(PRINT_JOBS)?;
    tx.open_table(WALK_IN_PASSES)?;
    tx.open_table(SYNC_STATE)?;
    tx.open_table(DEAD_LETTERS)?;
    tx.open_table(QUARANTINE)?;
    tx.open_table(CENTRAL_IDS)?;
    tx.open_table(LINK_LEASES)?;
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
impl Record for OneTimePassword {
    const NAME: &'static str = "one_time_password";
}
impl Record for Device {
    const NAME: &'static str = "device";
}
impl Record for HeadsetSession {
    const NAME: &'static str = "headset_session";
}
impl Record for StoredProgress {
    const NAME: &'static str = "progress_event";
}
impl Record for AccessLink {
    const NAME: &'static str = "access_link";
}
impl Record for Class {
    const NAME: &'static str = "class";
}
impl Record for Attendance {
    const NAME: &'static str = "attendance";
}
impl Record for Badge {
    const NAME: &'static str = "badge";
}
impl Record for PrintJob {
    const NAME: &'static str = "print_job";
}
impl Record for WalkInPass {
    const NAME: &'static str = "walk_in_pass";
}
