//! Joining a site with a one-time site token (the credential goes to a 0600 file, never the database or a log) and leaving it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::service::{Actor, ServiceError, ServiceResult, Services};
use crate::store;
use crate::sync::client::{CentralClient, Timeouts};
use crate::sync::credential::{CentralCredential, Trust};
use crate::sync::seal::{self, KeyPair};
use crate::sync::wire::{JoinRequest, LeaveRequest, LinkConsumed};

/// What a technician gives to join.
#[derive(Clone, Serialize, Deserialize)]
pub struct JoinInput {
    pub url: String,
    pub site_token: String,
    #[serde(default)]
    pub trust: Trust,
}

impl std::fmt::Debug for JoinInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinInput")
            .field("url", &self.url)
            .field("site_token", &"[redacted]")
            .field("trust", &self.trust)
            .finish()
    }
}

/// The site joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    pub site_id: uuid::Uuid,
    pub site_name: String,
    pub url: String,
}

/// How a leave went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Left {
    /// The central system heard of it (else its credential stays valid there until revoked).
    pub central_told: bool,
    pub note: Option<String>,
}

fn file_err(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::CentralFile(e.to_string())
}

impl Services {
    /// Join the central system's site: a fresh sync key pair, the one-time token exchanged for
    /// this gateway's credential, the credential file written (0600), the state recorded. The
    /// next sync cycle pulls everything.
    pub async fn join_central(
        &self,
        actor: Actor,
        state_dir: &Path,
        input: JoinInput,
    ) -> ServiceResult<Joined> {
        let token = input.site_token.trim().to_string();
        if token.is_empty() || token.len() > 512 {
            return Err(DomainError::invalid("site_token", "must be 1 to 512 characters").into());
        }
        let state = self.sync_position().await?;
        let have_file = CentralCredential::load(state_dir).map_err(file_err)?.is_some();
        if let (Some(site), true) = (&state.joined, have_file)
            && !state.credential_refused
        {
            return Err(DomainError::Conflict(format!(
                "this gateway has already joined site {:?} at {}; `sitegate central leave` first",
                site.site_name, site.url
            ))
            .into());
        }
        let client = CentralClient::new(&input.url, &input.trust, Timeouts::default())?;
        let pair = KeyPair::generate();
        let gateway_id = self.store.gateway_id()?;
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        let answer = client
            .join(&JoinRequest {
                site_token: token,
                gateway_id: gateway_id.clone(),
                gateway_name: format!("{} ({})", self.settings.site_name, host.trim()),
                public_key: pair.public_b64(),
                software: env!("CARGO_PKG_VERSION").into(),
            })
            .await?;
        if answer.credential.is_empty() || answer.credential.len() > 1024 {
            return Err(
                DomainError::invalid("credential", "the central system sent no usable credential").into(),
            );
        }
        seal::seal(&answer.central_public_key, "check")
            .map_err(|e| DomainError::invalid("central_public_key", e.to_string()))?;
        CentralCredential {
            url: input.url.trim_end_matches('/').to_string(),
            credential: answer.credential.clone(),
            gateway_secret_key: pair.secret_b64().to_string(),
            trust: input.trust.clone(),
        }
        .save(state_dir)
        .map_err(file_err)?;
        let joined = Joined {
            site_id: answer.site_id,
            site_name: answer.site_name.clone(),
            url: input.url.trim_end_matches('/').to_string(),
        };
        self.record_join(actor, joined.url.clone(), answer).await?;
        Ok(joined)
    }

    /// Leave the site: tell the central system (unused link slots go back), remove the
    /// credential file, forget the sync state. Local data and the outbox stay.
    pub async fn leave_central(&self, actor: Actor, state_dir: &Path) -> ServiceResult<Left> {
        let cred = CentralCredential::load(state_dir).map_err(file_err)?;
        let state = self.sync_position().await?;
        if cred.is_none() && state.joined.is_none() {
            return Err(DomainError::Conflict("this gateway has not joined a site".into()).into());
        }
        let mut left = Left {
            central_told: false,
            note: None,
        };
        if let Some(cred) = &cred {
            let consumed = self
                .store
                .read(store::sync::list_leases)
                .await?
                .into_iter()
                .map(|(link_id, l)| LinkConsumed {
                    link_id,
                    consumed: l.consumed,
                })
                .collect();
            let req = LeaveRequest {
                gateway_id: self.store.gateway_id()?,
                consumed,
            };
            let told = match CentralClient::new(&cred.url, &cred.trust, Timeouts::default()) {
                Ok(c) => c.with_credential(cred.credential.clone()).leave(&req).await,
                Err(e) => Err(e),
            };
            match told {
                Ok(()) => left.central_told = true,
                Err(e) => {
                    left.note = Some(format!(
                        "the central system was not told ({e}); revoke this gateway there"
                    ))
                }
            }
        }
        CentralCredential::remove(state_dir).map_err(file_err)?;
        self.record_leave(actor).await?;
        Ok(left)
    }
}
