//! The gateway's central credential file: the bearer credential, its sync secret key and how it trusts the central TLS, kept outside the database (0600), never logged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::seal::KeyPair;

/// The file's name inside the state directory.
pub const FILE: &str = "central-credential.json";

/// How the gateway trusts the central system's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    /// A PEM CA (or self-signed certificate) to trust instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// The leaf certificate's SHA-256, unpadded base64url: only that certificate is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// What a join leaves on disk.
#[derive(Clone, Serialize, Deserialize)]
pub struct CentralCredential {
    pub url: String,
    pub credential: String,
    /// base64url X25519 secret key: opens credentials sealed to this gateway.
    pub gateway_secret_key: String,
    #[serde(default)]
    pub trust: Trust,
}

impl std::fmt::Debug for CentralCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralCredential")
            .field("url", &self.url)
            .field("credential", &"[redacted]")
            .field("trust", &self.trust)
            .finish_non_exhaustive()
    }
}

/// Why the file could not be read or written. Never carries its contents.
#[derive(Debug, thiserror::Error)]
pub enum CredentialFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is damaged ({reason}); join the site again")]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

pub fn path_in(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

impl CentralCredential {
    pub fn key_pair(&self) -> Result<KeyPair, super::seal::SealError> {
        KeyPair::from_secret_b64(&self.gateway_secret_key)
    }

    /// The credential in this state directory, or `None` when the gateway has not joined.
    pub fn load(state_dir: &Path) -> Result<Option<CentralCredential>, CredentialFileError> {
        let path = path_in(state_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CredentialFileError::Read { path, source }),
        };
        let cred: CentralCredential =
            serde_json::from_str(&text).map_err(|e| CredentialFileError::Damaged {
                path: path.clone(),
                reason: format!("line {} column {}", e.line(), e.column()),
            })?;
        cred.key_pair().map_err(|e| CredentialFileError::Damaged {
            path,
            reason: e.to_string(),
        })?;
        Ok(Some(cred))
    }

    /// Write it atomically with mode 0600 (a temp file renamed over the old one).
    pub fn save(&self, state_dir: &Path) -> Result<(), CredentialFileError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = path_in(state_dir);
        let tmp = state_dir.join(format!("{FILE}.tmp"));
        let write = |p: &Path| -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(p)?;
            let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(p, &path)
        };
        write(&tmp).map_err(|source| CredentialFileError::Write {
            path: path.clone(),
            source,
        })
    }

    /// Remove the file (a leave). Missing is fine.
    pub fn remove(state_dir: &Path) -> Result<(), CredentialFileError> {
        let path = path_in(state_dir);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CredentialFileError::Write { path, source }),
        }
    }
}
