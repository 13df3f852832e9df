//! Site events that carry a secret for the central system: the secret is sealed to the central key in the event itself, so it is never in clear in the outbox, a log or the wire.

use redb::WriteTransaction;
use serde_json::json;
use time::OffsetDateTime;

use crate::domain::ids::UserId;
use crate::store::{self, StoreError};
use crate::sync::seal;

/// Queue `user.pin_issued` for a PIN made here. When the gateway has joined a site the PIN goes
/// with it, sealed to the central system's key, so the central system knows it too; standalone,
/// the event only says a PIN was issued.
pub fn pin_issued(
    tx: &WriteTransaction,
    user: &UserId,
    pin: &str,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut payload = json!({ "user_id": user });
    if let Some(site) = store::sync::get_state(tx)?.joined {
        match seal::seal(&site.central_public_key, pin) {
            Ok(sealed) => payload["pin"] = json!(sealed),
            Err(e) => tracing::warn!(error = %e, "the central key cannot seal; the PIN is not sent"),
        }
    }
    store::outbox::append_event(tx, "user.pin_issued", payload, now)
}
