//! The sync protocol's wire types (v1), shared by the gateway's client and the test central, and the source of the central side's OpenAPI document.
//!
//! Every type here is what crosses the network between a gateway and the central system, in
//! JSON. Field names are the contract (docs/sync-protocol.md); changing one is a protocol change.
//! Records arrive as untyped JSON first ([`RawChange`]) so that one record of an unknown kind or a
//! bad shape is quarantined alone instead of failing its whole page.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The path prefix of every central endpoint of this protocol version.
pub const V1: &str = "/v1";
/// Most changes the gateway asks for in one page.
pub const PAGE_LIMIT_MAX: u32 = 1000;
/// Largest page body the gateway reads (bytes); a longer answer is a sync error, nothing applied.
pub const PAGE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most events in one push.
pub const PUSH_BATCH_MAX: usize = 500;
/// Longest long-poll wait the gateway asks for, in seconds.
pub const WAIT_SECS_MAX: u32 = 30;

/// A gateway asks to join a site with the one-time site token the central system issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The one-time site token (from the central system's site settings).
    pub site_token: String,
    /// The gateway's own ID (`gw-` and 12 Crockford symbols, its database's `meta.gateway_id`).
    pub gateway_id: String,
    /// A name staff recognise, e.g. the site's name and the box's host name.
    pub gateway_name: String,
    /// The gateway's X25519 public key, base64url (32 bytes): central seals credentials to it.
    pub public_key: String,
    /// sitegate's version, e.g. `0.1.0`.
    pub software: String,
}

/// The central system's answer to a join: the gateway's credential and the central key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinAnswer {
    pub gateway_id: String,
    /// The site this gateway serves.
    pub site_id: Uuid,
    pub site_name: String,
    /// The bearer credential of this gateway for every later call. The gateway keeps it in a
    /// 0600 file outside its database and never logs it.
    pub credential: String,
    /// The central system's X25519 public key, base64url: the gateway seals site credentials to it.
    pub central_public_key: String,
    /// The central data epoch; a different epoch later means "refetch everything".
    pub epoch: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
}

/// A gateway leaves its site: the central system revokes its credential and takes back the
/// link slots it leased and did not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveRequest {
    pub gateway_id: String,
    /// Enrollments this gateway made through each leased link (cumulative).
    pub consumed: Vec<LinkConsumed>,
}

/// How many enrollments one gateway made through one capped link, from its first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkConsumed {
    pub link_id: Uuid,
    pub consumed: u32,
}

/// Query of `GET /v1/changes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The cursor of the last page applied; absent for the first page of an epoch.
    pub cursor: Option<String>,
    /// The epoch that cursor belongs to (before the first page: the join's, or the one a
    /// `refetch` named). Not the current epoch: 410 `refetch`, with or without a cursor.
    pub epoch: Option<String>,
    /// Most changes to return (1 to 1000).
    pub limit: Option<u32>,
    /// Seconds the central system may hold the request open while nothing is new (0 to 30).
    pub wait: Option<u32>,
}

/// One page of central changes, in the central system's order.
///
/// The gateway applies the page, its `cursor` and its `epoch` in one write transaction, so the
/// cursor never passes data it did not store. A page of another epoch than the one asked with
/// is refused, nothing applied: a new epoch comes as 410 `refetch`. (Asked with no cursor, the
/// gateway then takes the page's epoch and asks again in it.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangesPage {
    pub epoch: String,
    /// Opaque; send it back as `cursor` for the next page.
    pub cursor: String,
    /// More changes wait after this page.
    pub has_more: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
    /// Each a [`Change`]; read one at a time so a bad one is quarantined alone.
    #[schema(value_type = Vec<Change>)]
    pub changes: Vec<serde_json::Value>,
}

/// One change as the gateway first reads it: the envelope typed, the record not yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawChange {
    pub kind: String,
    pub id: String,
    pub version: u64,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub record: Option<serde_json::Value>,
}

