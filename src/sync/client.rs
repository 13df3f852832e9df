//! The HTTP client of the central system's v1 endpoints: TLS trust (system roots, a pinned CA or a pinned fingerprint), bounded bodies, and errors sorted by what the sync loop must do.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::de::DeserializeOwned;

use super::credential::Trust;
use super::wire::{
    CentralProblem, ChangesPage, EventBatch, EventResults, JoinAnswer, JoinRequest, LeaseGrant, LeaseRequest,
    LeaveRequest, PAGE_BYTES_MAX, V1,
};

/// What went wrong talking to the central system, sorted by what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CentralError {
    /// Connection refused or reset, DNS, TLS, timeout: retry with backoff.
    #[error("the central system cannot be reached: {0}")]
    Unreachable(String),
    /// 5xx or 429: retry with backoff, not before `retry_after`.
    #[error("the central system is unavailable (HTTP {status})")]
    Unavailable {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// 401: the credential was refused; sync stops until the gateway joins again.
    #[error("this gateway's credential was refused; join again")]
    Unauthorized,
    /// 401 on join: the site token was refused.
    #[error("the central system refused the site token (used already, expired or wrong); ask for a new one")]
    SiteTokenRefused,
    /// 410: start the pull again from no cursor in this epoch.
    #[error("the central system asks for a full refetch")]
    Refetch { epoch: Option<String> },
    /// Another 4xx: this request as it is will never be accepted.
    #[error("the central system refused the request (HTTP {status}): {detail}")]
    Rejected { status: u16, detail: String },
    /// An answer that breaks the protocol (not JSON, wrong shape, over the size limit).
    #[error("the central system's answer is not valid: {0}")]
    BadAnswer(String),
}

impl CentralError {
    /// Worth retrying the same request later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CentralError::Unreachable(_) | CentralError::Unavailable { .. } | CentralError::BadAnswer(_)
        )
    }
}

/// Timeouts of one client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// For each request, on top of any long-poll wait it asks for.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

/// A client of one central system.
#[derive(Debug, Clone)]
pub struct CentralClient {
    http: reqwest::Client,
    base: String,
    credential: Option<String>,
    timeouts: Timeouts,
}

/// Accepts exactly the certificate with this SHA-256.
#[derive(Debug)]
struct PinnedLeaf {
    fingerprint: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedLeaf {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if crate::http::tls::Fingerprint::of_der(end_entity).0 == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the central system's certificate does not match the pinned fingerprint".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Parse a pinned fingerprint: unpadded base64url (43 characters) or colon hex.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let t = text.trim();
    let bytes = if t.contains(':') {
        t.split(':')
            .map(|h| u8::from_str_radix(h, 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| "a colon-hex fingerprint has a pair that is not hex".to_string())?
    } else {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t.trim_end_matches('='))
            .map_err(|_| "a fingerprint must be base64url or colon hex".to_string())?
    };
    bytes
        .try_into()
        .map_err(|_| "a fingerprint must be a SHA-256 (32 bytes)".to_string())
}

impl CentralClient {
    /// A client of the central system at `url` (`https://…`; plain `http://` only to loopback).
    pub fn new(url: &str, trust: &Trust, timeouts: Timeouts) -> Result<CentralClient, CentralError> {
        let base = url.trim_end_matches('/').to_string();
        let parsed =
            reqwest::Url::parse(&base).map_err(|e| CentralError::BadAnswer(format!("central URL: {e}")))?;
        let host = parsed.host_str().unwrap_or("");
        let loopback = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(CentralError::Rejected {
                    status: 0,
                    detail: "the central URL must be https:// (http:// only to loopback, for tests)".into(),
                });
            }
        }
        crate::http::tls::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("sitegate/", env!("CARGO_PKG_VERSION")));
        let local = |e: String| CentralError::Rejected { status: 0, detail: e };
        if let Some(fp) = &trust.fingerprint {
            let fingerprint = parse_fingerprint(fp).map_err(local)?;
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| local(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedLeaf {
                    fingerprint,
                    provider,
                }))
                .with_no_client_auth();
            builder = builder.use_preconfigured_tls(config);
        } else if let Some(pem) = &trust.ca_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| local(format!("the pinned CA is not a PEM certificate: {e}")))?;
            builder = builder.tls_built_in_root_certs(false).add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| local(e.to_string()))?;
        Ok(CentralClient {
            http,
            base,
            credential: None,
            timeouts,
        })
    }

    /// The same client, sending this bearer credential.
    pub fn with_credential(mut self, credential: String) -> CentralClient {
        self.credential = Some(credential);
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{V1}{path}", self.base)
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credential {
            Some(c) => req.bearer_auth(c),
            None => req,
        }
    }

    pub async fn join(&self, req: &JoinRequest) -> Result<JoinAnswer, CentralError> {
        let r = self
            .http
            .post(self.url("/gateways/join"))
            .json(req)
            .timeout(self.timeouts.request);
        let res = r.send().await;
        json_answer(res).await.map_err(|e| match e {
            CentralError::Unauthorized => CentralError::SiteTokenRefused,
            other => other,
        })
    }

    pub async fn leave(&self, req: &LeaveRequest) -> Result<(), CentralError> {
        let r = self
            .authed(self.http.post(self.url("/gateways/leave")).json(req))
            .timeout(self.timeouts.request);
        let res = r.send().await.map_err(transport)?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        Err(problem(res).await)
    }

    /// One page after `cursor`; `wait` seconds of long poll.
    pub async fn changes(
        &self,
        cursor: Option<&str>,
        epoch: Option<&str>,
        limit: u32,
        wait: u32,
    ) -> Result<ChangesPage, CentralError> {
        let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string()), ("wait", wait.to_string())];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_string()));
        }
        if let Some(e) = epoch {
            query.push(("epoch", e.to_string()));
        }
        let r = self
            .authed(self.http.get(self.url("/changes")).query(&query))
            .timeout(self.timeouts.request + Duration::from_secs(u64::from(wait)));
        json_answer(r.send().await).await
    }

    pub async fn push(&self, batch: &EventBatch) -> Result<EventResults, CentralError> {
        let r = self
            .authed(self.http.post(self.url("/events")).json(batch))
            .timeout(self.timeouts.request);
        json_answer(r.send().await).await
    }

    pub async fn lease(&self, req: &LeaseRequest) -> Result<LeaseGrant, CentralError> {
        let r = self
            .authed(self.http.post(self.url("/leases")).json(req))
            .timeout(self.timeouts.request);
        json_answer(r.send().await).await
    }
}

