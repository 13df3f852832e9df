//! Paired devices (headsets, kiosk tablets): pairing requests, the comparison code, states, headset sessions and progress events.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::DomainError;
use super::ids::UserId;
use super::person::clean_text;

pub const DEVICE_NAME_MAX_CHARS: usize = 64;
pub const MODEL_MAX_CHARS: usize = 64;
pub const FIRMWARE_MAX_CHARS: usize = 32;
pub const ROOM_MAX_CHARS: usize = 64;
/// A device key: 32 to 64 random bytes (or a public key), base64url without padding.
pub const DEVICE_KEY_MIN_CHARS: usize = 43;
pub const DEVICE_KEY_MAX_CHARS: usize = 86;
/// A pairing request not decided in this time lapses (and stops counting against the bound).
pub const PAIRING_VALID: Duration = Duration::hours(1);

/// What kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Headset,
    Kiosk,
}

impl DeviceKind {
    /// The word the API and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Headset => "headset",
            DeviceKind::Kiosk => "kiosk",
        }
    }
}

/// Where a device stands (CONTRACTS: `pending`, `approved`, `rejected`, `revoked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Pending,
    Approved,
    Rejected,
    Revoked,
}

/// A device as stored. The device key and token are kept only as SHA-256 hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: Uuid,
    pub kind: DeviceKind,
    pub name: String,
    pub model: String,
    pub firmware: String,
    pub state: DeviceState,
    /// The comparison code both sides showed at pairing.
    pub comparison_code: String,
    pub key_hash: [u8; 32],
    /// Set when the approved device collected its token (it is handed out once).
    pub token_hash: Option<[u8; 32]>,
    /// Free text: where staff placed the headset ("Room 2").
    pub room: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    /// Where the pairing request came from.
    pub source: Option<String>,
}

impl Device {
    /// A pending request that has not lapsed.
    pub fn is_live_request(&self, now: OffsetDateTime) -> bool {
        self.state == DeviceState::Pending && now - self.requested_at < PAIRING_VALID
    }

    /// Apply a staff decision. Only a pending request may be approved or rejected; only an
    /// approved device (or a pending one) may be revoked.
    pub fn decide(&mut self, to: DeviceState, by: &str, now: OffsetDateTime) -> Result<(), DomainError> {
        let ok = matches!(
            (self.state, to),
            (
                DeviceState::Pending,
                DeviceState::Approved | DeviceState::Rejected
            ) | (DeviceState::Approved | DeviceState::Pending, DeviceState::Revoked)
        );
        if !ok {
            return Err(DomainError::Conflict(format!(
                "device {} is {}; it cannot become {}",
                self.id,
                state_str(self.state),
                state_str(to)
            )));
        }
        if self.state == DeviceState::Pending && to == DeviceState::Approved && !self.is_live_request(now) {
            return Err(DomainError::Conflict(format!(
                "the pairing request of device {} has lapsed; pair again",
                self.id
            )));
        }
        self.state = to;
        self.decided_at = Some(now);
        self.decided_by = Some(by.to_string());
        Ok(())
    }
}

pub fn state_str(s: DeviceState) -> &'static str {
    match s {
        DeviceState::Pending => "pending",
        DeviceState::Approved => "approved",
        DeviceState::Rejected => "rejected",
        DeviceState::Revoked => "revoked",
    }
}

/// A validated pairing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingRequest {
    pub kind: DeviceKind,
    pub name: String,
    pub model: String,
    pub firmware: String,
    pub key: String,
}

impl PairingRequest {
    pub fn new(
        kind: DeviceKind,
        name: &str,
        model: &str,
        firmware: &str,
        key: &str,
    ) -> Result<PairingRequest, DomainError> {
        let key_ok = (DEVICE_KEY_MIN_CHARS..=DEVICE_KEY_MAX_CHARS).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            return Err(DomainError::invalid(
                "device_key",
                format!(
                    "must be {DEVICE_KEY_MIN_CHARS} to {DEVICE_KEY_MAX_CHARS} base64url characters (32 to 64 random bytes)"
                ),
            ));
        }
        Ok(PairingRequest {
            kind,
            name: clean_text("name", name, DEVICE_NAME_MAX_CHARS)?,
            model: clean_text("model", model, MODEL_MAX_CHARS)?,
            firmware: clean_text("firmware", firmware, FIRMWARE_MAX_CHARS)?,
            key: key.to_string(),
        })
    }
}

/// A device or room name typed by staff.
pub fn device_name(raw: &str) -> Result<String, DomainError> {
    clean_text("name", raw, DEVICE_NAME_MAX_CHARS)
}

pub fn room_name(raw: &str) -> Result<String, DomainError> {
    clean_text("room", raw, ROOM_MAX_CHARS)
}

/// SHA-256 of a device key or token, what the store keeps.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The short code both the device and the staff screen show: 6 digits from
/// SHA-256("sitegate-pair-v1" ‖ device key ‖ certificate fingerprint). A man in the middle
/// presents another certificate, so the headset computes another code than staff see.
pub fn comparison_code(device_key: &str, fingerprint: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"sitegate-pair-v1\0")
        .chain_update(device_key.as_bytes())
        .chain_update(b"\0")
        .chain_update(fingerprint.as_bytes())
        .finalize();
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
    format!("{:03} {:03}", n / 1000, n % 1000)
}

