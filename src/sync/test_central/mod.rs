//! The test central: a real HTTP(S) server of the central side of the sync protocol (v1), with its own state, a fault plan per request and a control API, for tests and for trying sitegate by hand (`sitegate-central`).
//!
//! It implements the whole contract of [`crate::sync::central_api`] under `/v1/...` (see
//! `handlers`, `state` and `fold` for the rules it keeps), and the central side's own actions
//! under `/test/...` (see `control`). Tests start it in-process on `127.0.0.1:0`:
//!
//! ```no_run
//! # async fn demo() -> Result<(), sitegate::sync::test_central::TestCentralError> {
//! use sitegate::sync::test_central::{TestCentral, TestCentralOptions};
//! let central = TestCentral::start(TestCentralOptions::default()).await?;
//! let token = central.site_token();
//! central.put("group", "0190c2a0-0000-7000-8000-000000000001", serde_json::json!({"name": "Welders"}))?;
//! // ... let a gateway join with `token`, pinning `central.fingerprint()`, and sync ...
//! let snapshot = central.snapshot();
//! # Ok(()) }
//! ```

mod control;
mod demo;
mod faults;
mod fold;
mod handlers;
mod shared;
mod state;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use uuid::Uuid;

pub use faults::{BadField, Endpoint, Fault, FaultPlan, FaultRule, Fired};
pub use fold::Refusal;
pub use shared::{GatewaySnapshot, LeaseSnapshot, RejectedEvent, Snapshot};
pub use state::{ClearCredential, ClearOtp};

use crate::sync::wire::PAGE_BYTES_MAX;
use crate::tasks::Tasks;
use shared::Shared;
use state::State;

/// How to start a test central.
#[derive(Debug, Clone)]
pub struct TestCentralOptions {
    /// HTTPS with a self-signed certificate (default), or plain HTTP.
    pub tls: bool,
    /// Where to listen; `127.0.0.1:0` by default.
    pub listen: SocketAddr,
    /// Keep the state in this JSON file (loaded at start when it exists, rewritten atomically
    /// after each change). In memory only when `None`.
    pub state_file: Option<PathBuf>,
    /// The site's name in join answers (a new state only).
    pub site_name: String,
}

impl Default for TestCentralOptions {
    fn default() -> Self {
        TestCentralOptions {
            tls: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            site_name: "Test site".into(),
        }
    }
}

