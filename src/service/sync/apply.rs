//! Applying a page of central changes inside the caller's write transaction: version order, tombstones, quarantine of bad records, local changes not yet accepted laid back on top, and the sweep at the end of a full refetch.

use std::collections::{HashMap, HashSet};

use redb::WriteTransaction;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{convert, withdraw};
use crate::domain::DomainError;
use crate::domain::credentials::OneTimePassword;
use crate::domain::ids::UserId;
use crate::domain::link::AccessLink;
use crate::domain::org::UnitKind;
use crate::domain::user::UserStatus;
use crate::keys::Keys;
use crate::service::users::end_access;
use crate::store::sync::{CentralEntry, Quarantined};
use crate::store::{self, StoreError};
use crate::sync::seal::KeyPair;
use crate::sync::wire::{
    KINDS, RawChange, WireAssignment, WireClass, WireCredential, WireLink, WireModule, WireUnit, WireUser,
};

/// What a page's apply needs besides the transaction.
#[derive(Debug)]
pub struct ApplyContext<'a> {
    pub keys: &'a Keys,
    /// Opens credentials sealed to this gateway.
    pub gateway_key: Option<&'a KeyPair>,
    /// The refetch generation records seen now are marked with.
    pub generation: u64,
    /// A full refetch of a new epoch is under way: what it lists is the central state, taken
    /// whatever its version against what the gateway held from the old epoch.
    pub new_epoch: bool,
    pub now: OffsetDateTime,
}

/// How a page went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub applied: u32,
    /// Older than or equal to what the gateway holds (a repeat, an overlap, a reordered change).
    pub skipped: u32,
    pub quarantined: u32,
}

/// Why one record did not apply: its own fault (quarantined) or the store's (the page aborts).
enum RecordError {
    Invalid(String),
    Store(StoreError),
}

impl From<StoreError> for RecordError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate { field, owner } => {
                RecordError::Invalid(format!("its {field} already belongs to user {owner}"))
            }
            other => RecordError::Store(other),
        }
    }
}

impl From<DomainError> for RecordError {
    fn from(e: DomainError) -> Self {
        RecordError::Invalid(e.to_string())
    }
}

/// Local changes to central-owned records that the central system has not accepted yet, read
/// from the outbox, so that a pulled record does not undo them on screen.
#[derive(Debug, Default)]
pub struct Pending {
    deactivated: HashSet<String>,
    links: HashMap<Uuid, AccessLink>,
    link_active: HashMap<Uuid, bool>,
    edits: super::local_edits::LocalEdits,
}

