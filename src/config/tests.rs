//! Tests of loading, merging, validation and error messages of the configuration.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

mod errors;

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    path
}

fn sources(file: Option<&Path>, env: &[(&str, &str)]) -> Sources {
    Sources {
        file: file.map(Path::to_owned),
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        overrides: Overrides::default(),
    }
}

fn load_err(sources: &Sources) -> String {
    Config::load(sources).unwrap_err().to_string()
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn no_file_gives_defaults_that_validate() {
    let config = Config::load(&sources(None, &[])).unwrap();
    assert_eq!(config, Config::default());
    config.validate().unwrap();
    assert_eq!(config.site.name, "Demo site");
    assert_eq!(config.server.listen, addr("0.0.0.0:8443"));
    assert_eq!(config.server.kiosk_listen, Some(addr("127.0.0.1:8080")));
    assert_eq!(config.server.body_limit_bytes, 1024 * 1024);
    assert_eq!(config.security.pin_length, 6);
    assert_eq!(config.log.format, LogFormat::Text);
    assert!(config.discovery.enabled);
}

#[test]
fn example_loads_to_defaults() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "sitegate.toml", &example());
    assert_eq!(check_file(&path).unwrap(), Config::default());
}

/// Every key of `Config` appears in the example, set or commented out, and nothing else does.
#[test]
fn example_names_every_key() {
    let uncommented: String = example()
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.split_once(" = ").is_some_and(|(key, _)| is_key(key)) => rest,
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    // Deserializing (deny_unknown_fields) proves the commented keys are real.
    let parsed: Config = toml::from_str(&uncommented).unwrap();
    assert!(parsed.state_dir.is_some() && parsed.central.api_token_file.is_some());

    let mut full = Config::default();
    full.site.id = Some("gw".into());
    full.server.tls_cert_file = Some("c".into());
    full.server.tls_key_file = Some("k".into());
    full.state_dir = Some("s".into());
    full.security.key_file = Some("k".into());
    full.security.totp_issuer = Some("i".into());
    full.central.url = Some("https://c".into());
    full.central.api_token = Some(Secret::new("t"));
    full.central.api_token_file = Some("f".into());
    full.central.ca_file = Some("ca".into());
    full.central.fingerprint = Some("fp".into());
    full.central.poll_wait_secs = Some(25);
    full.kiosk.ui_dir = Some("u".into());
    full.printing.failover = Some("b".into());
    full.printing.logo_file = Some("l".into());
    full.printing.font_file = Some("f".into());
    full.printing.profiles_dir = Some("p".into());
    let all_keys = dotted_keys(&toml::Table::try_from(&full).unwrap());
    let example_keys = dotted_keys(&toml::from_str(&uncommented).unwrap());
    assert_eq!(example_keys, all_keys);
}

fn is_key(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

fn dotted_keys(table: &toml::Table) -> Vec<String> {
    let mut keys = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) => {
                keys.extend(dotted_keys(inner).into_iter().map(|k| format!("{key}.{k}")));
            }
            _ => keys.push(key.clone()),
        }
    }
    keys.sort();
    keys
}

#[test]
fn serialized_config_round_trips_including_disabled_kiosk() {
    let mut config = Config::default();
    config.server.kiosk_listen = None;
    config.site.id = Some("gw-1".into());
    config.log.format = LogFormat::Json;
    config.discovery.interfaces = vec!["eth0".into(), "lo".into()];
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "c.toml", &toml::to_string(&config).unwrap());
    assert_eq!(check_file(&path).unwrap(), config);
}

