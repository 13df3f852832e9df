//! Credential rules: random digit codes, one-time passwords, and TOTP (RFC 6238 via totp-rs) with replay refusal.

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::DomainError;
use super::ids::UserId;

/// Digits of a one-time password.
pub const OTP_DIGITS: u8 = 8;
/// TOTP parameters every authenticator app understands.
pub const TOTP_DIGITS: u8 = 6;
pub const TOTP_STEP_SECS: u64 = 30;
/// Steps accepted either side of now.
pub const TOTP_SKEW: u16 = 1;
/// 160-bit secrets (authenticator apps refuse short ones).
pub const TOTP_SECRET_BYTES: usize = 20;
/// How long an enrollment may wait for its confirming code.
pub const TOTP_ENROLL_VALID: Duration = Duration::minutes(10);

/// Which credential a login carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Pin,
    Totp,
    Otp,
    /// A badge's signed QR payload, scanned.
    Badge,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Pin => "pin",
            CredentialKind::Totp => "totp",
            CredentialKind::Otp => "otp",
            CredentialKind::Badge => "badge",
        }
    }
}

/// `len` random decimal digits.
pub fn random_digits(rng: &mut impl Rng, len: u8) -> String {
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A typed code: spaces and hyphens dropped; `None` unless what is left is `len` ASCII digits.
pub fn typed_digits(raw: &str, len: u8) -> Option<String> {
    let s: String = raw.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect();
    (s.len() == usize::from(len) && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// A one-time password as stored: keyed by its tag in the store, never the code itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePassword {
    pub id: Uuid,
    pub user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who issued it (a staff user's ID or `cli`).
    pub issued_by: String,
}

impl OneTimePassword {
    /// Outstanding: issued and not yet expired at `now` (a used one is deleted).
    pub fn is_outstanding(&self, now: OffsetDateTime) -> bool {
        self.issued_at <= now && now < self.expires_at
    }
}

/// A TOTP secret in clear (20 bytes). Never logged; wiped on drop.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    pub fn random(rng: &mut impl Rng) -> TotpSecret {
        let mut bytes = vec![0u8; TOTP_SECRET_BYTES];
        rng.fill(bytes.as_mut_slice());
        TotpSecret(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding (32 characters for 160 bits).
    pub fn base32(&self) -> String {
        const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = String::new();
        let (mut buf, mut bits) = (0u32, 0u32);
        for &b in &self.0 {
            buf = (buf << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(char::from(A[((buf >> bits) & 31) as usize]));
            }
        }
        if bits > 0 {
            out.push(char::from(A[((buf << (5 - bits)) & 31) as usize]));
        }
        out
    }

    fn totp(&self, digits: u8) -> Result<totp_rs::Totp, DomainError> {
        totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(digits)
            .with_skew(TOTP_SKEW)
            .with_step_duration(TOTP_STEP_SECS)
            .with_secret(self.0.clone())
            .build()
            .map_err(|e| DomainError::invalid("totp", format!("unusable TOTP secret: {e}")))
    }

    /// The code for a Unix time (tests, the reference client).
    pub fn code_at(&self, unix: u64) -> Result<String, DomainError> {
        Ok(self.totp(TOTP_DIGITS)?.generate(unix).to_string())
    }

    /// Check a typed code at Unix time `unix`: ±1 step, and never a step at or before
    /// `last_step` (no replay, and no reopened window after a clock jump back). Every candidate
    /// step is compared in constant time. Returns the accepted step.
    pub fn verify(&self, code: &str, unix: u64, last_step: Option<u64>) -> Option<u64> {
        let code = typed_digits(code, TOTP_DIGITS)?;
        let totp = self.totp(TOTP_DIGITS).ok()?;
        let now_step = unix / TOTP_STEP_SECS;
        let skew = u64::from(TOTP_SKEW);
        let mut found = None;
        for step in now_step.saturating_sub(skew)..=now_step.saturating_add(skew) {
            let expected = totp.generate(step * TOTP_STEP_SECS).to_string();
            let same = constant_time_eq(expected.as_bytes(), code.as_bytes());
            if same && last_step.is_none_or(|last| step > last) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The issuer shown in authenticator apps: the site's own, else `sitegate <site name>`.
pub fn totp_issuer(site_name: &str, custom: Option<&str>) -> String {
    custom.map_or_else(|| format!("sitegate {site_name}"), str::to_string)
}

/// The otpauth URI of CONTRACTS.md:
/// `otpauth://totp/<issuer>:<user ID>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &TotpSecret) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
        percent_encode(account),
        secret.base32()
    )
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Unix seconds of a time (0 before 1970).
pub fn unix_secs(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: secret "12345678901234567890", 8 digits.
    #[test]
    fn rfc6238_appendix_b_vectors() {
        let secret = b"12345678901234567890".to_vec();
        let totp = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(8)
            .with_step_duration(30)
            .with_secret(secret)
            .build()
            .unwrap();
        for (t, want) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(t).to_string(), want, "T = {t}");
        }
        // SHA-256 and SHA-512 rows use 32- and 64-byte seeds.
        let sha256 = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA256)
            .with_digits(8)
            .with_secret(b"12345678901234567890123456789012".to_vec())
            .build()
            .unwrap();
        assert_eq!(sha256.generate(59).to_string(), "46119246");
        assert_eq!(sha256.generate(20_000_000_000).to_string(), "77737706");
        let sha512 = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA512)
            .with_digits(8)
            .with_secret(b"1234567890123456789012345678901234567890123456789012345678901234".to_vec())
            .build()
            .unwrap();
        assert_eq!(sha512.generate(59).to_string(), "90693936");
        assert_eq!(sha512.generate(1_111_111_109).to_string(), "25091201");
    }

    #[test]
    fn verify_accepts_one_step_either_side_and_never_a_step_twice() {
        let s = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let t = 1_234_567_890u64;
        let now_step = t / 30;
        let code = s.code_at(t).unwrap();
        assert_eq!(s.verify(&code, t, None), Some(now_step));
        assert_eq!(s.verify(&code, t, Some(now_step)), None, "replay refused");
        let prev = s.code_at(t - 30).unwrap();
        assert_eq!(s.verify(&prev, t, None), Some(now_step - 1));
        assert_eq!(s.verify(&prev, t, Some(now_step - 1)), None);
        let old = s.code_at(t - 90).unwrap();
        assert_eq!(s.verify(&old, t, None), None, "two steps back is too old");
        assert_eq!(s.verify("12345", t, None), None);
        assert_eq!(s.verify("abcdef", t, None), None);
    }

    #[test]
    fn otpauth_uri_has_the_contract_shape() {
        let s = TotpSecret::from_bytes(vec![0u8; 20]);
        let issuer = totp_issuer("Plant North", None);
        let uri = otpauth_uri(&issuer, "ABCDE-FGHJK", &s);
        assert_eq!(
            uri,
            "otpauth://totp/sitegate%20Plant%20North:ABCDE-FGHJK?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&issuer=sitegate%20Plant%20North&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            TotpSecret::from_bytes(b"12345678901234567890".to_vec())
                .base32()
                .len(),
            32
        );
    }

    #[test]
    fn typed_codes_forgive_spaces_and_hyphens_only() {
        assert_eq!(typed_digits("1234 5678", 8).as_deref(), Some("12345678"));
        assert_eq!(typed_digits("1234-567", 8), None);
        assert_eq!(typed_digits("1234567a", 8), None);
    }
}
