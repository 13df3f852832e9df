//! The reference headset client: speaks only the public HTTPS API, pins the gateway's certificate from pairing, keeps its state in a small file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngCore;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::device::comparison_code;
use crate::http::tls::Fingerprint;

/// The state file's name inside the client directory.
pub const STATE_FILE: &str = "headset.json";
/// Recent users kept for the pick list.
const RECENT_MAX: usize = 8;

/// What the client keeps between runs (mode 0600: it holds the device token).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientState {
    /// `https://host:port`
    pub base_url: String,
    /// The pinned certificate fingerprint (base64url SHA-256).
    pub fingerprint: String,
    pub device_id: Option<Uuid>,
    pub device_key: String,
    pub device_token: Option<String>,
    pub session_token: Option<String>,
    pub user_id: Option<String>,
    /// Most recent first.
    pub recent_users: Vec<String>,
}

/// A failed client call: the gateway's problem `code` when it answered one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ClientError {
    pub message: String,
    pub status: Option<u16>,
    pub code: Option<String>,
}

impl ClientError {
    fn local(message: impl Into<String>) -> ClientError {
        ClientError {
            message: message.into(),
            status: None,
            code: None,
        }
    }
}

/// Accepts exactly one certificate, by fingerprint; on first contact (pairing) records the one seen.
#[derive(Debug)]
struct Pinned {
    expected: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of_der(end_entity.as_ref()).base64url();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(fp.clone());
        }
        match &self.expected {
            Some(want) if *want != fp => Err(rustls::Error::General(format!(
                "certificate fingerprint {fp} is not the pinned {want}"
            ))),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn http_client(
    expected: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
) -> Result<reqwest::Client, ClientError> {
    crate::http::tls::install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::local(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            expected,
            seen,
            provider,
        }))
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| ClientError::local(e.to_string()))
}

/// A headset's view of the gateway.
#[derive(Debug)]
pub struct HeadsetClient {
    pub state: ClientState,
    dir: PathBuf,
    http: reqwest::Client,
}

/// What `pair` learned: the code this client computed and the one the gateway sent.
#[derive(Debug, Clone)]
pub struct PairStarted {
    pub device_id: Uuid,
    /// Computed here from the device key and the certificate this client saw: show it.
    pub comparison_code: String,
    /// What the gateway says staff see; a mismatch means someone is in between.
    pub gateway_code: String,
    pub fingerprint: String,
}

/// Credentials a user enters on the headset.
#[derive(Debug, Clone)]
pub enum LoginWith {
    Pin { user_id: String, pin: String },
    Totp { user_id: String, code: String },
    Otp { code: String },
    PinOnly { pin: String },
}

async fn answer(res: Result<reqwest::Response, reqwest::Error>) -> Result<(u16, Value), ClientError> {
    let res = res.map_err(|e| ClientError::local(format!("cannot reach the gateway: {e}")))?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status >= 400 {
        return Err(ClientError {
            message: body["detail"]
                .as_str()
                .or(body["code"].as_str())
                .unwrap_or("the gateway refused")
                .to_string(),
            status: Some(status),
            code: body["code"].as_str().map(str::to_string),
        });
    }
    Ok((status, body))
}