#[test]
fn precedence_is_file_then_env_then_flags() {
    let dir = TempDir::new().unwrap();
    let file = write(
        &dir,
        "c.toml",
        "[server]\nlisten = \"127.0.0.1:1000\"\nrequest_timeout_secs = 45\n[site]\nname = \"File\"\n",
    );
    let from_file = Config::load(&sources(Some(&file), &[])).unwrap();
    assert_eq!(from_file.server.listen, addr("127.0.0.1:1000"));
    assert_eq!(from_file.site.name, "File");

    let env = [
        ("SITEGATE_SERVER__LISTEN", "127.0.0.1:2000"),
        ("SITEGATE_SITE__NAME", "Env"),
    ];
    let from_env = Config::load(&sources(Some(&file), &env)).unwrap();
    assert_eq!(from_env.server.listen, addr("127.0.0.1:2000"));
    assert_eq!(from_env.site.name, "Env");
    // A key the environment does not touch keeps the file's value.
    assert_eq!(from_env.server.request_timeout_secs, 45);

    let mut with_flags = sources(Some(&file), &env);
    with_flags.overrides = Overrides {
        state_dir: Some("/flag/state".into()),
        listen: Some(addr("127.0.0.1:3000")),
        kiosk_listen: Some(addr("[::1]:9000")),
        log_format: Some(crate::config::LogFormat::Json),
    };
    let from_flags = Config::load(&with_flags).unwrap();
    assert_eq!(from_flags.server.listen, addr("127.0.0.1:3000"));
    assert_eq!(from_flags.server.kiosk_listen, Some(addr("[::1]:9000")));
    assert_eq!(from_flags.state_dir(), PathBuf::from("/flag/state"));
    assert_eq!(from_flags.log.format, crate::config::LogFormat::Json);
    assert_eq!(from_flags.site.name, "Env");
}

#[test]
fn env_values_take_the_type_of_their_key() {
    let env = [
        ("sitegate_state_dir", "/var/lib/x"),
        ("SITEGATE_DISCOVERY__INTERFACES", "eth0, lo"),
        ("SITEGATE_DISCOVERY__ENABLED", "false"),
        ("SITEGATE_SECURITY__PIN_LENGTH", "8"),
        ("SITEGATE_SITE__NAME", "1234"),
        ("SITEGATE_LOG__FORMAT", "json"),
        (
            "SITEGATE_SERVER__PUBLIC_HOSTNAMES",
            "[\"a.example\", \"b.example\"]",
        ),
        ("SITEGATE_SERVER__KIOSK_LISTEN", "off"),
        ("SITEGATE_CENTRAL__URL", "https://central.example.com/api"),
        ("SITEGATE_CONFIG", "/etc/ignored.toml"),
        ("SITEGATE_LOG", "debug"),
        ("PATH", "/usr/bin"),
    ];
    let config = Config::load(&sources(None, &env)).unwrap();
    assert_eq!(config.state_dir, Some(PathBuf::from("/var/lib/x")));
    assert_eq!(config.discovery.interfaces, ["eth0", "lo"]);
    assert!(!config.discovery.enabled);
    assert_eq!(config.security.pin_length, 8);
    assert_eq!(config.site.name, "1234");
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.server.public_hostnames, ["a.example", "b.example"]);
    assert_eq!(config.server.kiosk_listen, None);
    assert_eq!(
        config.central.url.as_deref(),
        Some("https://central.example.com/api")
    );
}

/// `cargo run --release` in a git checkout hands the build script's `SITEGATE_GIT_COMMIT` to the
/// binary it runs: that is no setting, and serve must start with it set.
#[test]
fn the_builds_git_commit_in_the_environment_is_no_setting() {
    let env = [("SITEGATE_GIT_COMMIT", "05c187c0ffee")];
    let config = Config::load(&sources(None, &env)).unwrap();
    assert_eq!(config.site.name, Config::default().site.name);
}

#[test]
fn secrets_are_redacted() {
    let env = [("SITEGATE_CENTRAL__API_TOKEN", "tok-very-secret-123")];
    let sources = sources(None, &env);
    let config = Config::load(&sources).unwrap();
    assert_eq!(
        config.central.api_token.as_ref().map(Secret::expose),
        Some("tok-very-secret-123")
    );
    assert!(!format!("{config:?}").contains("tok-very-secret"));
    assert!(!format!("{config:#?}").contains("tok-very-secret"));
    assert!(!format!("{sources:?}").contains("tok-very-secret"));
    assert_eq!(Secret::new("x").to_string(), "[redacted]");

    // A token of the wrong type is not echoed in the error either.
    let dir = TempDir::new().unwrap();
    let file = write(&dir, "c.toml", "[central]\napi_token = 987654321\n");
    let message = check_file(&file).unwrap_err().to_string();
    assert!(message.contains("key `central.api_token`"), "{message}");
    assert!(!message.contains("987654321"), "{message}");
}

