//! TLS material: the server certificate (from files or a self-signed one kept in the state directory), its SHA-256 fingerprint and the rustls `ServerConfig`.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    SanType, SerialNumber,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, DnsName, PrivateKeyDer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::clock::{Clock as _, SystemClock};

/// Validity of the self-signed certificate.
const SELF_SIGNED_VALIDITY_DAYS: i64 = 3650;
/// Subdirectory of the state directory holding the self-signed certificate.
const TLS_DIR: &str = "tls";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// Installs the `ring` provider as the process-wide rustls crypto provider.
/// Harmless when a provider is already installed.
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

/// SHA-256 of the leaf certificate's DER.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Unpadded base64url, 43 characters: the form in logs, mDNS `fp` and the staff screen.
    pub fn base64url(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Upper-case hex pairs separated by colons (`AB:CD:...`).
    pub fn colon_hex(&self) -> String {
        let mut out = String::with_capacity(32 * 3);
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            out.push_str(&format!("{b:02X}"));
        }
        out
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base64url())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.base64url())
    }
}

/// Where the certificate came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertSource {
    /// Operator-provided files.
    Files { cert: PathBuf, key: PathBuf },
    /// Self-signed, made on this start in the given directory.
    SelfSignedCreated(PathBuf),
    /// Self-signed, made on an earlier start and kept in the given directory.
    SelfSignedReused(PathBuf),
}

/// Everything the listeners and the staff screen need about TLS.
#[derive(Debug)]
pub struct TlsMaterial {
    pub server_config: Arc<ServerConfig>,
    pub fingerprint: Fingerprint,
    pub source: CertSource,
    /// DER of the leaf certificate.
    pub cert_der: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read TLS certificate {}: {source}", path.display())]
    ReadCert { path: PathBuf, source: io::Error },
    #[error("cannot read TLS key {}: {source}", path.display())]
    ReadKey { path: PathBuf, source: io::Error },
    #[error("cannot parse PEM in TLS certificate {}: {source}", path.display())]
    ParseCert { path: PathBuf, source: io::Error },
    #[error("cannot parse PEM in TLS key {}: {source}", path.display())]
    ParseKey { path: PathBuf, source: io::Error },
    #[error("no certificate found in {}", path.display())]
    NoCertificate { path: PathBuf },
    #[error("no private key found in {}", path.display())]
    NoKey { path: PathBuf },
    #[error("invalid TLS certificate {}: {source}", path.display())]
    InvalidCert { path: PathBuf, source: rustls::Error },
    #[error("invalid TLS key {}: {source}", path.display())]
    InvalidKey { path: PathBuf, source: rustls::Error },
    #[error("TLS key {} does not match certificate {}", key.display(), cert.display())]
    KeyMismatch { key: PathBuf, cert: PathBuf },
    #[error("TLS certificate {} given without a key file", path.display())]
    CertWithoutKey { path: PathBuf },
    #[error("TLS key {} given without a certificate file", path.display())]
    KeyWithoutCert { path: PathBuf },
    #[error("cannot write self-signed certificate into {}: {source}", dir.display())]
    WriteSelfSigned { dir: PathBuf, source: io::Error },
    #[error("cannot generate self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot build TLS configuration: {0}")]
    Config(rustls::Error),
}

/// Loads the certificate and key from files when both are given; otherwise uses the self-signed
/// certificate kept in `<state_dir>/tls/`, creating it on first start.
/// `hostnames` are extra names (DNS names or IP addresses) for a newly created certificate.
pub fn load_or_create(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    state_dir: &Path,
    hostnames: &[String],
) -> Result<TlsMaterial, TlsError> {
    match (cert_file, key_file) {
        (Some(cert), Some(key)) => load_files(
            cert,
            key,
            CertSource::Files {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            },
        ),
        (Some(cert), None) => Err(TlsError::CertWithoutKey {
            path: cert.to_path_buf(),
        }),
        (None, Some(key)) => Err(TlsError::KeyWithoutCert {
            path: key.to_path_buf(),
        }),
        (None, None) => self_signed(state_dir, hostnames),
    }
}

fn self_signed(state_dir: &Path, hostnames: &[String]) -> Result<TlsMaterial, TlsError> {
    let dir = state_dir.join(TLS_DIR);
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    let write_err = |source| TlsError::WriteSelfSigned {
        dir: dir.clone(),
        source,
    };
    create_private_dir(&dir).map_err(write_err)?;
    // The key is renamed into place before the certificate, so an existing certificate
    // implies a complete pair.
    if cert_path.exists() && key_path.exists() {
        tighten_key_mode(&key_path);
        return load_files(&cert_path, &key_path, CertSource::SelfSignedReused(dir.clone()));
    }
    let (cert_pem, key_pem) = generate(hostnames)?;
    write_atomic(&key_path, key_pem.as_bytes(), 0o600).map_err(write_err)?;
    write_atomic(&cert_path, cert_pem.as_bytes(), 0o644).map_err(write_err)?;
    sync_dir(&dir).map_err(write_err)?;
    let material = load_files(&cert_path, &key_path, CertSource::SelfSignedCreated(dir.clone()))?;
    tracing::info!(
        dir = %dir.display(),
        fingerprint = %material.fingerprint,
        "created self-signed TLS certificate"
    );
    Ok(material)
}

