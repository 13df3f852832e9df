//! User IDs: 10 Crockford base32 symbols with a Luhn mod 32 check symbol, and central IDs kept verbatim.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::DomainError;

/// Crockford base32 alphabet: digits and upper-case letters without I, L, O, U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a gateway-minted ID, check symbol included.
pub const GATEWAY_ID_LEN: usize = 10;
const CENTRAL_ID_MAX: usize = 64;

/// Value of one Crockford symbol, reading the usual confusions forgivingly (I, L → 1; O → 0).
pub fn crockford_value(c: char) -> Option<u32> {
    let c = c.to_ascii_uppercase();
    let c = match c {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u32)
}

/// Luhn mod N check symbol over `payload` values (N = 32).
pub fn luhn32_check(payload: &[u32]) -> u32 {
    const N: u32 = 32;
    let mut factor = 2;
    let mut sum = 0;
    for &code in payload.iter().rev() {
        let addend = factor * code;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / N + addend % N;
    }
    (N - (sum % N)) % N
}

/// A random string of `len` Crockford symbols from the given RNG.
pub fn random_crockford(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect()
}

/// A user's ID: either minted by this gateway (`ABCDEFGHJK`, shown `ABCDE-FGHJK`) or kept as the
/// central system gave it. Stored and compared in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(String);

impl UserId {
    /// Mint a new gateway ID: 9 random symbols and the check symbol.
    pub fn mint(rng: &mut impl Rng) -> UserId {
        let payload: Vec<u32> = (0..GATEWAY_ID_LEN - 1).map(|_| rng.random_range(0..32)).collect();
        let check = luhn32_check(&payload);
        let s = payload
            .iter()
            .chain(std::iter::once(&check))
            .map(|&v| ALPHABET[v as usize] as char)
            .collect();
        UserId(s)
    }

    /// Parse a typed or scanned ID. Gateway-shaped input (10 Crockford symbols once spaces and
    /// hyphens are dropped) is normalised and its check symbol verified; anything else must be a
    /// central ID (1–64 of `A-Za-z0-9._-`), kept verbatim.
    pub fn parse(input: &str) -> Result<UserId, DomainError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DomainError::invalid("user_id", "the ID is empty"));
        }
        let compact: String = trimmed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect();
        if compact.chars().count() == GATEWAY_ID_LEN {
            let values: Option<Vec<u32>> = compact.chars().map(crockford_value).collect();
            if let Some(values) = values {
                let (payload, check) = values.split_at(GATEWAY_ID_LEN - 1);
                let canonical: String = values.iter().map(|&v| ALPHABET[v as usize] as char).collect();
                if luhn32_check(payload) == check[0] {
                    return Ok(UserId(canonical));
                }
                // Alphanumeric-only 10-character input that fails the check is a typo of ours,
                // unless it carries characters we never mint (then it may be a central ID).
                if compact.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(DomainError::IdTypo(display_grouped(&canonical)));
                }
            }
        }
        Self::central(trimmed)
    }

    /// An ID from the central system, kept verbatim.
    pub fn central(input: &str) -> Result<UserId, DomainError> {
        let ok = !input.is_empty()
            && input.len() <= CENTRAL_ID_MAX
            && input
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(UserId(input.to_string()))
        } else {
            Err(DomainError::invalid(
                "user_id",
                "not a user ID: expected 10 symbols like ABCDE-FGHJK",
            ))
        }
    }

    /// The canonical form: the store's key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuild from a stored canonical key without re-checking it.
    pub fn from_canonical(s: String) -> UserId {
        UserId(s)
    }

    /// Whether this ID has the gateway's own shape (and so a valid check symbol).
    pub fn is_gateway_minted(&self) -> bool {
        self.0.len() == GATEWAY_ID_LEN && self.0.bytes().all(|b| ALPHABET.contains(&b)) && {
            let v: Vec<u32> = self.0.chars().filter_map(crockford_value).collect();
            luhn32_check(&v[..GATEWAY_ID_LEN - 1]) == v[GATEWAY_ID_LEN - 1]
        }
    }
}

fn display_grouped(canonical: &str) -> String {
    format!("{}-{}", &canonical[..5], &canonical[5..])
}

