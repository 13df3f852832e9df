//! The gateway's secret key: kept in a 0600 file outside the database, it peppers PIN and code tags.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore, TryRngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot create key file {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("key file {path} is not 64 hexadecimal characters")]
    Malformed { path: PathBuf },
    #[error("key file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen { path: PathBuf, mode: u32 },
}

/// Keys derived from the master key, one per purpose, so a tag of one kind never matches another.
pub struct Keys {
    pin: Zeroizing<[u8; 32]>,
    code: Zeroizing<[u8; 32]>,
    otp: Zeroizing<[u8; 32]>,
    totp: Zeroizing<[u8; 32]>,
    badge: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> ! {
    panic!("HMAC-SHA256 refused a key; every key length is valid")
}

impl Keys {
    /// Derive the purpose keys from 32 bytes of master key.
    pub fn from_master(master: &[u8; 32]) -> Keys {
        Keys {
            pin: Zeroizing::new(hmac(master, &[b"sitegate/pin/v1"])),
            code: Zeroizing::new(hmac(master, &[b"sitegate/code/v1"])),
            otp: Zeroizing::new(hmac(master, &[b"sitegate/otp/v1"])),
            totp: Zeroizing::new(hmac(master, &[b"sitegate/totp-seal/v1"])),
            badge: Zeroizing::new(hmac(master, &[b"sitegate/badge/v1"])),
        }
    }

    /// Keys for tests and benchmarks, from fixed bytes.
    pub fn for_tests() -> Keys {
        Keys::from_master(&[7u8; 32])
    }

    /// Load the key file, creating it (0600, random) on first start.
    pub fn load_or_create(path: &Path) -> Result<Keys, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_mode(path)?;
                let master =
                    parse_hex32(text.trim()).ok_or_else(|| KeyError::Malformed { path: path.into() })?;
                Ok(Keys::from_master(&master))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = Zeroizing::new([0u8; 32]);
                os_rng().fill_bytes(master.as_mut());
                write_new(path, &hex(master.as_ref())).map_err(|source| KeyError::Create {
                    path: path.into(),
                    source,
                })?;
                Ok(Keys::from_master(&master))
            }
            Err(source) => Err(KeyError::Read {
                path: path.into(),
                source,
            }),
        }
    }

    /// Load an existing key file; never creates one (for commands that must not invent a key).
    pub fn load_existing(path: &Path) -> Result<Option<Keys>, KeyError> {
        if !path.exists() {
            return Ok(None);
        }
        Keys::load_or_create(path).map(Some)
    }

    /// The keyed tag under which a PIN is stored: HMAC-SHA256(pin_key, pin).
    pub fn pin_tag(&self, pin: &str) -> [u8; 32] {
        hmac(self.pin.as_ref(), &[pin.as_bytes()])
    }

    /// HMAC-SHA256(badge_key, message): the MAC that signs a badge's QR payload.
    pub fn badge_mac(&self, message: &str) -> [u8; 32] {
        hmac(self.badge.as_ref(), &[message.as_bytes()])
    }

    /// Keys from a fresh random master that is never stored (a sample print without a state directory).
    pub fn throwaway() -> Keys {
        let mut master = Zeroizing::new([0u8; 32]);
        os_rng().fill_bytes(master.as_mut());
        Keys::from_master(&master)
    }

    /// The keyed tag of a one-time code (bootstrap code, one-time password) for one user.
    pub fn code_tag(&self, user_id: &str, code: &str) -> [u8; 32] {
        hmac(self.code.as_ref(), &[user_id.as_bytes(), b"\0", code.as_bytes()])
    }

    /// The keyed tag of a one-time password. Not bound to a user: an OTP may be entered alone,
    /// so it is found by its tag.
    pub fn otp_tag(&self, code: &str) -> [u8; 32] {
        hmac(self.otp.as_ref(), &[code.as_bytes()])
    }

    /// Encrypt a TOTP secret for storage (ChaCha20-Poly1305, random nonce, the user ID as
    /// associated data so a sealed secret cannot be moved to another user). Nonce first.
    pub fn seal_totp(&self, user_id: &str, secret: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.totp.as_ref()));
        let mut nonce = [0u8; 12];
        os_rng().fill_bytes(&mut nonce);
        let sealed = cipher.encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: user_id.as_bytes(),
            },
        );
        // Encryption with a 32-byte key and a 12-byte nonce only fails past 256 GiB of input.
        let mut out = nonce.to_vec();
        out.extend(sealed.unwrap_or_default());
        out
    }

    /// Decrypt a sealed TOTP secret; `None` when it was sealed with another key or for another user.
    pub fn open_totp(&self, user_id: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
        if sealed.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = sealed.split_at(12);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.totp.as_ref()));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: user_id.as_bytes(),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

/// The OS random generator, for every secret (an OS RNG failure is unrecoverable, so it panics).
pub fn os_rng() -> impl CryptoRng {
    rand::rngs::OsRng.unwrap_err()
}

/// SHA-256 of a session token: what the store keeps instead of the token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh 256-bit session token, base64url without padding.
pub fn new_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    os_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time equality of two tags.
pub fn tags_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            path: path.into(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

/// Write a new file readable by its owner only, atomically (temp file + rename).
pub fn write_new(path: &Path, content: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/sitegate.key");
        let a = Keys::load_or_create(&path).unwrap();
        let b = Keys::load_or_create(&path).unwrap();
        assert_eq!(a.pin_tag("123456"), b.pin_tag("123456"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!format!("{a:?}").contains(&hex(&a.pin_tag("x"))));
    }

    #[test]
    fn tags_depend_on_key_and_purpose() {
        let k = Keys::for_tests();
        let other = Keys::from_master(&[8u8; 32]);
        assert_ne!(k.pin_tag("123456"), other.pin_tag("123456"));
        assert_ne!(k.pin_tag("123456"), k.code_tag("", "123456"));
        assert_ne!(k.code_tag("A", "1"), k.code_tag("B", "1"));
        assert_ne!(k.badge_mac("123456"), k.pin_tag("123456"));
        assert_ne!(k.badge_mac("SG1X"), other.badge_mac("SG1X"));
    }

    #[test]
    fn sealed_totp_secrets_open_only_with_the_same_key_and_user() {
        let k = Keys::for_tests();
        let sealed = k.seal_totp("ABCDE-FGHJK", b"12345678901234567890");
        assert!(!sealed.windows(20).any(|w| w == b"12345678901234567890"));
        assert_eq!(
            k.open_totp("ABCDE-FGHJK", &sealed).as_deref().map(Vec::as_slice),
            Some(&b"12345678901234567890"[..])
        );
        assert!(k.open_totp("ZZZZZ-ZZZZZ", &sealed).is_none());
        assert!(
            Keys::from_master(&[8u8; 32])
                .open_totp("ABCDE-FGHJK", &sealed)
                .is_none()
        );
        assert!(k.open_totp("ABCDE-FGHJK", &sealed[..10]).is_none());
        assert_ne!(k.otp_tag("12345678"), k.code_tag("", "12345678"));
    }

    #[test]
    fn open_or_malformed_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "zz").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            Keys::load_or_create(&path),
            Err(KeyError::Malformed { .. })
        ));
        std::fs::write(&path, "ab".repeat(32)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keys::load_or_create(&path),
            Err(KeyError::TooOpen { .. })
        ));
    }
}
