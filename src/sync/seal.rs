//! Sealing secrets to the other side's key (libsodium `crypto_box_seal`: X25519 + XSalsa20-Poly1305), and the gateway's sync key pair.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crypto_box::{PublicKey, SecretKey};
use rand::RngCore;
use zeroize::Zeroizing;

use super::wire::Sealed;

/// Why a secret could not be sealed or opened. Never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the {0} is not a base64url X25519 key of 32 bytes")]
    BadKey(&'static str),
    #[error("a sealed secret is not base64url")]
    BadEncoding,
    #[error("a sealed secret could not be opened (wrong key or damaged)")]
    Unopenable,
    #[error("a sealed secret is not UTF-8 text")]
    NotText,
}

/// An X25519 key pair. The secret half lives only in the central credential file (0600).
#[derive(Clone)]
pub struct KeyPair {
    secret: SecretKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public_b64())
            .finish()
    }
}

impl KeyPair {
    /// A fresh pair from the OS random generator.
    pub fn generate() -> KeyPair {
        let mut bytes = Zeroizing::new([0u8; 32]);
        crate::keys::os_rng().fill_bytes(&mut bytes[..]);
        KeyPair {
            secret: SecretKey::from(*bytes),
        }
    }

    /// The pair whose secret half this base64url text holds.
    pub fn from_secret_b64(text: &str) -> Result<KeyPair, SealError> {
        let bytes = key_bytes(text, "secret key")?;
        Ok(KeyPair {
            secret: SecretKey::from(*bytes),
        })
    }

    pub fn secret_b64(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.secret.to_bytes()))
    }

    pub fn public_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.public_key().as_bytes())
    }

    /// Open a secret sealed to this pair's public key.
    pub fn open(&self, sealed: &Sealed) -> Result<Zeroizing<String>, SealError> {
        let boxed = URL_SAFE_NO_PAD
            .decode(sealed.0.as_bytes())
            .map_err(|_| SealError::BadEncoding)?;
        let plain = Zeroizing::new(self.secret.unseal(&boxed).map_err(|_| SealError::Unopenable)?);
        let text = std::str::from_utf8(&plain).map_err(|_| SealError::NotText)?;
        Ok(Zeroizing::new(text.to_string()))
    }
}

fn key_bytes(text: &str, what: &'static str) -> Result<Zeroizing<[u8; 32]>, SealError> {
    let raw = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(text.trim().as_bytes())
            .map_err(|_| SealError::BadKey(what))?,
    );
    let arr: [u8; 32] = raw.as_slice().try_into().map_err(|_| SealError::BadKey(what))?;
    Ok(Zeroizing::new(arr))
}

/// Seal `secret` to the holder of the public key `to` (base64url).
pub fn seal(to: &str, secret: &str) -> Result<Sealed, SealError> {
    let key = PublicKey::from(*key_bytes(to, "public key")?);
    let boxed = key
        .seal(&mut crypto_box::aead::OsRng, secret.as_bytes())
        .map_err(|_| SealError::Unopenable)?;
    Ok(Sealed(URL_SAFE_NO_PAD.encode(boxed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_pin_opens_only_with_the_right_key() {
        let gateway = KeyPair::generate();
        let other = KeyPair::generate();
        let sealed = seal(&gateway.public_b64(), "493817").unwrap();
        assert!(!sealed.0.contains("493817"));
        assert_eq!(gateway.open(&sealed).unwrap().as_str(), "493817");
        assert_eq!(other.open(&sealed), Err(SealError::Unopenable));
        let again = KeyPair::from_secret_b64(&gateway.secret_b64()).unwrap();
        assert_eq!(again.open(&sealed).unwrap().as_str(), "493817");
    }

    #[test]
    fn bad_keys_and_boxes_are_errors_not_panics() {
        assert_eq!(seal("short", "x"), Err(SealError::BadKey("public key")));
        let pair = KeyPair::generate();
        assert_eq!(pair.open(&Sealed("!!".into())), Err(SealError::BadEncoding));
        assert_eq!(pair.open(&Sealed("AAAA".into())), Err(SealError::Unopenable));
    }
}