/// One central change: an upsert of a record, or its tombstone (`deleted: true`, no record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    User(Envelope<WireUser>),
    Group(Envelope<WireUnit>),
    Site(Envelope<WireUnit>),
    Region(Envelope<WireUnit>),
    Module(Envelope<WireModule>),
    Assignment(Envelope<WireAssignment>),
    Link(Envelope<WireLink>),
    Class(Envelope<WireClass>),
    Credential(Envelope<WireCredential>),
}

/// The common frame of a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Envelope<T> {
    /// The record's central ID (UUID for everything but users; users' central IDs are 1 to 64 of
    /// `A-Za-z0-9._-`). For a credential, the user's central ID.
    pub id: String,
    /// The record's central version: higher is newer.
    pub version: u64,
    #[serde(default)]
    pub deleted: bool,
    pub record: Option<T>,
}

/// The change kinds this protocol version knows.
pub const KINDS: [&str; 9] = [
    "user",
    "group",
    "site",
    "region",
    "module",
    "assignment",
    "link",
    "class",
    "credential",
];

/// A user record, every field of the central user record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireUser {
    /// When the user first enrolled on a gateway: the ID that gateway minted (`ABCDE-FGHJK`
    /// form or canonical), which stays valid on that site (badge, typed ID).
    #[serde(default)]
    pub gateway_user_id: Option<String>,
    /// 1 to 100 characters.
    #[schema(min_length = 1)]
    pub given_name: String,
    /// 1 to 100 characters: never empty.
    #[schema(min_length = 1)]
    pub family_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub employer: Option<String>,
    /// BCP 47 primary tag, e.g. `en`, `pt`.
    #[serde(default)]
    pub language: Option<String>,
    /// `trainee`, `instructor`, `manager` or `admin`.
    pub role: String,
    /// `full` or `classroom_only`.
    pub access_level: String,
    /// `active` or `deactivated`.
    pub status: String,
    #[serde(default)]
    pub groups: Vec<Uuid>,
    #[serde(default)]
    pub sites: Vec<Uuid>,
    #[serde(default)]
    pub regions: Vec<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A group, site or region (its kind is the change's kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireUnit {
    pub name: String,
}

/// A training module of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireModule {
    pub title: String,
    pub duration_minutes: u32,
    #[serde(default)]
    pub valid_for_days: Option<u32>,
}

/// Whom an assignment is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireTarget {
    /// `group`, `site`, `region` or `user`.
    pub kind: String,
    /// A unit UUID, or a user's central ID.
    pub id: String,
}

/// A module assigned to a group, site, region or user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireAssignment {
    pub module_id: Uuid,
    pub target: WireTarget,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// Where a link's users are put.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireAllocation {
    #[serde(default)]
    pub groups: Vec<Uuid>,
    #[serde(default)]
    pub sites: Vec<Uuid>,
    #[serde(default)]
    pub regions: Vec<Uuid>,
}

/// A training access link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireLink {
    /// The URL token (at least 128 random bits, base64url).
    pub token: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Most distinct users in all, across every gateway and the central system. A gateway
    /// enrolls through a capped link only within the slots leased to it (`POST /v1/leases`).
    #[serde(default)]
    pub cap: Option<u32>,
    #[serde(default)]
    pub allocation: WireAllocation,
    pub active: bool,
    /// Distinct users the central system has counted so far (all gateways).
    #[serde(default)]
    pub used: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A classroom session scheduled centrally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireClass {
    pub title: String,
    #[serde(default)]
    pub module_ids: Vec<Uuid>,
    #[serde(default)]
    pub site_id: Option<Uuid>,
    /// 1 to 64 characters.
    #[schema(min_length = 1)]
    pub room: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: OffsetDateTime,
    /// Users' central IDs, 1 to 10.
    #[schema(min_items = 1)]
    pub instructors: Vec<String>,
    /// Users' central IDs.
    #[serde(default)]
    pub expected: Vec<String>,
    /// `scheduled` or `cancelled`: opening and closing happen on site.
    pub state: String,
}