/// Why the test central could not start or do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum TestCentralError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the state file {}: {reason}", path.display())]
    State { path: PathBuf, reason: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// A running test central. Dropping it stops the server.
#[derive(Debug)]
pub struct TestCentral {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: Option<tls::CentralTls>,
    tasks: Tasks,
}

impl TestCentral {
    /// Bind, load or make the state and the certificate, and serve until stopped or dropped.
    pub async fn start(options: TestCentralOptions) -> Result<TestCentral, TestCentralError> {
        crate::http::tls::install_crypto_provider();
        let mut state = load_state(&options)?;
        let tls = if options.tls {
            let kept = match &state.tls {
                Some(kept) => kept.clone(),
                None => tls::generate().map_err(TestCentralError::Tls)?,
            };
            state.tls = Some(kept.clone());
            Some(tls::load(&kept).map_err(TestCentralError::Tls)?)
        } else {
            None
        };
        let shared = Arc::new(Shared::new(state, options.state_file.clone()).map_err(TestCentralError::Tls)?);
        shared.change(|_| ()); // write the state file (with its certificate) at once
        let listener = TcpListener::bind(options.listen)
            .await
            .map_err(|source| TestCentralError::Bind {
                addr: options.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| TestCentralError::Bind {
            addr: options.listen,
            source,
        })?;
        let app = router(shared.clone());
        let tasks = Tasks::new();
        let stop = tasks.shutdown();
        let drain = Duration::from_secs(1);
        let config = tls.as_ref().map(|t| t.config.clone());
        tasks.spawn("test_central", async move {
            let served = match config {
                Some(config) => {
                    crate::http::serve::serve_tls(listener, config, app, stop.wait(), drain).await
                }
                None => crate::http::serve::serve_plain(listener, app, stop.wait(), drain).await,
            };
            if let Err(err) = served {
                tracing::warn!(error = %err, "the test central stopped");
            }
        });
        Ok(TestCentral {
            shared,
            addr,
            tls,
            tasks,
        })
    }

    /// `https://127.0.0.1:PORT` (or `http://` without TLS); the protocol is under `/v1`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The certificate's SHA-256 fingerprint (unpadded base64url of the leaf DER); `None` without TLS.
    pub fn fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.fingerprint.clone())
    }

    /// The self-signed certificate (PEM), to trust as a CA instead of pinning.
    pub fn cert_pem(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.cert_pem.clone())
    }

    /// A fresh one-time site token.
    pub fn site_token(&self) -> String {
        self.shared.mint_site_token()
    }

    pub fn site_id(&self) -> Uuid {
        self.shared.read(|s| s.site_id)
    }

    /// The central X25519 public key, base64url (what join answers carry).
    pub fn central_public_key(&self) -> String {
        self.shared.key.public_b64()
    }

    /// Open a secret a gateway sealed to the central key.
    pub fn open(&self, sealed: &crate::sync::wire::Sealed) -> Option<String> {
        self.shared.key.open(sealed).ok().map(|s| s.to_string())
    }

    pub fn epoch(&self) -> String {
        self.shared.read(|s| s.epoch.clone())
    }

    /// Put a record of `kind` (any of `wire::KINDS` but `credential`), checked against its wire
    /// type and kept in its full form; returns the record's new version.
    pub fn put(&self, kind: &str, id: &str, record: Value) -> Result<u64, TestCentralError> {
        Ok(self.shared.put(kind, id, record)?)
    }

    /// Delete a record (a tombstone until the horizon passes it); its new version, or `None`
    /// when there was no live record.
    pub fn delete(&self, kind: &str, id: &str) -> Option<u64> {
        self.shared.delete(kind, id)
    }

    /// A live record as the central system holds it (credentials in clear).
    pub fn record(&self, kind: &str, id: &str) -> Option<Value> {
        self.shared.read(|s| s.live(kind, id).cloned())
    }

    /// Issue a new PIN and/or a one-time password to a user (by central ID); both `None`
    /// withdraws the credential. Each gateway receives them sealed to its own key.
    pub fn set_credential(
        &self,
        user_central_id: &str,
        pin: Option<&str>,
        otp: Option<(&str, OffsetDateTime)>,
    ) -> Result<Option<u64>, TestCentralError> {
        let clear = ClearCredential {
            pin: pin.map(str::to_string),
            otp: otp.map(|(code, expires_at)| ClearOtp {
                code: code.to_string(),
                expires_at,
            }),
        };
        Ok(self.shared.set_credential(user_central_id, clear)?)
    }

    /// Count enrollments through a link made on the central side (they use up its cap).
    pub fn add_direct_uses(&self, link_id: Uuid, uses: u32) -> Result<u64, TestCentralError> {
        Ok(self.shared.add_direct_uses(link_id, uses)?)
    }

    /// Start a new epoch: every gateway's next `changes` answers 410 `refetch`.
    pub fn bump_epoch(&self) -> String {
        self.shared.change(|s| s.bump_epoch())
    }

    /// Move the tombstone horizon to `seq` (`None`: the current sequence), dropping the
    /// tombstones it passes; cursors below it answer 410 `refetch`. Returns the horizon.
    pub fn set_horizon(&self, seq: Option<u64>) -> u64 {
        self.shared.change(|s| {
            let to = seq.unwrap_or(s.seq);
            s.set_horizon(to)
        })
    }

    /// The last central sequence handed out.
    pub fn seq(&self) -> u64 {
        self.shared.read(|s| s.seq)
    }

    /// The fault plan: push rules, read what fired.
    pub fn faults(&self) -> &FaultPlan {
        &self.shared.faults
    }

    /// Set `server_time` ahead (positive) or behind (negative) the real clock.
    pub fn set_clock_offset(&self, offset: time::Duration) {
        self.shared.set_skew(offset);
    }

    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    /// Stop serving: open requests get a second to finish.
    pub async fn stop(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        drop(self);
        tasks.stop(Duration::from_secs(2)).await;
    }
}

impl Drop for TestCentral {
    fn drop(&mut self) {
        self.tasks.begin_shutdown();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/gateways/join", post(handlers::join))
        .route("/v1/gateways/leave", post(handlers::leave))
        .route("/v1/changes", get(handlers::changes))
        .route("/v1/events", post(handlers::events))
        .route("/v1/leases", post(handlers::leases))
        .nest("/test", control::router())
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(PAGE_BYTES_MAX))
        .with_state(shared)
}

fn load_state(options: &TestCentralOptions) -> Result<State, TestCentralError> {
    let fresh = || {
        State::new(
            &options.site_name,
            crate::sync::seal::KeyPair::generate().secret_b64().to_string(),
        )
    };
    let Some(path) = &options.state_file else {
        return Ok(fresh());
    };
    let err = |reason: String| TestCentralError::State {
        path: path.clone(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut state: State = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
            state.reindex();
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(fresh()),
        Err(e) => Err(err(e.to_string())),
    }
}
