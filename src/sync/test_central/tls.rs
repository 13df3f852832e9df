//! The test central's self-signed certificate (rcgen, ring): made once, kept in its state, served with rustls over HTTP/1.1.

use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::state::KeptTls;
use crate::clock::{Clock as _, SystemClock};
use crate::http::tls::Fingerprint;

/// What a gateway needs to trust the test central, and what it serves with.
#[derive(Debug, Clone)]
pub struct CentralTls {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf DER, unpadded base64url (sitegate's fingerprint form).
    pub fingerprint: String,
    pub cert_pem: String,
}

/// A new certificate for `localhost`, `127.0.0.1` and `::1`, valid from yesterday for a year.
pub fn generate() -> Result<KeptTls, String> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "sitegate test central");
    params.distinguished_name = dn;
    let localhost = "localhost".try_into().map_err(|e: rcgen::Error| e.to_string())?;
    params.subject_alt_names = vec![
        SanType::DnsName(localhost),
        SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
    ];
    let now = SystemClock.now();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(365);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(KeptTls {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The rustls configuration of kept material. Only HTTP/1.1 is offered, so the faults that cut
/// or dribble a body act on one connection as a gateway's client sees it.
pub fn load(kept: &KeptTls) -> Result<CentralTls, String> {
    let chain = rustls_pemfile::certs(&mut kept.cert_pem.as_bytes())
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .map_err(|e| e.to_string())?;
    let leaf = chain.first().ok_or("no certificate in the kept TLS material")?;
    let fingerprint = Fingerprint::of_der(leaf.as_ref()).base64url();
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut kept.key_pem.as_bytes())
        .map_err(|e| e.to_string())?
        .ok_or("no key in the kept TLS material")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(CentralTls {
        config: Arc::new(config),
        fingerprint,
        cert_pem: kept.cert_pem.clone(),
    })
}
