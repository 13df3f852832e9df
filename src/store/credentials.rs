//! Users' credentials (PIN tag, bootstrap code, sealed TOTP secret) and the PIN index that keeps PIN tags unique (CREDENTIALS, PIN_INDEX).

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::StoreError;
use super::codec::{Record, Versioned};
use super::tables::{CREDENTIALS, PIN_INDEX, names};
use super::tx::{ReadTx, get_record};
use crate::domain::ids::UserId;

/// What a staff user signs in with. Tags are keyed hashes, never the PIN or code itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffCredential {
    #[serde(with = "hex_tag")]
    pub pin_tag: Option<[u8; 32]>,
    #[serde(with = "hex_tag")]
    pub bootstrap_tag: Option<[u8; 32]>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub bootstrap_expires_at: Option<OffsetDateTime>,
    /// The confirmed authenticator, if any.
    #[serde(default)]
    pub totp: Option<TotpCredential>,
    /// An enrollment waiting for its first code; the confirmed one (if any) works meanwhile.
    #[serde(default)]
    pub totp_pending: Option<PendingTotp>,
}

/// A TOTP secret sealed with the key file's TOTP key (see `Keys::seal_totp`), never in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpCredential {
    /// Nonce and ciphertext, base64url.
    pub sealed: String,
    /// The last accepted time step: any code at or before it is refused.
    pub last_step: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
}

/// An enrollment shown to the user, to be confirmed by a first code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTotp {
    pub sealed: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
}

impl Record for StaffCredential {
    const NAME: &'static str = "staff_credential";
}

/// The user's credential.
pub fn get_credential(tx: &impl ReadTx, user: &UserId) -> Result<Option<StaffCredential>, StoreError> {
    get_record(tx, CREDENTIALS, names::CREDENTIALS, user.as_str())
}

/// Store the user's credential, keeping PIN_INDEX in step with `pin_tag`: the old tag is
/// released, the new one claimed. `PinTaken` (nothing written) when it is another user's.
pub fn put_credential(
    tx: &WriteTransaction,
    user: &UserId,
    credential: &StaffCredential,
) -> Result<(), StoreError> {
    if let Some(tag) = &credential.pin_tag
        && pin_owner(tx, tag)?.is_some_and(|owner| &owner != user)
    {
        return Err(StoreError::PinTaken);
    }
    let encoded = Versioned::encode(credential, names::CREDENTIALS)?;
    let old_tag = get_credential(tx, user)?.and_then(|c| c.pin_tag);
    {
        let mut index = tx.open_table(PIN_INDEX)?;
        if let Some(old) = old_tag.filter(|old| Some(old) != credential.pin_tag.as_ref()) {
            let ours = index.get(&old)?.is_some_and(|o| o.value() == user.as_str());
            if ours {
                index.remove(&old)?;
            }
        }
        if let Some(tag) = &credential.pin_tag {
            index.insert(tag, user.as_str())?;
        }
    }
    tx.open_table(CREDENTIALS)?.insert(user.as_str(), encoded)?;
    Ok(())
}

/// Give the user a new PIN tag, releasing their old one. `PinTaken` when another user has it.
pub fn set_pin(tx: &WriteTransaction, user: &UserId, tag: [u8; 32]) -> Result<(), StoreError> {
    let mut credential = get_credential(tx, user)?.unwrap_or_default();
    credential.pin_tag = Some(tag);
    put_credential(tx, user, &credential)
}

/// Whose PIN this tag is.
pub fn pin_owner(tx: &impl ReadTx, tag: &[u8; 32]) -> Result<Option<UserId>, StoreError> {
    let index = tx.table(PIN_INDEX)?;
    let owner = index
        .get(tag)?
        .map(|o| UserId::from_canonical(o.value().to_string()));
    Ok(owner)
}

/// Remove the user's PIN (e.g. on deactivation). Returns whether they had one.
pub fn clear_pin(tx: &WriteTransaction, user: &UserId) -> Result<bool, StoreError> {
    let Some(mut credential) = get_credential(tx, user)? else {
        return Ok(false);
    };
    if credential.pin_tag.is_none() {
        return Ok(false);
    }
    credential.pin_tag = None;
    put_credential(tx, user, &credential)?;
    Ok(true)
}

/// Tags as 64 lower-case hex digits in JSON.
mod hex_tag {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(tag: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
        match tag {
            Some(bytes) => s.serialize_some(&bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
        let Some(hex) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let bad = || D::Error::custom("a tag must be 64 hex digits");
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Some(out))
    }
}