impl HeadsetClient {
    fn state_path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Load a paired client's state.
    pub fn load(dir: &Path) -> Result<HeadsetClient, ClientError> {
        let path = HeadsetClient::state_path(dir);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ClientError::local(format!(
                "no headset state in {} ({e}): run `sitegate headset pair` first",
                path.display()
            ))
        })?;
        let state: ClientState = serde_json::from_str(&text)
            .map_err(|e| ClientError::local(format!("{}: {e}", path.display())))?;
        let http = http_client(Some(state.fingerprint.clone()), Arc::new(Mutex::new(None)))?;
        Ok(HeadsetClient {
            state,
            dir: dir.to_path_buf(),
            http,
        })
    }

    fn save(&self) -> Result<(), ClientError> {
        let text =
            serde_json::to_string_pretty(&self.state).map_err(|e| ClientError::local(e.to_string()))?;
        crate::keys::write_new(&HeadsetClient::state_path(&self.dir), &text)
            .map_err(|e| ClientError::local(format!("cannot save {}: {e}", self.dir.display())))
    }

    /// Ask to pair: a fresh device key, the certificate recorded (or checked against
    /// `expect_fingerprint`, e.g. from mDNS or a QR), and the comparison code computed here.
    pub async fn pair(
        dir: &Path,
        base_url: &str,
        name: &str,
        model: &str,
        firmware: &str,
        expect_fingerprint: Option<String>,
    ) -> Result<(HeadsetClient, PairStarted), ClientError> {
        use base64::Engine;
        let seen = Arc::new(Mutex::new(None));
        let http = http_client(expect_fingerprint, seen.clone())?;
        let mut key = [0u8; 32];
        crate::keys::os_rng().fill_bytes(&mut key);
        let device_key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
        let base_url = base_url.trim_end_matches('/').to_string();
        let (_, body) = answer(
            http.post(format!("{base_url}/api/devices/pair"))
                .json(&json!({"name": name, "model": model, "firmware": firmware, "device_key": device_key}))
                .send()
                .await,
        )
        .await?;
        let fingerprint = seen
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| ClientError::local("no certificate was seen"))?;
        let device_id = body["device_id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| ClientError::local("the gateway's answer has no device_id"))?;
        let started = PairStarted {
            device_id,
            comparison_code: comparison_code(&device_key, &fingerprint),
            gateway_code: body["comparison_code"].as_str().unwrap_or_default().to_string(),
            fingerprint: fingerprint.clone(),
        };
        let client = HeadsetClient {
            state: ClientState {
                base_url,
                fingerprint: fingerprint.clone(),
                device_id: Some(device_id),
                device_key,
                ..Default::default()
            },
            dir: dir.to_path_buf(),
            http: http_client(Some(fingerprint), Arc::new(Mutex::new(None)))?,
        };
        client.save()?;
        Ok((client, started))
    }

    /// Wait for staff to approve, then collect and keep the device token.
    pub async fn wait_for_approval(&mut self, timeout: Duration) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let device_id = self
            .state
            .device_id
            .ok_or_else(|| ClientError::local("not paired"))?;
        loop {
            let res = answer(
                self.http
                    .post(self.url("/api/devices/pair/claim"))
                    .json(&json!({"device_id": device_id, "device_key": self.state.device_key}))
                    .send()
                    .await,
            )
            .await;
            match res {
                Ok((_, body)) => {
                    self.state.device_token = body["device_token"].as_str().map(str::to_string);
                    return self.save();
                }
                Err(e)
                    if e.code.as_deref() == Some("pairing_pending")
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.state.base_url, path)
    }

    fn device_token(&self) -> Result<&str, ClientError> {
        self.state
            .device_token
            .as_deref()
            .ok_or_else(|| ClientError::local("this headset has no device token yet: finish pairing"))
    }

    fn session(&self) -> Result<&str, ClientError> {
        self.state
            .session_token
            .as_deref()
            .ok_or_else(|| ClientError::local("nobody is logged in on this headset"))
    }

    /// The participants of the class open in this headset's room.
    pub async fn roster(&self) -> Result<Value, ClientError> {
        let (_, body) = answer(
            self.http
                .get(self.url("/api/headset/roster"))
                .bearer_auth(self.device_token()?)
                .send()
                .await,
        )
        .await?;
        Ok(body)
    }

    /// Log a user in; keeps the session token and the user among the recent ones.
    pub async fn login(&mut self, with: LoginWith) -> Result<Value, ClientError> {
        let body = match &with {
            LoginWith::Pin { user_id, pin } => json!({"user_id": user_id, "pin": pin}),
            LoginWith::Totp { user_id, code } => json!({"user_id": user_id, "totp": code}),
            LoginWith::Otp { code } => json!({"otp": code}),
            LoginWith::PinOnly { pin } => json!({"pin": pin}),
        };
        let (_, out) = answer(
            self.http
                .post(self.url("/api/headset/login"))
                .bearer_auth(self.device_token()?)
                .json(&body)
                .send()
                .await,
        )
        .await?;
        self.state.session_token = out["token"].as_str().map(str::to_string);
        let user = out["user"]["id"].as_str().map(str::to_string);
        if let Some(u) = &user {
            self.state.recent_users.retain(|r| r != u);
            self.state.recent_users.insert(0, u.clone());
            self.state.recent_users.truncate(RECENT_MAX);
        }
        self.state.user_id = user;
        self.save()?;
        Ok(out)
    }

    /// Report a progress event; `event_id` defaults to a fresh UUIDv7 (send the same one to retry).
    pub async fn report(
        &self,
        module_id: Uuid,
        kind: &str,
        score: Option<u8>,
        passed: Option<bool>,
        event_id: Option<Uuid>,
    ) -> Result<Value, ClientError> {
        let mut body = json!({
            "event_id": event_id.unwrap_or_else(Uuid::now_v7),
            "module_id": module_id,
            "kind": kind,
        });
        if let Some(s) = score {
            body["score"] = json!(s);
        }
        if let Some(p) = passed {
            body["passed"] = json!(p);
        }
        let (_, out) = answer(
            self.http
                .post(self.url("/api/headset/progress"))
                .bearer_auth(self.device_token()?)
                .header(crate::http::headset::SESSION_HEADER, self.session()?)
                .json(&body)
                .send()
                .await,
        )
        .await?;
        Ok(out)
    }

    /// The logged-in user and their training now.
    pub async fn me(&self) -> Result<Value, ClientError> {
        let (_, out) = answer(
            self.http
                .get(self.url("/api/headset/me"))
                .bearer_auth(self.device_token()?)
                .header(crate::http::headset::SESSION_HEADER, self.session()?)
                .send()
                .await,
        )
        .await?;
        Ok(out)
    }

    /// End the session (forgotten here even when the gateway had already ended it).
    pub async fn logout(&mut self) -> Result<(), ClientError> {
        let res = answer(
            self.http
                .post(self.url("/api/headset/logout"))
                .bearer_auth(self.device_token()?)
                .header(crate::http::headset::SESSION_HEADER, self.session()?)
                .json(&json!({}))
                .send()
                .await,
        )
        .await;
        self.state.session_token = None;
        self.state.user_id = None;
        self.save()?;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.status == Some(401) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
