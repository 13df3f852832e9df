//! Devices: pairing requests (bounded), the comparison code, staff decisions, the one-time token hand-over, device authentication.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::security::{security_now, security_peek};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::device::{
    Device, DeviceState, PAIRING_VALID, PairingRequest, comparison_code, device_name, room_name, secret_hash,
    state_str,
};
use crate::keys::{new_token, tags_equal};
use crate::store;

/// What a headset learns when it asks to pair.
#[derive(Debug, Clone)]
pub struct PairingTicket {
    pub device_id: Uuid,
    pub comparison_code: String,
    pub expires_at: OffsetDateTime,
}

/// A staff change to a device.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "change", content = "value", rename_all = "snake_case")]
pub enum DeviceChange {
    Approve,
    Reject,
    Revoke,
    Rename(String),
    /// Place the headset in a room (free text), or take it out (`None`).
    Room(Option<String>),
}

impl Services {
    /// A device asks to pair. Lapsed requests are dropped; past the bound the request is refused.
    pub async fn request_pairing(
        &self,
        req: PairingRequest,
        fingerprint: String,
        source: Option<String>,
    ) -> ServiceResult<PairingTicket> {
        let svc = self.clone();
        self.store
            .write(
                move |tx| -> Result<Result<PairingTicket, ServiceError>, ServiceError> {
                    let now = security_now(&svc, tx)?;
                    let mut live = 0u32;
                    for d in store::devices::list_devices(tx)? {
                        if d.state == DeviceState::Pending {
                            if d.is_live_request(now) {
                                live += 1;
                            } else {
                                store::devices::delete_device(tx, d.id)?;
                            }
                        }
                    }
                    let max = svc.settings.credentials.pairing_max_pending;
                    if live >= max {
                        let mut audit = svc.audit("device.pair_request", "denied", &Actor::SelfService);
                        audit.source = source;
                        audit.detail = Some("pending requests at the limit".into());
                        store::audit::append_audit(tx, &audit)?;
                        return Ok(Err(ServiceError::PairingQueueFull(max)));
                    }
                    let device = Device {
                        id: Uuid::now_v7(),
                        kind: req.kind,
                        comparison_code: comparison_code(&req.key, &fingerprint),
                        key_hash: secret_hash(&req.key),
                        name: req.name,
                        model: req.model,
                        firmware: req.firmware,
                        state: DeviceState::Pending,
                        token_hash: None,
                        room: None,
                        requested_at: now,
                        decided_at: None,
                        decided_by: None,
                        last_seen: None,
                        source: source.clone(),
                    };
                    store::devices::put_device(tx, &device)?;
                    let mut audit = svc.audit("device.pair_request", "success", &Actor::SelfService);
                    audit.subject = Some(device.id.to_string());
                    audit.source = source;
                    audit.detail = Some(format!("{} ({})", device.name, device.model));
                    store::audit::append_audit(tx, &audit)?;
                    Ok(Ok(PairingTicket {
                        device_id: device.id,
                        comparison_code: device.comparison_code,
                        expires_at: now + PAIRING_VALID,
                    }))
                },
            )
            .await?
    }

    /// The device collects its token once staff approved it. Only the holder of the device key can.
    pub async fn claim_pairing(&self, device_id: Uuid, key: String) -> ServiceResult<(Device, String)> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> Result<Result<(Device, String), ServiceError>, ServiceError> {
                let now = security_now(&svc, tx)?;
                let found = store::devices::get_device(tx, device_id)?;
                let presented = secret_hash(&key);
                let key_ok = found
                    .as_ref()
                    .is_some_and(|d| tags_equal(&d.key_hash, &presented));
                let Some(mut device) = found.filter(|_| key_ok) else {
                    return Ok(Err(ServiceError::DeviceUnpaired));
                };
                match device.state {
                    DeviceState::Pending if device.is_live_request(now) => return Ok(Err(ServiceError::PairingPending)),
                    DeviceState::Pending | DeviceState::Rejected => return Ok(Err(ServiceError::PairingRejected)),
                    DeviceState::Revoked => return Ok(Err(ServiceError::DeviceRevoked)),
                    DeviceState::Approved => {}
                }
                if device.token_hash.is_some() {
                    return Err(crate::domain::DomainError::Conflict(
                        "this device already collected its token; to pair it again, revoke it and send a new request"
                            .into(),
                    )
                    .into());
                }
                let token = new_token();
                device.token_hash = Some(secret_hash(&token));
                device.last_seen = Some(now);
                store::devices::put_device(tx, &device)?;
                store::outbox::append_event(
                    tx,
                    "device.paired",
                    json!({ "device_id": device.id, "name": device.name, "model": device.model }),
                    svc.now(),
                )?;
                let mut audit = svc.audit("device.token_issued", "success", &Actor::SelfService);
                audit.subject = Some(device.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(Ok((device, token)))
            })
            .await?
    }

    /// Every device, newest request first; lapsed pending requests are shown as such by `requested_at`.
    pub async fn list_devices(&self) -> ServiceResult<(Vec<Device>, OffsetDateTime)> {
        let svc = self.clone();
        Ok(self
            .store
            .read(move |tx| {
                let mut all = store::devices::list_devices(tx)?;
                all.reverse();
                Ok((all, security_peek(&svc, tx)?))
            })
            .await?)
    }

    /// Staff approve, reject, revoke, rename or place a device. Revoking ends its sessions in the same commit.
    pub async fn change_device(&self, actor: Actor, id: Uuid, change: DeviceChange) -> ServiceResult<Device> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut device = store::devices::get_device(tx, id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "device",
                    id: id.to_string(),
                })?;
                let now = security_now(&svc, tx)?;
                let label = actor.label();
                let event = match &change {
                    DeviceChange::Approve => {
                        device.decide(DeviceState::Approved, &label, now)?;
                        "device.approve"
                    }
                    DeviceChange::Reject => {
                        device.decide(DeviceState::Rejected, &label, now)?;
                        "device.reject"
                    }
                    DeviceChange::Revoke => {
                        device.decide(DeviceState::Revoked, &label, now)?;
                        let ended = store::headset_sessions::delete_sessions_of_device(tx, device.id)?;
                        tracing::info!(device = %device.id, sessions = ended.len(), "device revoked; its sessions ended");
                        "device.revoke"
                    }
                    DeviceChange::Rename(name) => {
                        device.name = device_name(name)?;
                        "device.rename"
                    }
                    DeviceChange::Room(room) => {
                        device.room = room.as_deref().map(room_name).transpose()?;
                        "device.place"
                    }
                };
                store::devices::put_device(tx, &device)?;
                store::outbox::append_event(
                    tx,
                    event,
                    json!({ "device_id": device.id, "state": state_str(device.state), "name": device.name, "room": device.room }),
                    svc.now(),
                )?;
                let mut audit = svc.audit(event, "success", &actor);
                audit.subject = Some(device.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(device)
            })
            .await
    }

    /// The approved device holding this token. Unknown: `DeviceUnpaired`; revoked: `DeviceRevoked`.
    pub async fn authenticate_device(&self, token: &str) -> ServiceResult<Device> {
        let hash = secret_hash(token);
        let device = self
            .store
            .read(move |tx| store::devices::device_by_token(tx, &hash))
            .await?;
        match device {
            None => Err(ServiceError::DeviceUnpaired),
            Some(d) if d.state == DeviceState::Revoked => Err(ServiceError::DeviceRevoked),
            Some(d) if d.state == DeviceState::Approved => Ok(d),
            Some(_) => Err(ServiceError::DeviceUnpaired),
        }
    }
}
