//! Tests of `http::tls`: self-signed creation and reuse, certificate files and their errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use std::os::unix::fs::PermissionsExt as _;

fn rcgen_pair(names: &[&str]) -> (String, String) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pem_der(path: &Path) -> Vec<u8> {
    let pem = fs::read(path).unwrap();
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    certs[0].as_ref().to_vec()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn self_signed_is_created_once_and_reused() {
    install_crypto_provider();
    let state = tempfile::tempdir().unwrap();
    let extra = vec!["gate.example".to_owned(), "10.1.2.3".to_owned()];
    let first = load_or_create(None, None, state.path(), &extra).unwrap();
    let dir = state.path().join("tls");
    assert_eq!(first.source, CertSource::SelfSignedCreated(dir.clone()));
    assert_eq!(mode(&dir.join("key.pem")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(first.server_config.alpn_protocols, [&b"h2"[..], b"http/1.1"]);

    let b64 = first.fingerprint.base64url();
    assert_eq!(b64.len(), 43);
    assert!(!b64.contains(['=', '+', '/']));
    let der = pem_der(&dir.join("cert.pem"));
    assert_eq!(der, first.cert_der);
    let digest: [u8; 32] = Sha256::digest(&der).into();
    assert_eq!(first.fingerprint.0, digest);
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&b64)
            .unwrap(),
        digest
    );

    let second = load_or_create(None, None, state.path(), &[]).unwrap();
    assert_eq!(second.source, CertSource::SelfSignedReused(dir.clone()));
    assert_eq!(second.fingerprint, first.fingerprint);
    assert_eq!(second.cert_der, first.cert_der);
    // No temporary files left behind.
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["cert.pem", "key.pem"]);
}

#[test]
fn reused_key_readable_by_others_is_tightened() {
    install_crypto_provider();
    let state = tempfile::tempdir().unwrap();
    load_or_create(None, None, state.path(), &[]).unwrap();
    let key = state.path().join("tls/key.pem");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    load_or_create(None, None, state.path(), &[]).unwrap();
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn missing_cert_without_key_regenerates_pair() {
    install_crypto_provider();
    let state = tempfile::tempdir().unwrap();
    let first = load_or_create(None, None, state.path(), &[]).unwrap();
    fs::remove_file(state.path().join("tls/cert.pem")).unwrap();
    let again = load_or_create(None, None, state.path(), &[]).unwrap();
    assert!(matches!(again.source, CertSource::SelfSignedCreated(_)));
    assert_ne!(again.fingerprint, first.fingerprint);
}

#[test]
fn unwritable_state_dir_names_the_directory() {
    install_crypto_provider();
    let state = tempfile::tempdir().unwrap();
    // A regular file where the tls directory should be.
    fs::write(state.path().join("tls"), b"x").unwrap();
    let err = load_or_create(None, None, state.path(), &[]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot write self-signed certificate into {}",
            state.path().join("tls").display()
        )),
        "{msg}"
    );
}

#[test]
fn sans_cover_defaults_and_extras_without_duplicates() {
    let extra = vec![
        "Gate.Example".to_owned(),
        "gate.example".to_owned(),
        "[::1]".to_owned(),
        "bad name!".to_owned(),
        "192.168.1.5".to_owned(),
    ];
    let sans = subject_alt_names(Some("box7.corp.lan"), &extra);
    let rendered: Vec<String> = sans
        .iter()
        .map(|s| match s {
            SanType::DnsName(n) => n.as_str().to_owned(),
            SanType::IpAddress(ip) => ip.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "localhost",
            "box7.corp.lan",
            "box7.local",
            "127.0.0.1",
            "::1",
            "gate.example",
            "192.168.1.5"
        ]
    );
    assert_eq!(subject_alt_names(None, &[]).len(), 3);
}

#[test]
fn fingerprint_formats() {
    let fp = Fingerprint([0xab; 32]);
    let hex = fp.colon_hex();
    assert_eq!(hex.len(), 32 * 3 - 1);
    assert!(hex.starts_with("AB:AB:"));
    assert_eq!(fp.to_string(), fp.base64url());
}

struct Files {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

fn write_files(cert_pem: &str, key_pem: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    fs::write(&cert, cert_pem).unwrap();
    fs::write(&key, key_pem).unwrap();
    Files { _dir: dir, cert, key }
}

fn load(files: &Files) -> Result<TlsMaterial, TlsError> {
    let state = tempfile::tempdir().unwrap();
    load_or_create(Some(&files.cert), Some(&files.key), state.path(), &[])
}

#[test]
fn files_are_loaded() {
    install_crypto_provider();
    let (cert, key) = rcgen_pair(&["gate.example"]);
    let files = write_files(&cert, &key);
    let material = load(&files).unwrap();
    assert_eq!(
        material.source,
        CertSource::Files {
            cert: files.cert.clone(),
            key: files.key.clone()
        }
    );
    assert_eq!(material.cert_der, pem_der(&files.cert));
    assert_eq!(material.fingerprint, Fingerprint::of_der(&material.cert_der));
}

#[test]
fn missing_cert_file_names_the_path() {
    install_crypto_provider();
    let (cert, key) = rcgen_pair(&["gate.example"]);
    let mut files = write_files(&cert, &key);
    files.cert = files.cert.with_file_name("absent.pem");
    let msg = load(&files).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("cannot read TLS certificate {}: ", files.cert.display())),
        "{msg}"
    );
}

#[test]
fn garbage_cert_file_has_no_certificate() {
    install_crypto_provider();
    let (_, key) = rcgen_pair(&["gate.example"]);
    let files = write_files("this is not a certificate\n", &key);
    let err = load(&files).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no certificate found in {}", files.cert.display())
    );
}

#[test]
fn key_file_without_key_is_reported() {
    install_crypto_provider();
    let (cert, _) = rcgen_pair(&["gate.example"]);
    let files = write_files(&cert, &cert);
    let err = load(&files).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no private key found in {}", files.key.display())
    );
}

#[test]
fn mismatched_key_is_reported() {
    install_crypto_provider();
    let (cert, _) = rcgen_pair(&["gate.example"]);
    let (_, other_key) = rcgen_pair(&["gate.example"]);
    let files = write_files(&cert, &other_key);
    let err = load(&files).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "TLS key {} does not match certificate {}",
            files.key.display(),
            files.cert.display()
        )
    );
}

#[test]
fn cert_without_key_is_an_error() {
    let state = tempfile::tempdir().unwrap();
    let cert = state.path().join("cert.pem");
    let err = load_or_create(Some(&cert), None, state.path(), &[]).unwrap_err();
    assert!(matches!(err, TlsError::CertWithoutKey { .. }));
}
