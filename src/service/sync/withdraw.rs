//! Credentials the central system issued, taken back: a `credential` tombstone (or a credential with neither PIN nor one-time password) stops the PIN it set and the one-time passwords it issued from signing in.
//!
//! The central entry of a credential (`CENTRAL_IDS`, kind `credential`) keeps, as its local key,
//! the holder's user ID and the tag of the PIN that credential set: `USER` or `USER TAG` (64 hex
//! digits). The tag tells a PIN made on site since (which the withdrawal leaves alone) from the
//! central one.

use redb::WriteTransaction;

use crate::domain::ids::UserId;
use crate::store::{self, StoreError};

/// Who issued a one-time password that came in a central credential.
pub const CENTRAL_ISSUER: &str = "central";

fn hex(tag: &[u8; 32]) -> String {
    tag.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The local key of a credential's central entry.
pub fn entry_local(holder: &UserId, pin_tag: Option<&[u8; 32]>) -> String {
    match pin_tag {
        Some(tag) => format!("{} {}", holder.as_str(), hex(tag)),
        None => holder.as_str().to_string(),
    }
}

/// The holder and the central PIN's tag of a credential entry's local key.
pub fn parse_local(local: &str) -> (UserId, Option<[u8; 32]>) {
    let (user, tag) = local.split_once(' ').unwrap_or((local, ""));
    (UserId::from_canonical(user.to_string()), unhex(tag))
}

/// Take back what the credential recorded in `local` gave: the PIN it set, if the holder still
/// has that one, and every one-time password the central system issued to the holder.
pub fn withdraw(tx: &WriteTransaction, local: &str) -> Result<(), StoreError> {
    if local.is_empty() {
        return Ok(());
    }
    let (holder, pin_tag) = parse_local(local);
    if let Some(tag) = pin_tag
        && store::credentials::get_credential(tx, &holder)?.and_then(|c| c.pin_tag) == Some(tag)
    {
        store::credentials::clear_pin(tx, &holder)?;
    }
    for (tag, otp) in store::otps::list_otps(tx)? {
        if otp.user_id == holder && otp.issued_by == CENTRAL_ISSUER {
            store::otps::delete_otp(tx, &tag)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_the_holder_and_the_pin_tag() {
        let user = UserId::central("C100000000001").unwrap();
        let tag = [7u8; 32];
        assert_eq!(
            parse_local(&entry_local(&user, Some(&tag))),
            (user.clone(), Some(tag))
        );
        assert_eq!(parse_local(&entry_local(&user, None)), (user, None));
    }
}
