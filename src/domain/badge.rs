//! Badges: the signed QR payload (`SG1` + badge number + MAC), its parsing into distinct outcomes, and the badge record.

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{ALPHABET, UserId, crockford_value, random_crockford};

/// The payload's fixed prefix: "sitegate badge, format 1".
pub const PREFIX: &str = "SG1";
/// Symbols in a badge number.
pub const NUMBER_LEN: usize = 10;
/// Symbols of MAC: 10 Crockford symbols = 50 bits.
pub const MAC_LEN: usize = 10;
/// Characters in a whole payload.
pub const PAYLOAD_LEN: usize = PREFIX.len() + NUMBER_LEN + MAC_LEN;

/// A badge number: 10 random Crockford symbols (50 bits), the key of the badge in the store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BadgeNumber(String);

impl BadgeNumber {
    /// Draw a new badge number (callers pass the OS RNG and re-draw on a clash).
    pub fn random(rng: &mut impl Rng) -> BadgeNumber {
        BadgeNumber(random_crockford(rng, NUMBER_LEN))
    }

    /// A badge number read back from storage or a parsed payload (already canonical).
    pub fn from_canonical(s: String) -> BadgeNumber {
        BadgeNumber(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes the MAC is computed over: `SG1` + number.
    pub fn mac_input(&self) -> String {
        format!("{PREFIX}{}", self.0)
    }
}

impl std::fmt::Display for BadgeNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first 50 bits of a MAC as 10 Crockford symbols.
pub fn mac_symbols(mac: &[u8; 32]) -> String {
    let mut bits: u64 = 0;
    for b in &mac[..7] {
        bits = (bits << 8) | u64::from(*b);
    }
    // 56 bits read; keep the first 50.
    let bits = bits >> 6;
    (0..MAC_LEN)
        .rev()
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// The text a badge's QR carries, given the MAC of [`BadgeNumber::mac_input`] under the badge key.
pub fn payload(number: &BadgeNumber, mac: &[u8; 32]) -> String {
    format!("{PREFIX}{}{}", number.as_str(), mac_symbols(mac))
}

/// A payload split into its parts, its MAC not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedBadge {
    pub number: BadgeNumber,
    /// The 10 MAC symbols as scanned (canonical upper case).
    pub mac: String,
}

/// Split a scanned payload. Scanners may add surrounding whitespace or send lower case; anything
/// else (extra or missing characters, another prefix, symbols outside Crockford) is not a sitegate badge.
pub fn parse_payload(scanned: &str) -> Option<ScannedBadge> {
    let s = scanned.trim();
    if s.len() != PAYLOAD_LEN || !s.is_ascii() {
        return None;
    }
    let (prefix, rest) = s.split_at(PREFIX.len());
    if !prefix.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let mut canonical = String::with_capacity(NUMBER_LEN + MAC_LEN);
    for c in rest.chars() {
        // Only the strict alphabet: a printed payload never holds I, L, O or U.
        let upper = c.to_ascii_uppercase();
        let v = crockford_value(upper)?;
        if ALPHABET[v as usize] as char != upper {
            return None;
        }
        canonical.push(upper);
    }
    let (number, mac) = canonical.split_at(NUMBER_LEN);
    Some(ScannedBadge {
        number: BadgeNumber(number.to_string()),
        mac: mac.to_string(),
    })
}

/// Whether a badge still identifies its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BadgeState {
    Active,
    /// Replaced by a reprint (or its holder deactivated): scanning it is refused.
    Retired,
}

/// A badge as stored: who holds it, which of their badges it is, and whether it is still good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Badge {
    pub number: BadgeNumber,
    pub user_id: UserId,
    /// 1 for the user's first badge, +1 per reprint.
    pub serial: u32,
    pub state: BadgeState,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
}

impl Badge {
    /// The next badge for a user whose current badge (if any) is `previous`.
    pub fn next(
        number: BadgeNumber,
        user_id: UserId,
        previous: Option<&Badge>,
        now: OffsetDateTime,
    ) -> Badge {
        Badge {
            number,
            user_id,
            serial: previous.map_or(1, |b| b.serial.saturating_add(1)),
            state: BadgeState::Active,
            issued_at: now,
            retired_at: None,
        }
    }

    pub fn retire(&mut self, now: OffsetDateTime) {
        self.state = BadgeState::Retired;
        self.retired_at = Some(now);
    }
}

/// Why a scanned badge was refused. Each is its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadgeRefusal {
    #[error("this is not a sitegate badge")]
    NotSitegate,
    #[error("this badge's signature is wrong: it was not made by this site")]
    BadSignature,
    #[error("this badge is not known here")]
    Unknown,
    #[error("this badge was replaced by a newer one")]
    Retired,
    #[error("the badge holder is deactivated")]
    HolderDeactivated,
}

impl BadgeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            BadgeRefusal::NotSitegate => "badge_not_sitegate",
            BadgeRefusal::BadSignature => "badge_forged",
            BadgeRefusal::Unknown => "badge_unknown",
            BadgeRefusal::Retired => "badge_retired",
            BadgeRefusal::HolderDeactivated => "user_deactivated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn number() -> BadgeNumber {
        BadgeNumber::random(&mut rand::rngs::StdRng::seed_from_u64(3))
    }

    #[test]
    fn payload_is_23_alphanumeric_characters_and_parses_back() {
        let n = number();
        let p = payload(&n, &[0xAB; 32]);
        assert_eq!(p.len(), PAYLOAD_LEN);
        assert!(p.starts_with("SG1"));
        assert!(p.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let scanned = parse_payload(&format!(" {} \r\n", p.to_lowercase())).unwrap();
        assert_eq!(scanned.number, n);
        assert_eq!(scanned.mac, mac_symbols(&[0xAB; 32]));
    }

    #[test]
    fn mac_symbols_are_the_first_50_bits() {
        let mut mac = [0u8; 32];
        mac[0] = 0b1000_0100; // first symbol 10000 = 16 = 'G', second starts 100..
        assert_eq!(&mac_symbols(&mac)[..2], "GG");
        mac[6] = 0xFF; // bits 48..55: only 48 and 49 count
        assert!(mac_symbols(&mac).ends_with('3'));
    }

    #[test]
    fn junk_extra_or_missing_characters_are_not_sitegate_badges() {
        let p = payload(&number(), &[1; 32]);
        assert!(parse_payload(&p[..22]).is_none());
        assert!(parse_payload(&format!("{p}0")).is_none());
        assert!(parse_payload(&format!("SG2{}", &p[3..])).is_none());
        assert!(parse_payload(&format!("{}U", &p[..22])).is_none());
        assert!(parse_payload(&format!("{}I", &p[..22])).is_none());
        assert!(parse_payload("").is_none());
        assert!(parse_payload("ÄÖÜSG1").is_none());
    }

    #[test]
    fn a_reprint_raises_the_serial() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let user = UserId::from_canonical("ABCDEFGHJK".into());
        let mut first = Badge::next(number(), user.clone(), None, now);
        assert_eq!(first.serial, 1);
        let second = Badge::next(number(), user, Some(&first), now);
        assert_eq!(second.serial, 2);
        first.retire(now);
        assert_eq!(first.state, BadgeState::Retired);
    }
}