fn transport(e: reqwest::Error) -> CentralError {
    // The chain names the real cause (refused, reset, certificate); never a secret.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    tracing::debug!(error = %text, "sync: the central system cannot be reached");
    CentralError::Unreachable(plain_cause(&text, e.is_timeout()))
}

/// The cause of a transport failure in plain words for the status screen (the whole chain is
/// logged); a chain of an unknown kind is kept as it is.
fn plain_cause(chain: &str, timed_out: bool) -> String {
    let lower = chain.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if timed_out || has(&["timed out", "timeout"]) {
        "it did not answer in time".into()
    } else if has(&["connection refused"]) {
        "nothing answers at its address (connection refused)".into()
    } else if has(&[
        "dns error",
        "failed to lookup",
        "name or service not known",
        "no address associated",
    ]) {
        "its name cannot be found (DNS)".into()
    } else if has(&["pinned fingerprint"]) {
        "its certificate does not match the pinned fingerprint".into()
    } else if has(&["certificate", "handshake", "tls"]) {
        "its TLS certificate was not accepted".into()
    } else if has(&["connection reset", "broken pipe", "connection closed"]) {
        "the connection was cut".into()
    } else if has(&["network is unreachable", "no route to host"]) {
        "there is no network route to it".into()
    } else {
        chain.to_string()
    }
}

fn retry_after(res: &reqwest::Response) -> Option<Duration> {
    let v = res.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(3600)))
}

async fn problem(res: reqwest::Response) -> CentralError {
    let status = res.status().as_u16();
    let after = retry_after(&res);
    let body = read_limited(res, 64 * 1024).await.unwrap_or_default();
    let parsed: Option<CentralProblem> = serde_json::from_slice(&body).ok();
    match status {
        401 => CentralError::Unauthorized,
        410 => CentralError::Refetch {
            epoch: parsed.and_then(|p| p.epoch),
        },
        429 | 500..=599 => CentralError::Unavailable {
            status,
            retry_after: after,
        },
        _ => CentralError::Rejected {
            status,
            detail: parsed
                .map(|p| match p.detail {
                    Some(d) => format!("{}: {d}", p.code),
                    None => p.code,
                })
                .unwrap_or_else(|| "no problem details".into()),
        },
    }
}

async fn read_limited(mut res: reqwest::Response, limit: usize) -> Result<Vec<u8>, CentralError> {
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(CentralError::BadAnswer(format!(
                        "the answer is over {limit} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport(e)),
        }
    }
}

async fn json_answer<T: DeserializeOwned>(
    res: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, CentralError> {
    let res = res.map_err(transport)?;
    if !res.status().is_success() {
        return Err(problem(res).await);
    }
    let body = read_limited(res, PAGE_BYTES_MAX).await?;
    serde_json::from_slice(&body).map_err(|e| {
        CentralError::BadAnswer(format!(
            "not the expected JSON (line {} column {}): {}",
            e.line(),
            e.column(),
            {
                let mut m = e.to_string();
                m.truncate(160);
                m
            }
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_in_both_forms() {
        let b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        let bytes = parse_fingerprint(b64).unwrap();
        assert_eq!(bytes[31], 31);
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(parse_fingerprint(&hex.join(":")).unwrap(), bytes);
        assert!(parse_fingerprint("nope!").is_err());
    }

    #[test]
    fn transport_causes_read_plainly() {
        let refused = "error sending request for url (http://127.0.0.1:9/v1/events): client error (Connect): tcp connect error: Connection refused (os error 111)";
        assert_eq!(
            plain_cause(refused, false),
            "nothing answers at its address (connection refused)"
        );
        assert_eq!(plain_cause("anything", true), "it did not answer in time");
        assert_eq!(
            plain_cause("dns error: failed to lookup address information", false),
            "its name cannot be found (DNS)"
        );
        assert_eq!(plain_cause("something new", false), "something new");
        assert_eq!(
            CentralError::Unreachable(plain_cause(refused, false)).to_string(),
            "the central system cannot be reached: nothing answers at its address (connection refused)"
        );
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        let t = Trust::default();
        assert!(CentralClient::new("http://127.0.0.1:9", &t, Timeouts::default()).is_ok());
        assert!(CentralClient::new("http://central.example", &t, Timeouts::default()).is_err());
        assert!(CentralClient::new("https://central.example", &t, Timeouts::default()).is_ok());
    }
}