impl fmt::Display for UserId {
    /// Gateway IDs show grouped (`ABCDE-FGHJK`); central IDs as they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_gateway_minted() {
            f.write_str(&display_grouped(&self.0))
        } else {
            f.write_str(&self.0)
        }
    }
}

/// Serialized in canonical form (what the store keys on), so every ID round-trips verbatim.
impl Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Reads the canonical form back verbatim; a grouped gateway ID (`ABCDE-FGHJK`) is accepted too.
impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let grouped = s.len() == GATEWAY_ID_LEN + 1 && s.as_bytes().get(5) == Some(&b'-');
        if grouped && let Ok(id) = UserId::parse(&s) {
            return Ok(id);
        }
        UserId::central(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn minted_ids_round_trip_through_display_and_forgiving_input() {
        let mut rng = rng();
        for _ in 0..1000 {
            let id = UserId::mint(&mut rng);
            assert!(id.is_gateway_minted());
            let shown = id.to_string();
            assert_eq!(shown.len(), 11);
            assert_eq!(&shown[5..6], "-");
            assert_eq!(UserId::parse(&shown).unwrap(), id);
            assert_eq!(UserId::parse(&shown.to_lowercase()).unwrap(), id);
            let spaced = format!(" {} {} ", &shown[..5], &shown[6..]);
            assert_eq!(UserId::parse(&spaced).unwrap(), id);
        }
    }

    #[test]
    fn confusable_letters_read_as_digits() {
        let mut rng = rng();
        let id = loop {
            let id = UserId::mint(&mut rng);
            if id.as_str().contains('1') || id.as_str().contains('0') {
                break id;
            }
        };
        let typed = id.as_str().replace('1', "l").replace('0', "O");
        assert_eq!(UserId::parse(&typed).unwrap(), id);
    }

    #[test]
    fn every_single_symbol_typo_is_caught() {
        let mut rng = rng();
        for _ in 0..200 {
            let id = UserId::mint(&mut rng);
            let chars: Vec<char> = id.as_str().chars().collect();
            for pos in 0..GATEWAY_ID_LEN {
                for &sym in ALPHABET.iter() {
                    let sym = sym as char;
                    if sym == chars[pos] {
                        continue;
                    }
                    let mut typo = chars.clone();
                    typo[pos] = sym;
                    let typo: String = typo.into_iter().collect();
                    assert!(
                        matches!(UserId::parse(&typo), Err(DomainError::IdTypo(_))),
                        "typo {typo} of {id} not caught"
                    );
                }
            }
        }
    }

    #[test]
    fn most_neighbour_swaps_are_caught() {
        let mut rng = rng();
        let (mut swaps, mut caught) = (0, 0);
        for _ in 0..500 {
            let id = UserId::mint(&mut rng);
            let chars: Vec<char> = id.as_str().chars().collect();
            for pos in 0..GATEWAY_ID_LEN - 1 {
                if chars[pos] == chars[pos + 1] {
                    continue;
                }
                let mut swapped = chars.clone();
                swapped.swap(pos, pos + 1);
                let s: String = swapped.into_iter().collect();
                swaps += 1;
                if UserId::parse(&s).is_err() {
                    caught += 1;
                }
            }
        }
        assert!(
            caught * 100 >= swaps * 90,
            "only {caught} of {swaps} swaps caught"
        );
    }

    #[test]
    fn central_ids_are_kept_verbatim_and_junk_refused() {
        assert_eq!(UserId::parse("pix.user_42").unwrap().as_str(), "pix.user_42");
        assert_eq!(UserId::parse("user-000123").unwrap().to_string(), "user-000123");
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b/c").is_err());
        assert!(UserId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn serde_round_trips_every_id_verbatim() {
        let minted = UserId::mint(&mut rng());
        for id in [
            minted,
            UserId::central("abcdefghjk").unwrap(),
            UserId::central("user-000123").unwrap(),
        ] {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        }
    }

    #[test]
    fn luhn_matches_known_value() {
        // Payload of all zeros has check 0; a single 1 in the last place doubles to 2 → check 30.
        assert_eq!(luhn32_check(&[0; 9]), 0);
        assert_eq!(luhn32_check(&[0, 0, 0, 0, 0, 0, 0, 0, 1]), 30);
    }
}