impl Pending {
    pub fn read(tx: &WriteTransaction) -> Result<Pending, StoreError> {
        let mut p = Pending::default();
        let mut after = 0;
        loop {
            let events = store::outbox::list_events(tx, after, 1000)?;
            let Some(last) = events.last() else { break };
            after = last.seq;
            for e in &events {
                p.edits.note(e);
                let link_id = || {
                    e.payload
                        .get("link_id")
                        .and_then(|v| v.as_str())
                        .and_then(|s| Uuid::parse_str(s).ok())
                };
                match e.kind.as_str() {
                    "user.deactivated" => {
                        if let Some(id) = e.payload.get("user_id").and_then(|v| v.as_str()) {
                            p.deactivated.insert(id.to_string());
                        }
                    }
                    "link.updated" | "link.created" => {
                        if let Some(l) = e
                            .payload
                            .get("link")
                            .and_then(|v| serde_json::from_value::<AccessLink>(v.clone()).ok())
                        {
                            p.link_active.remove(&l.id);
                            p.links.insert(l.id, l);
                        }
                    }
                    "link.deactivated" => {
                        if let Some(id) = link_id() {
                            p.link_active.insert(id, false);
                        }
                    }
                    "link.reactivated" => {
                        if let Some(id) = link_id() {
                            p.link_active.insert(id, true);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(p)
    }
}

fn short_hash(v: &serde_json::Value) -> String {
    let digest = Sha256::digest(crate::sync::digest::canonical(v).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Apply every change of a page, in order. A record that cannot apply is quarantined (with the
/// reason) and the others go on; a store failure aborts, and the caller's transaction with it.
pub fn apply_changes(
    tx: &WriteTransaction,
    ctx: &ApplyContext<'_>,
    pending: &Pending,
    changes: &[serde_json::Value],
) -> Result<PageOutcome, StoreError> {
    let mut out = PageOutcome::default();
    for value in changes {
        let raw: RawChange = match serde_json::from_value(value.clone()) {
            Ok(raw) => raw,
            Err(e) => {
                let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
                let id = value
                    .get("id")
                    .and_then(|k| k.as_str())
                    .map_or_else(|| short_hash(value), str::to_string);
                quarantine(tx, ctx, kind, &id, 0, format!("not a change record: {e}"))?;
                out.quarantined += 1;
                continue;
            }
        };
        if !KINDS.contains(&raw.kind.as_str()) {
            let reason = format!(
                "unknown kind {:?} (this gateway knows {})",
                raw.kind,
                KINDS.join(", ")
            );
            quarantine(tx, ctx, &raw.kind, &raw.id, raw.version, reason)?;
            out.quarantined += 1;
            continue;
        }
        if raw.id.is_empty() || raw.id.len() > 64 {
            quarantine(
                tx,
                ctx,
                &raw.kind,
                &short_hash(value),
                raw.version,
                "id must be 1 to 64 characters".into(),
            )?;
            out.quarantined += 1;
            continue;
        }
        let known = store::sync::get_central(tx, &raw.kind, &raw.id)?;
        if let Some(mut entry) = known.clone()
            && raw.version <= entry.version
            && !(ctx.new_epoch && entry.generation != ctx.generation)
        {
            // Listed, so seen by a refetch (and not swept), even when older than what is held.
            if entry.generation != ctx.generation {
                entry.generation = ctx.generation;
                store::sync::put_central(tx, &raw.kind, &raw.id, &entry)?;
            }
            out.skipped += 1;
            continue;
        }
        let result = if raw.deleted {
            delete(tx, &raw.kind, known.as_ref()).map(|()| String::new())
        } else {
            upsert(tx, ctx, pending, &raw, known.as_ref())
        };
        match result {
            Ok(local) => {
                let entry = CentralEntry {
                    local: if raw.deleted {
                        known.map(|k| k.local).unwrap_or_default()
                    } else {
                        local
                    },
                    version: raw.version,
                    generation: ctx.generation,
                    deleted: raw.deleted,
                };
                store::sync::put_central(tx, &raw.kind, &raw.id, &entry)?;
                store::sync::release_quarantined(tx, &raw.kind, &raw.id)?;
                out.applied += 1;
            }
            Err(RecordError::Invalid(reason)) => {
                quarantine(tx, ctx, &raw.kind, &raw.id, raw.version, reason)?;
                out.quarantined += 1;
            }
            Err(RecordError::Store(e)) => return Err(e),
        }
    }
    Ok(out)
}

fn quarantine(
    tx: &WriteTransaction,
    ctx: &ApplyContext<'_>,
    kind: &str,
    id: &str,
    version: u64,
    reason: String,
) -> Result<(), StoreError> {
    tracing::warn!(kind, id, version, reason = %reason, "sync: a central record was quarantined");
    store::sync::put_quarantined(
        tx,
        &Quarantined {
            kind: kind.chars().take(40).collect(),
            id: id.chars().take(64).collect(),
            version,
            reason,
            at: ctx.now,
        },
    )
}

/// The local ID of a user given by central ID: the mapped one, else the central ID itself.
pub fn resolve_user(tx: &WriteTransaction, central_id: &str) -> Result<UserId, DomainError> {
    match store::sync::get_central(tx, "user", central_id) {
        Ok(Some(e)) if !e.deleted => Ok(UserId::from_canonical(e.local)),
        _ => UserId::central(central_id),
    }
}

fn record<T: serde::de::DeserializeOwned>(raw: &RawChange) -> Result<T, RecordError> {
    let value = raw
        .record
        .clone()
        .ok_or_else(|| RecordError::Invalid("an upsert without a record".into()))?;
    serde_json::from_value(value).map_err(|e| RecordError::Invalid(format!("bad {} record: {e}", raw.kind)))
}

fn unit_kind(kind: &str) -> Option<UnitKind> {
    match kind {
        "group" => Some(UnitKind::Group),
        "site" => Some(UnitKind::Site),
        "region" => Some(UnitKind::Region),
        _ => None,
    }
}

/// Apply one upsert; returns the local key it landed on.
fn upsert(
    tx: &WriteTransaction,
    ctx: &ApplyContext<'_>,
    pending: &Pending,
    raw: &RawChange,
    known: Option<&CentralEntry>,
) -> Result<String, RecordError> {
    let now = ctx.now;
    match raw.kind.as_str() {
        "user" => {
            let w: WireUser = record(raw)?;
            let local = match known.filter(|k| !k.deleted && !k.local.is_empty()) {
                Some(k) => UserId::from_canonical(k.local.clone()),
                None => match w.gateway_user_id.as_deref().map(UserId::parse) {
                    Some(Ok(site_id)) if store::users::get_user(tx, &site_id)?.is_some() => site_id,
                    _ => UserId::central(&raw.id)?,
                },
            };
            let existing = store::users::get_user(tx, &local)?;
            let mut user = convert::user_from_wire(local, &raw.id, raw.version, &w, existing.as_ref(), now)?;
            if pending.deactivated.contains(user.id.as_str()) {
                user.status = UserStatus::Deactivated;
            }
            pending.edits.lay_on_user(&mut user);
            store::users::update_user(tx, &user)?;
            let was_active = existing.as_ref().is_none_or(|u| u.is_active());
            if was_active && !user.is_active() {
                end_access(tx, &user.id)?;
            }
            Ok(user.id.as_str().to_string())
        }
        "group" | "site" | "region" => {
            let w: WireUnit = record(raw)?;
            let id = convert::uuid_id(&raw.id)?;
            let kind = unit_kind(&raw.kind).ok_or_else(|| RecordError::Invalid("not a unit".into()))?;
            store::org::put_unit(tx, &convert::unit_from_wire(kind, id, &w)?)?;
            Ok(id.to_string())
        }
        "module" => {
            let w: WireModule = record(raw)?;
            let id = convert::uuid_id(&raw.id)?;
            store::training::put_module(tx, &convert::module_from_wire(id, &w)?)?;
            Ok(id.to_string())
        }
        "assignment" => {
            let w: WireAssignment = record(raw)?;
            let id = convert::uuid_id(&raw.id)?;
            let a = convert::assignment_from_wire(id, &w, |c| resolve_user(tx, c))?;
            store::training::put_assignment(tx, &a)?;
            Ok(id.to_string())
        }
        "link" => {
            let w: WireLink = record(raw)?;
            let id = convert::uuid_id(&raw.id)?;
            let existing = store::links::get_link(tx, id)?;
            let mut link = convert::link_from_wire(id, &w, existing.as_ref(), now)?;
            if let Some(local) = pending.links.get(&id) {
                link.name.clone_from(&local.name);
                link.description.clone_from(&local.description);
                link.expires_at = local.expires_at;
                link.cap = local.cap;
                link.allocation = local.allocation.clone();
                link.active = local.active;
            }
            if let Some(active) = pending.link_active.get(&id) {
                link.active = *active;
            }
            if let Some(old) = &existing
                && old.token != link.token
            {
                store::links::forget_token(tx, old)?;
            }
            if let Some(other) = store::links::find_link_by_token(tx, &link.token)?
                && other.id != id
            {
                return Err(RecordError::Invalid(format!(
                    "its token is already link {}'s",
                    other.id
                )));
            }
            store::links::put_link(tx, &link)?;
            Ok(id.to_string())
        }
        "class" => {
            let w: WireClass = record(raw)?;
            let id = convert::uuid_id(&raw.id)?;
            let existing = store::classes::get_class(tx, id)?;
            let mut class =
                convert::class_from_wire(id, &w, existing.as_ref(), |c| resolve_user(tx, c), now)?;
            pending.edits.lay_on_class(&mut class);
            store::classes::put_class(tx, &class)?;
            Ok(id.to_string())
        }
        "credential" => {
            let w: WireCredential = record(raw)?;
            apply_credential(tx, ctx, &raw.id, &w, known)
        }
        other => Err(RecordError::Invalid(format!("unknown kind {other:?}"))),
    }
}

fn digits(code: &str, lengths: std::ops::RangeInclusive<usize>, what: &str) -> Result<(), RecordError> {
    if code.bytes().all(|b| b.is_ascii_digit()) && lengths.contains(&code.len()) {
        Ok(())
    } else {
        Err(RecordError::Invalid(format!(
            "the sealed {what} is not {lengths:?} digits"
        )))
    }
}

fn apply_credential(
    tx: &WriteTransaction,
    ctx: &ApplyContext<'_>,
    central_user: &str,
    w: &WireCredential,
    known: Option<&CentralEntry>,
) -> Result<String, RecordError> {
    let user = resolve_user(tx, central_user)?;
    let holder = store::users::get_user(tx, &user)?
        .ok_or_else(|| RecordError::Invalid(format!("no user {central_user} here (yet)")))?;
    let held = known.filter(|k| !k.deleted).map_or("", |k| k.local.as_str());
    if w.pin.is_none() && w.otp.is_none() {
        withdraw::withdraw(tx, held)?;
        return Ok(withdraw::entry_local(&holder.id, None));
    }
    let mut pin_tag = withdraw::parse_local(held).1;
    let key = ctx
        .gateway_key
        .ok_or_else(|| RecordError::Invalid("this gateway has no sync key to open credentials".into()))?;
    let open = |s| key.open(s).map_err(|e| RecordError::Invalid(e.to_string()));
    if let Some(sealed) = &w.pin {
        let pin = open(sealed)?;
        digits(&pin, 6..=10, "PIN")?;
        let tag = ctx.keys.pin_tag(&pin);
        if let Some(owner) = store::credentials::pin_owner(tx, &tag)?
            && owner != holder.id
        {
            return Err(RecordError::Invalid(
                "this PIN is already another user's here; issue a new one centrally".into(),
            ));
        }
        if holder.is_active() {
            store::credentials::set_pin(tx, &holder.id, tag)?;
            pin_tag = Some(tag);
        }
    }
    if let Some(otp) = &w.otp {
        let code = open(&otp.code)?;
        digits(&code, 8..=8, "one-time password")?;
        if otp.expires_at > ctx.now && holder.is_active() {
            let record = OneTimePassword {
                id: Uuid::now_v7(),
                user_id: holder.id.clone(),
                issued_at: ctx.now,
                expires_at: otp.expires_at,
                issued_by: withdraw::CENTRAL_ISSUER.into(),
            };
            store::otps::put_otp(tx, &ctx.keys.otp_tag(&code), &record)?;
        }
    }
    Ok(withdraw::entry_local(&holder.id, pin_tag.as_ref()))
}

/// Apply a tombstone to the local record a central entry points at.
fn delete(tx: &WriteTransaction, kind: &str, known: Option<&CentralEntry>) -> Result<(), RecordError> {
    let Some(entry) = known.filter(|k| !k.deleted && !k.local.is_empty()) else {
        return Ok(());
    };
    let uuid = || Uuid::parse_str(&entry.local).map_err(|_| RecordError::Invalid("bad local key".into()));
    match kind {
        "user" => {
            let id = UserId::from_canonical(entry.local.clone());
            end_access(tx, &id)?;
            store::users::remove_user(tx, &id)?;
        }
        "group" | "site" | "region" => {
            store::org::remove_unit(tx, uuid()?)?;
        }
        "module" => {
            store::training::remove_module(tx, uuid()?)?;
        }
        "assignment" => {
            store::training::remove_assignment(tx, uuid()?)?;
        }
        "link" => {
            store::links::remove_link(tx, uuid()?)?;
        }
        "class" => {
            store::classes::remove_class(tx, uuid()?)?;
        }
        "credential" => withdraw::withdraw(tx, &entry.local)?,
        _ => {}
    }
    Ok(())
}

/// At the end of a full refetch: every central record the refetch did not send is gone there,
/// so it goes here too (its tombstone may have passed the central horizon).
pub fn sweep_unseen(tx: &WriteTransaction, generation: u64) -> Result<u32, StoreError> {
    let mut removed = 0;
    for kind in KINDS {
        for (id, entry) in store::sync::central_of_kind(tx, kind)? {
            if entry.generation >= generation {
                continue;
            }
            if !entry.deleted {
                match delete(tx, kind, Some(&entry)) {
                    Ok(()) => removed += 1,
                    Err(RecordError::Store(e)) => return Err(e),
                    Err(RecordError::Invalid(_)) => {}
                }
            }
            store::sync::remove_central(tx, kind, &id)?;
        }
    }
    Ok(removed)
}
