//! What the test central does with what gateways send: joins, leaves, site events (folded once each) and link leases.
//!
//! - Join: a site token works once. The answer carries a fresh random credential (only its
//!   SHA-256 is kept), the central public key, the epoch and the site. A gateway that joins
//!   again (new token) gets a new credential; the old one stops working.
//! - Leave: the credential is revoked (every later call but leave answers 401; a repeated leave
//!   is 204) and each lease shrinks to what the gateway consumed, so its unused slots go back.
//! - Events: `(gateway_id, seq)` is the key, kept for accepted events with their `event_id`. An
//!   event accepted before answers `duplicate` (with the same `central_user_id` as the first
//!   time) and is not folded again. A batch with a `seq` accepted before under another
//!   `event_id` (a gateway restored from a backup, reusing numbers) answers 409 `conflict`
//!   naming it, and nothing of the batch is folded. An event rejected before is judged again
//!   (the fault plan decides), so a dead letter that staff retry can be accepted. Otherwise it
//!   is folded and `accepted`:
//!   - `user.created` (`data.user` is the site's user record) makes a central user with a new
//!     central ID (`C` and 12 digits) and `gateway_user_id` = the site ID; the user enters the
//!     change log, so it flows back to every gateway; the answer carries `central_user_id`.
//!     A user record that cannot be read is `rejected`.
//!   - `link.enrolled` (`data.link_id`) adds one to a central link's `used` (a new link version).
//!   - `user.deactivated` (`data.user_id`: a site ID this gateway created, or a central ID)
//!     deactivates that central user.
//!   - Every other kind is stored and accepted as is.
//! - Leases, per (link, gateway), absolute: `granted = min(consumed + want_free, cap − the other
//!   gateways' grants − uses made centrally)`, never below `consumed`. A repeat changes nothing.

use rand::Rng as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::state::{Gateway, Lease, State, StoredEvent};
use crate::sync::seal;
use crate::sync::wire::{
    Change, EventResult, JoinRequest, LeaseRequest, LeaveRequest, Outcome, WireEvent, WireUser,
};

/// Why a request was refused (mapped to problem+json in handlers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
}