/// A credential the central system issued for a user (the change's `id` is the user's central ID).
/// Every secret is sealed to the gateway's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireCredential {
    /// A new VR PIN; the old one stops working.
    #[serde(default)]
    pub pin: Option<Sealed>,
    /// A one-time password and when it expires.
    #[serde(default)]
    pub otp: Option<SealedOtp>,
}

/// A one-time password, sealed, with its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedOtp {
    pub code: Sealed,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

/// A secret sealed to one side's X25519 key: a libsodium `crypto_box_seal` box, base64url
/// without padding. Only the holder of the matching secret key can open it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct Sealed(pub String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

/// A batch of site events, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub gateway_id: String,
    pub events: Vec<WireEvent>,
}

/// One site event: a fact the central system folds in. `(gateway_id, seq)` and `event_id` each
/// identify it; a repeat is answered `duplicate` and not applied again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireEvent {
    /// The gateway's gap-free sequence number, from 1.
    pub seq: u64,
    /// UUIDv7.
    pub event_id: Uuid,
    /// What happened, e.g. `user.created`, `class.checked_in` (docs/sync-protocol.md lists them).
    pub kind: String,
    /// When it happened, by the gateway's clock (for people to read; order is by `seq`).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    /// The event's facts. Secrets inside are [`Sealed`] to the central key.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What the central system did with each event of a batch, in the batch's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventResults {
    pub results: Vec<EventResult>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
}

/// The fate of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventResult {
    pub seq: u64,
    pub outcome: Outcome,
    /// Why it was rejected, for staff.
    #[serde(default)]
    pub reason: Option<String>,
    /// For an event that created a user on site: the user's central ID.
    #[serde(default)]
    pub central_user_id: Option<String>,
}

/// `accepted`: folded in now. `duplicate`: already folded in earlier (a repeat). `rejected`: it
/// will never be accepted as it is; the gateway moves it to its dead letters with `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Duplicate,
    Rejected,
}

/// A gateway asks to hold `want_free` unused slots of a capped link, having used `consumed`.
/// Absolute, not a delta: a repeat of the same request changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    pub link_id: Uuid,
    /// Enrollments this gateway made through the link, from its first (cumulative).
    pub consumed: u32,
    /// Unused slots it wants to hold from now on (0 gives every unused slot back).
    pub want_free: u32,
}

/// The slots the central system now reserves for this gateway on one link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseGrant {
    pub link_id: Uuid,
    /// Slots reserved for this gateway in all, used ones included (at least `consumed`). The
    /// gateway may enroll while its `consumed` is below this.
    pub granted: u32,
    /// The link's cap, echoed.
    #[serde(default)]
    pub cap: Option<u32>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
}

/// The central system's problem+json body (RFC 9457) with a stable `code`:
/// `unauthorized` (401), `refetch` (410: the `epoch` asked with is not the current one, with or
/// without a cursor, or the cursor is older than the tombstone horizon), `invalid` (400/422),
/// `too_large` (413), `unavailable` (503).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CentralProblem {
    pub code: String,
    #[serde(default)]
    pub detail: Option<String>,
    /// For `refetch`: the epoch to refetch.
    #[serde(default)]
    pub epoch: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_envelope_reads_as_raw_and_typed() {
        let json = serde_json::json!({
            "kind": "group", "id": "0190c2a0-0000-7000-8000-000000000001", "version": 3,
            "deleted": false, "record": {"name": "Welders"}
        });
        let raw: RawChange = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(raw.kind, "group");
        let typed: Change = serde_json::from_value(json).unwrap();
        assert!(matches!(typed, Change::Group(e) if e.record.as_ref().is_some_and(|r| r.name == "Welders")));
    }

    #[test]
    fn a_sealed_secret_never_shows_in_debug() {
        let s = Sealed("c2VjcmV0".into());
        assert_eq!(format!("{s:?}"), "Sealed(..)");
    }
}
