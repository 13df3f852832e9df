//! `sitegate healthcheck`: asks the local gateway's /readyz over HTTPS, trusting only its own certificate.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Outcome;
use crate::config::Config;
use crate::http::tls::Fingerprint;

/// Accepts exactly one certificate: the gateway's own, by SHA-256.
#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Fingerprint::of_der(end_entity).0 == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the gateway's certificate is not the one in the state directory".into(),
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

pub(super) fn cert_fingerprint(config: &Config) -> Result<[u8; 32], String> {
    let path = config
        .server
        .tls_cert_file
        .clone()
        .unwrap_or_else(|| config.state_dir().join("tls/cert.pem"));
    let pem = std::fs::read(&path)
        .map_err(|e| format!("cannot read the gateway's certificate {}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::new(pem.as_slice());
    let cert = rustls_pemfile::certs(&mut reader)
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| format!("no certificate in {}", path.display()))?;
    Ok(Fingerprint::of_der(&cert).0)
}

/// Exit 0 when the gateway answers ready, 1 otherwise (with the reason).
pub async fn run(config: &Config, url: Option<&str>) -> Outcome {
    match tokio::time::timeout(Duration::from_secs(5), check(config, url)).await {
        Ok(Ok(())) => Outcome::ok("ready\n".into()),
        Ok(Err(e)) => Outcome::fail(1, format!("not ready: {e}")),
        Err(_) => Outcome::fail(1, "not ready: no answer within 5 s"),
    }
}

async fn check(config: &Config, url: Option<&str>) -> Result<(), String> {
    crate::http::tls::install_crypto_provider();
    let (host, port) = match url {
        Some(u) => {
            let rest = u
                .strip_prefix("https://")
                .ok_or("--url must start with https://")?;
            let authority = rest.split('/').next().unwrap_or(rest);
            let (h, p) = authority
                .rsplit_once(':')
                .ok_or("--url needs a port, e.g. https://127.0.0.1:8443")?;
            (
                h.trim_matches(['[', ']']).to_string(),
                p.parse::<u16>().map_err(|_| "bad port in --url")?,
            )
        }
        None => {
            let listen = config.server.listen;
            let ip = if listen.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                listen.ip().to_string()
            };
            (ip, listen.port())
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Pinned {
        fingerprint: cert_fingerprint(config)?,
        provider,
    };
    let tls = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let req = format!("GET /readyz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let _ = (&mut tls).take(64 * 1024).read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    let status = text.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!("the gateway answered {status}"))
    }
}