/// A headset session as stored (keyed by the hash of its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadsetSession {
    /// For staff screens (listing, ending one); not a secret.
    pub id: Uuid,
    pub user_id: UserId,
    pub device_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
}

/// Headset session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadsetSessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl HeadsetSession {
    pub fn is_alive(&self, policy: &HeadsetSessionPolicy, now: OffsetDateTime) -> bool {
        now - self.created_at < policy.absolute && now - self.last_seen < policy.idle
    }

    pub fn expires_at(&self, policy: &HeadsetSessionPolicy) -> OffsetDateTime {
        (self.last_seen + policy.idle).min(self.created_at + policy.absolute)
    }
}

/// What a headset reports about a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressKind {
    Started,
    Completed,
    Aborted,
}

/// A progress event, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub event_id: Uuid,
    pub module_id: Uuid,
    pub kind: ProgressKind,
    pub score: Option<u8>,
    pub passed: Option<bool>,
}

impl ProgressEvent {
    pub fn new(
        event_id: Uuid,
        module_id: Uuid,
        kind: ProgressKind,
        score: Option<u8>,
        passed: Option<bool>,
    ) -> Result<ProgressEvent, DomainError> {
        match kind {
            ProgressKind::Completed => {
                if score.is_none_or(|s| s > 100) {
                    return Err(DomainError::invalid(
                        "score",
                        "a completion needs a score of 0 to 100",
                    ));
                }
                if passed.is_none() {
                    return Err(DomainError::invalid(
                        "passed",
                        "a completion says whether it passed",
                    ));
                }
            }
            ProgressKind::Started | ProgressKind::Aborted => {
                if score.is_some() || passed.is_some() {
                    return Err(DomainError::invalid(
                        "score",
                        "only a completion carries a score and a pass",
                    ));
                }
            }
        }
        Ok(ProgressEvent {
            event_id,
            module_id,
            kind,
            score,
            passed,
        })
    }
}

/// A progress event as stored, once per client event ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProgress {
    pub event: ProgressEvent,
    pub user_id: UserId,
    pub device_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn comparison_code_depends_on_key_and_certificate() {
        let a = comparison_code(&"k".repeat(43), "fp-one");
        assert_eq!(a.len(), 7);
        assert_ne!(a, comparison_code(&"k".repeat(43), "fp-two"));
        assert_ne!(a, comparison_code(&"j".repeat(43), "fp-one"));
        assert_eq!(a, comparison_code(&"k".repeat(43), "fp-one"));
    }

    #[test]
    fn pairing_requests_are_bounded() {
        let key = "A".repeat(43);
        assert!(PairingRequest::new(DeviceKind::Headset, "Quest 7", "Quest 3", "v1", &key).is_ok());
        assert!(PairingRequest::new(DeviceKind::Headset, "x", "m", "f", "short").is_err());
        assert!(PairingRequest::new(DeviceKind::Headset, "x", "m", "f", &"A".repeat(87)).is_err());
        assert!(
            PairingRequest::new(
                DeviceKind::Headset,
                "x",
                "m",
                "f",
                &format!("{}=", "A".repeat(43))
            )
            .is_err()
        );
        assert!(PairingRequest::new(DeviceKind::Headset, &"n".repeat(65), "m", "f", &key).is_err());
    }

    #[test]
    fn only_live_pending_requests_may_be_approved() {
        let t = datetime!(2026-11-25 08:00 UTC);
        let mut d = Device {
            id: Uuid::nil(),
            kind: DeviceKind::Headset,
            name: "H".into(),
            model: "M".into(),
            firmware: "1".into(),
            state: DeviceState::Pending,
            comparison_code: "000 000".into(),
            key_hash: [0; 32],
            token_hash: None,
            room: None,
            requested_at: t,
            decided_at: None,
            decided_by: None,
            last_seen: None,
            source: None,
        };
        let mut late = d.clone();
        assert!(
            late.decide(DeviceState::Approved, "x", t + PAIRING_VALID)
                .is_err()
        );
        d.decide(DeviceState::Approved, "x", t).unwrap();
        assert!(d.decide(DeviceState::Rejected, "x", t).is_err());
        d.decide(DeviceState::Revoked, "x", t).unwrap();
        assert!(d.decide(DeviceState::Approved, "x", t).is_err());
    }

    #[test]
    fn completions_need_score_and_pass() {
        let id = Uuid::nil();
        assert!(ProgressEvent::new(id, id, ProgressKind::Completed, Some(80), Some(true)).is_ok());
        assert!(ProgressEvent::new(id, id, ProgressKind::Completed, None, Some(true)).is_err());
        assert!(ProgressEvent::new(id, id, ProgressKind::Completed, Some(101), Some(true)).is_err());
        assert!(ProgressEvent::new(id, id, ProgressKind::Started, Some(1), None).is_err());
    }
}