/// SHA-256 of a secret, hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl State {
    /// A fresh one-time site token.
    pub fn mint_site_token(&mut self) -> String {
        let token = crate::keys::new_token();
        self.site_tokens.insert(sha256_hex(&token), false);
        token
    }

    /// Spend a site token; returns the new bearer credential.
    pub fn join(&mut self, req: &JoinRequest) -> Result<String, Refusal> {
        let spent = self
            .site_tokens
            .get_mut(&sha256_hex(&req.site_token))
            .ok_or(Refusal::Unauthorized("unknown site token"))?;
        if *spent {
            return Err(Refusal::Unauthorized("this site token was already used"));
        }
        if seal::seal(&req.public_key, "probe").is_err() {
            return Err(Refusal::Invalid(
                "public_key is not a base64url X25519 key".into(),
            ));
        }
        let name = req.gateway_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Refusal::Invalid(
                "gateway_name must be 1 to 200 characters".into(),
            ));
        }
        *spent = true;
        let credential = crate::keys::new_token();
        self.gateways.insert(
            req.gateway_id.clone(),
            Gateway {
                name: name.to_string(),
                public_key: req.public_key.clone(),
                credential_sha256: sha256_hex(&credential),
                active: true,
                software: req.software.clone(),
            },
        );
        Ok(credential)
    }

    /// The gateway a bearer credential belongs to, and whether it is still active.
    pub fn authenticate(&self, credential: &str) -> Option<(String, bool)> {
        let want: [u8; 32] = Sha256::digest(credential.as_bytes()).into();
        self.gateways.iter().find_map(|(id, g)| {
            let have = hex32(&g.credential_sha256)?;
            crate::keys::tags_equal(&want, &have).then_some((id.clone(), g.active))
        })
    }

    /// Revoke a gateway and give back its unused slots.
    pub fn leave(&mut self, gateway: &str, req: &LeaveRequest) {
        if let Some(g) = self.gateways.get_mut(gateway) {
            g.active = false;
        }
        for (link, per_gateway) in &mut self.leases {
            if let Some(lease) = per_gateway.get_mut(gateway) {
                if let Some(c) = req.consumed.iter().find(|c| c.link_id == *link) {
                    lease.consumed = lease.consumed.max(c.consumed);
                }
                lease.granted = lease.consumed;
            }
        }
    }

    /// Answer each event of a batch; `forced` names events to reject (the fault plan) by their
    /// index in the batch and seq. `Conflict` (nothing folded) when a `seq` was accepted before
    /// under another `event_id`.
    pub fn fold_events(
        &mut self,
        gateway: &str,
        events: &[WireEvent],
        forced: impl Fn(usize, u64) -> Option<String>,
        now: OffsetDateTime,
    ) -> Result<Vec<EventResult>, Refusal> {
        let seen = self.gateway_events(gateway);
        for event in events {
            if let Some(first) = seen.accepted.get(&event.seq)
                && first.event.event_id != event.event_id
            {
                return Err(Refusal::Conflict(format!(
                    "event {} was received before with another event_id ({}, {}); this gateway's \
                     database may have been restored from a backup and is reusing sequence numbers",
                    event.seq, first.event.event_id, first.event.kind
                )));
            }
        }
        let mut results = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let seq = event.seq;
            let seen = self.gateway_events(gateway);
            if let Some(first) = seen.accepted.get(&seq) {
                let central_user_id = first.central_user_id.clone();
                seen.duplicates += 1;
                results.push(result(seq, Outcome::Duplicate, None, central_user_id));
                continue;
            }
            let outcome = match forced(index, seq) {
                Some(reason) => Err(reason),
                None => self.fold_one(gateway, event, now),
            };
            let seen = self.gateway_events(gateway);
            match outcome {
                Ok(central_user_id) => {
                    let stored = StoredEvent {
                        event: event.clone(),
                        central_user_id: central_user_id.clone(),
                    };
                    seen.accepted.insert(seq, stored);
                    seen.rejected.remove(&seq);
                    results.push(result(seq, Outcome::Accepted, None, central_user_id));
                }
                Err(reason) => {
                    seen.rejected.insert(seq, reason.clone());
                    results.push(result(seq, Outcome::Rejected, Some(reason), None));
                }
            }
        }
        Ok(results)
    }

    fn fold_one(
        &mut self,
        gateway: &str,
        event: &WireEvent,
        now: OffsetDateTime,
    ) -> Result<Option<String>, String> {
        match event.kind.as_str() {
            "user.created" => self.fold_user_created(gateway, &event.data, now).map(Some),
            "link.enrolled" => {
                let link = event
                    .data
                    .get("link_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(mut record) = self.live("link", link).cloned() {
                    let used = record.get("used").and_then(Value::as_u64).unwrap_or(0);
                    record["used"] = json!(used + 1);
                    self.write("link", link, Some(record));
                }
                Ok(None)
            }
            "user.deactivated" => {
                let site_id = event
                    .data
                    .get("user_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                // A user this gateway created goes by its site ID; any other by its central ID.
                let id = self
                    .gateway_events(gateway)
                    .users
                    .get(site_id)
                    .cloned()
                    .unwrap_or_else(|| site_id.to_string());
                if let Some(mut record) = self.live("user", &id).cloned()
                    && record.get("status").and_then(Value::as_str) != Some("deactivated")
                {
                    record["status"] = json!("deactivated");
                    self.write("user", &id, Some(record));
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    fn fold_user_created(
        &mut self,
        gateway: &str,
        data: &Value,
        now: OffsetDateTime,
    ) -> Result<String, String> {
        let user = data.get("user").unwrap_or(data);
        let text = |key: &str| user.get(key).and_then(Value::as_str).map(str::to_string);
        let site_id = text("id").ok_or("user.created without data.user.id")?;
        if let Some(known) = self.gateway_events(gateway).users.get(&site_id) {
            return Ok(known.clone());
        }
        let name = |nested: &str, flat: &str| {
            user.pointer(nested)
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| text(flat))
        };
        let ids = |key: &str| user.get(key).cloned().unwrap_or_else(|| json!([]));
        let record = json!({
            "gateway_user_id": site_id,
            "given_name": name("/name/given", "given_name").ok_or("user.created without a given name")?,
            "family_name": name("/name/family", "family_name").unwrap_or_default(),
            "email": text("email"),
            "phone": text("phone"),
            "employer": text("employer"),
            "language": text("language"),
            "role": text("role").unwrap_or_else(|| "trainee".into()),
            "access_level": text("access_level").unwrap_or_else(|| "full".into()),
            "status": text("status").unwrap_or_else(|| "active".into()),
            "groups": ids("groups"),
            "sites": ids("sites"),
            "regions": ids("regions"),
            "created_at": user.get("created_at").cloned().unwrap_or_else(|| json!(rfc3339(now))),
        });
        let typed: WireUser =
            serde_json::from_value(record).map_err(|e| format!("the user record cannot be read: {e}"))?;
        let record = serde_json::to_value(typed).map_err(|e| e.to_string())?;
        let central_id = loop {
            let id = format!(
                "C{:012}",
                crate::keys::os_rng().random_range(0..1_000_000_000_000u64)
            );
            if self.get("user", &id).is_none() {
                break id;
            }
        };
        self.write("user", &central_id, Some(record));
        self.gateway_events(gateway)
            .users
            .insert(site_id, central_id.clone());
        Ok(central_id)
    }

    /// Set one gateway's lease on a capped link; returns (granted, cap).
    pub fn lease(&mut self, gateway: &str, req: &LeaseRequest) -> Result<(u32, u32), Refusal> {
        let link_id = req.link_id.to_string();
        let cap = self
            .live("link", &link_id)
            .and_then(|l| l.get("cap"))
            .and_then(Value::as_u64)
            .ok_or_else(|| Refusal::NotFound(format!("no capped link {link_id}")))?;
        let cap = u32::try_from(cap).unwrap_or(u32::MAX);
        let direct = self.direct_uses.get(&req.link_id).copied().unwrap_or(0);
        let per_gateway = self.leases.entry(req.link_id).or_default();
        let others: u32 = per_gateway
            .iter()
            .filter(|(g, _)| **g != gateway)
            .map(|(_, l)| l.granted)
            .sum();
        let available = cap.saturating_sub(others.saturating_add(direct));
        let granted = req
            .consumed
            .saturating_add(req.want_free)
            .min(available)
            .max(req.consumed);
        per_gateway.insert(
            gateway.to_string(),
            Lease {
                consumed: req.consumed,
                granted,
            },
        );
        Ok((granted, cap))
    }
}

/// A central record checked against its wire type and written in its full form (defaults
/// filled in), so both sides digest the same JSON. Users' IDs are central IDs (1 to 64 of
/// `A-Za-z0-9._-`); every other kind's ID is a UUID.
pub fn normalize(kind: &str, id: &str, record: Value) -> Result<Value, Refusal> {
    let id_ok = match kind {
        "user" | "credential" => is_central_id(id),
        _ => Uuid::parse_str(id).is_ok(),
    };
    if !id_ok {
        return Err(Refusal::Invalid(format!("{id:?} is not an ID of a {kind}")));
    }
    let change = json!({ "kind": kind, "id": id, "version": 1, "deleted": false, "record": record });
    let typed: Change =
        serde_json::from_value(change).map_err(|e| Refusal::Invalid(format!("not a {kind} record: {e}")))?;
    let mut full = serde_json::to_value(typed).map_err(|e| Refusal::Invalid(e.to_string()))?;
    Ok(full["record"].take())
}

/// A user's central ID: 1 to 64 of `A-Za-z0-9._-`.
pub fn is_central_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn result(
    seq: u64,
    outcome: Outcome,
    reason: Option<String>,
    central_user_id: Option<String>,
) -> EventResult {
    EventResult {
        seq,
        outcome,
        reason,
        central_user_id,
    }
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