#[test]
fn api_token_file_is_read_at_load() {
    let dir = TempDir::new().unwrap();
    let token = write(&dir, "token", "s3cr3t-token\n");
    let file = write(
        &dir,
        "c.toml",
        &format!("[central]\napi_token_file = {:?}\n", token.display().to_string()),
    );
    let config = check_file(&file).unwrap();
    assert_eq!(
        config.central.api_token.as_ref().map(Secret::expose),
        Some("s3cr3t-token")
    );
    assert_eq!(config.central.api_token_file, None);
    config.validate().unwrap();
    assert!(!format!("{config:?}").contains("s3cr3t"));

    let missing = dir.path().join("nope");
    let env_value = missing.display().to_string();
    let env = [("SITEGATE_CENTRAL__API_TOKEN_FILE", env_value.as_str())];
    let message = load_err(&sources(None, &env));
    assert!(
        message.starts_with(&format!(
            "{}: cannot read central.api_token_file: ",
            missing.display()
        )),
        "{message}"
    );

    let empty = write(&dir, "empty", "\n");
    let env_value = empty.display().to_string();
    let env = [("SITEGATE_CENTRAL__API_TOKEN_FILE", env_value.as_str())];
    assert!(load_err(&sources(None, &env)).contains("the file is empty"));
}

#[test]
fn state_dir_resolution() {
    let systemd = [("STATE_DIRECTORY", "/var/lib/sitegate:/var/lib/other")];
    let config = Config::load(&sources(None, &systemd)).unwrap();
    assert_eq!(config.state_dir(), PathBuf::from("/var/lib/sitegate"));
    assert_eq!(
        config.key_file(),
        PathBuf::from("/var/lib/sitegate/keys/sitegate.key")
    );

    let explicit = [
        ("STATE_DIRECTORY", "/var/lib/sitegate"),
        ("SITEGATE_STATE_DIR", "/srv/x"),
    ];
    let config = Config::load(&sources(None, &explicit)).unwrap();
    assert_eq!(config.state_dir(), PathBuf::from("/srv/x"));

    let config = Config::load(&sources(None, &[])).unwrap();
    assert_eq!(config.state_dir(), PathBuf::from("./sitegate-data"));
    assert_eq!(Config::default().state_dir(), PathBuf::from("./sitegate-data"));
}

#[test]
fn loading_creates_no_files() {
    let dir = TempDir::new().unwrap();
    let state = dir.path().join("state-not-created");
    let file = write(
        &dir,
        "c.toml",
        &format!("state_dir = {:?}\n", state.display().to_string()),
    );
    let mut sources = sources(Some(&file), &[]);
    sources.overrides.listen = Some(addr("127.0.0.1:0"));
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.state_dir(), state);
    assert!(!state.exists());
    assert!(!config.key_file().exists());
    let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn enrollment_and_kiosk_keys_load_and_validate() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "sitegate.toml",
        "[enrollment]\nterms_version = \"2026-11\"\nterms_text = \"Zasady / Términos\"\ncontact_required = \"email\"\n[kiosk]\nidle_seconds = 90\n",
    );
    let config = Config::load(&sources(
        Some(&path),
        &[("SITEGATE_ENROLLMENT__CONTACT_REQUIRED", "phone")],
    ))
    .unwrap();
    assert_eq!(config.enrollment.terms_version, "2026-11");
    assert_eq!(config.enrollment.terms_text, "Zasady / Términos");
    assert_eq!(
        config.enrollment.contact_required,
        crate::domain::enrollment::ContactRule::Phone,
        "the environment wins over the file"
    );
    assert_eq!(config.kiosk.idle_seconds, 90);

    let bad = write(&dir, "bad.toml", "[enrollment]\ncontact_required = \"fax\"\n");
    assert!(load_err(&sources(Some(&bad), &[])).contains("enrollment.contact_required"));
    let check = |edit: fn(&mut Config)| {
        let mut config = Config::default();
        edit(&mut config);
        config.validate().map_err(|e| e.to_string())
    };
    assert!(check(|c| c.kiosk.idle_seconds = 9).is_err());
    assert!(check(|c| c.kiosk.idle_seconds = 3600).is_ok());
    assert!(check(|c| c.enrollment.terms_version = " ".into()).is_err());
    assert!(check(|c| c.enrollment.terms_version = " 2 ".into()).is_err());
    assert!(check(|c| c.enrollment.terms_text = "\n".into()).is_err());
}