fn load_files(cert: &Path, key: &Path, source: CertSource) -> Result<TlsMaterial, TlsError> {
    let cert_pem = fs::read(cert).map_err(|source| TlsError::ReadCert {
        path: cert.to_path_buf(),
        source,
    })?;
    let chain = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .map_err(|source| TlsError::ParseCert {
            path: cert.to_path_buf(),
            source,
        })?;
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate {
            path: cert.to_path_buf(),
        });
    };
    let cert_der = leaf.as_ref().to_vec();

    let key_pem = Zeroizing::new(fs::read(key).map_err(|source| TlsError::ReadKey {
        path: key.to_path_buf(),
        source,
    })?);
    let key_der = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|source| TlsError::ParseKey {
            path: key.to_path_buf(),
            source,
        })?
        .ok_or_else(|| TlsError::NoKey {
            path: key.to_path_buf(),
        })?;

    let server_config = build_server_config(chain, key_der, cert, key)?;
    Ok(TlsMaterial {
        server_config: Arc::new(server_config),
        fingerprint: Fingerprint::of_der(&cert_der),
        source,
        cert_der,
    })
}

fn build_server_config(
    chain: Vec<CertificateDer<'static>>,
    key_der: PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<ServerConfig, TlsError> {
    // An explicit provider: no dependence on (or panic without) the process default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|err| match err {
            rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                key: key_path.to_path_buf(),
                cert: cert_path.to_path_buf(),
            },
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                TlsError::InvalidCert {
                    path: cert_path.to_path_buf(),
                    source: err,
                }
            }
            other => TlsError::InvalidKey {
                path: key_path.to_path_buf(),
                source: other,
            },
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Makes a self-signed ECDSA P-256 certificate; returns (certificate PEM, key PEM).
fn generate(hostnames: &[String]) -> Result<(String, Zeroizing<String>), TlsError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "sitegate");
    params.distinguished_name = dn;
    params.subject_alt_names = subject_alt_names(machine_hostname().as_deref(), hostnames);
    // Wall-clock time through the crate's sanctioned clock.
    let now = SystemClock.now();
    // A day of slack for clients whose clocks run behind.
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_VALIDITY_DAYS);
    let mut serial: [u8; 16] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Zeroizing::new(key.serialize_pem())))
}

/// SANs of a new self-signed certificate: localhost, the machine's hostname and
/// `<hostname>.local`, the loopback addresses and the configured extra names, deduplicated.
/// Names that are neither valid DNS names nor IP addresses are skipped with a warning.
fn subject_alt_names(machine: Option<&str>, extra: &[String]) -> Vec<SanType> {
    let mut names: Vec<String> = vec!["localhost".to_owned()];
    if let Some(host) = machine {
        names.push(host.to_owned());
        let short = host.split('.').next().unwrap_or(host);
        names.push(format!("{short}.local"));
    }
    names.push(Ipv4Addr::LOCALHOST.to_string());
    names.push(Ipv6Addr::LOCALHOST.to_string());
    names.extend(extra.iter().map(|n| n.trim().to_owned()));

    let mut seen: Vec<String> = Vec::new();
    let mut sans = Vec::new();
    for name in names {
        let san = if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
            if seen.contains(&ip.to_string()) {
                continue;
            }
            seen.push(ip.to_string());
            SanType::IpAddress(ip)
        } else {
            let lower = name.trim_end_matches('.').to_ascii_lowercase();
            if seen.contains(&lower) {
                continue;
            }
            if DnsName::try_from(lower.as_str()).is_err() {
                tracing::warn!(name = %name, "skipping invalid hostname for the TLS certificate");
                continue;
            }
            let Ok(ia5) = lower.as_str().try_into() else {
                continue;
            };
            seen.push(lower);
            SanType::DnsName(ia5)
        };
        sans.push(san);
    }
    sans
}

/// The machine's hostname from /etc/hostname, /proc or `HOSTNAME`; `None` when unavailable.
fn machine_hostname() -> Option<String> {
    let from_files = ["/etc/hostname", "/proc/sys/kernel/hostname"]
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty());
    let name = from_files.or_else(|| {
        std::env::var("HOSTNAME")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })?;
    (name != "localhost" && DnsName::try_from(name.as_str()).is_ok()).then_some(name)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Writes `data` to a temporary file next to `path` with `mode`, syncs it and renames it over
/// `path`.
fn write_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(mode);
        }
        let mut file = options.open(&tmp)?;
        // The umask may have narrowed the mode; set it exactly.
        set_mode(&tmp, mode)?;
        file.write_all(data)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A reused key readable by others is narrowed to 0600 (with a warning).
fn tighten_key_mode(key: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = fs::metadata(key)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %key.display(), "TLS key was readable by others; setting mode 0600");
            if let Err(err) = set_mode(key, 0o600) {
                tracing::warn!(path = %key.display(), error = %err, "cannot set mode of TLS key");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = key;
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
