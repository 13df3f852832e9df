//! The seam between check-in and badges: a scanned QR payload → the badge holder, or the reason it is refused.
//!
//! CONTRACTS.md "Badge QR": `SG1` + badge number (10 Crockford symbols) + MAC (10 Crockford
//! symbols), 23 characters. Until the badges capability is merged, only the shape is checked here
//! and every well-formed payload is `badge_unknown` (no badge is stored yet); the merge replaces
//! `resolve_badge`'s body with the badges store's lookup (MAC check → `badge_forged`, retired →
//! `badge_retired`).

use crate::domain::ids::{ALPHABET, UserId};
use crate::store::{ReadTx, StoreError};

use super::Services;

/// The payload's fixed prefix.
pub const PREFIX: &str = "SG1";
/// Total length of a payload.
pub const PAYLOAD_LEN: usize = 23;

/// Why a scanned payload does not check anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadgeRefusal {
    #[error("this is not a sitegate badge (or the scan was cut short): scan again")]
    NotABadge,
    #[error("this badge is not known here")]
    Unknown,
    #[error("this badge's code does not check out: it was not made by this site")]
    Forged,
    #[error("this badge was replaced by a newer one: use the new badge")]
    Retired,
}

/// A payload of the right shape: the badge number and the MAC, upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedBadge {
    pub number: String,
    pub mac: String,
}

/// Check the payload's shape. A scanner types the payload and Enter; surrounding white space is
/// ignored, anything else extra or missing is "not a sitegate badge".
pub fn parse_scan(raw: &str) -> Result<ScannedBadge, BadgeRefusal> {
    let s = raw.trim();
    if s.len() != PAYLOAD_LEN || !s.is_ascii() {
        return Err(BadgeRefusal::NotABadge);
    }
    let upper = s.to_ascii_uppercase();
    let Some(body) = upper.strip_prefix(PREFIX) else {
        return Err(BadgeRefusal::NotABadge);
    };
    // The payload is generated in canonical Crockford: I, L, O, U never appear in it.
    if !body.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(BadgeRefusal::NotABadge);
    }
    let (number, mac) = body.split_at(10);
    Ok(ScannedBadge {
        number: number.to_string(),
        mac: mac.to_string(),
    })
}

/// The active badge's holder. The outer `Result` is storage.
pub fn resolve_badge(
    _svc: &Services,
    _tx: &impl ReadTx,
    raw: &str,
) -> Result<Result<UserId, BadgeRefusal>, StoreError> {
    let _scanned = match parse_scan(raw) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    // Seam: no badge store on this branch yet (see the module comment).
    Ok(Err(BadgeRefusal::Unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_contract_shape_is_a_badge() {
        let good = "SG1ABCDE12345FGHJK67890";
        assert_eq!(parse_scan(good).map(|b| b.number), Ok("ABCDE12345".to_string()));
        assert!(parse_scan(&format!("  {}\n", good.to_lowercase())).is_ok());
        for bad in [
            "",
            "SG1",
            &good[..12],
            &format!("{good}X"),
            "XX1ABCDE12345FGHJK67890",
            "SG1ABCDE12345FGHJK6789U",
            "hello world, this is junk",
        ] {
            assert_eq!(parse_scan(bad), Err(BadgeRefusal::NotABadge), "{bad}");
        }
    }
}
