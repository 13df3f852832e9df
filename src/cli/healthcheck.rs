//! `sitegate healthcheck`: asks the running gateway, over its technician socket, where it listens,
//! then its /readyz there over HTTPS, trusting only its own certificate (or `--url`'s address).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Outcome;
use crate::admin_socket;
use crate::config::Config;
use crate::http::tls::Fingerprint;
use crate::service::admin::{AdminRequest, AdminResponse};

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
    let target = match url {
        Some(u) => match parse_url(u) {
            Ok(t) => t,
            Err(e) => return Outcome::fail(1, format!("not ready: {e}")),
        },
        None => match tokio::time::timeout(Duration::from_secs(5), running_https(config)).await {
            Ok(Ok(addr)) => (loopback_for(addr), addr.port()),
            Ok(Err(e)) => return Outcome::fail(1, format!("not ready: {e}")),
            Err(_) => return Outcome::fail(1, "not ready: the gateway's socket gave no answer within 5 s"),
        },
    };
    match tokio::time::timeout(Duration::from_secs(5), check(config, target)).await {
        Ok(Ok(())) => Outcome::ok("ready\n".into()),
        Ok(Err(e)) => Outcome::fail(1, format!("not ready: {e}")),
        Err(_) => Outcome::fail(1, "not ready: no answer within 5 s"),
    }
}

/// Where the gateway running on this state directory serves HTTPS, asked over its socket.
async fn running_https(config: &Config) -> Result<SocketAddr, String> {
    let state_dir = config.state_dir();
    match admin_socket::send(&state_dir, &AdminRequest::Listening).await {
        Ok(Some(Ok(AdminResponse::Listening { listening: Some(l) }))) => Ok(l.https),
        Ok(None) => Err(format!(
            "no gateway is running here: nothing answers on {} (start it with `sitegate serve`, or give --url)",
            admin_socket::socket_path(&state_dir).display()
        )),
        Ok(Some(Err(e))) | Err(e) => Err(e.message),
        Ok(Some(Ok(_))) => Err("the gateway answered something else".into()),
    }
}

/// The address to reach a listener on from this box: loopback for a wildcard.
pub(super) fn loopback_for(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".into(),
        IpAddr::V6(ip) if ip.is_unspecified() => "::1".into(),
        ip => ip.to_string(),
    }
}

fn parse_url(u: &str) -> Result<(String, u16), String> {
    let rest = u
        .strip_prefix("https://")
        .ok_or("--url must start with https://")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let (h, p) = authority
        .rsplit_once(':')
        .ok_or("--url needs a port, e.g. https://127.0.0.1:8443")?;
    Ok((
        h.trim_matches(['[', ']']).to_string(),
        p.parse::<u16>().map_err(|_| "bad port in --url")?,
    ))
}

pub(super) async fn check(config: &Config, (host, port): (String, u16)) -> Result<(), String> {
    crate::http::tls::install_crypto_provider();
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
    let authority = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    let req = format!("GET /readyz HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
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
