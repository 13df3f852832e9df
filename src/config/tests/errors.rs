//! Tests that every configuration error names its source: file and line, variable or flag.

use super::*;

#[test]
fn env_errors_name_the_variable() {
    let bad_addr = [("SITEGATE_SERVER__LISTEN", "not-an-address")];
    assert_eq!(
        load_err(&sources(None, &bad_addr)),
        "environment variable SITEGATE_SERVER__LISTEN: invalid socket address syntax"
    );
    let unknown = load_err(&sources(None, &[("SITEGATE_SERVER__LISEN", "x")]));
    assert!(
        unknown.starts_with(
            "environment variable SITEGATE_SERVER__LISEN: unknown key `lisen` in [server] (expected one of: listen, kiosk_listen,"
        ),
        "{unknown}"
    );
    let unknown_top = load_err(&sources(None, &[("SITEGATE_STATEDIR", "/x")]));
    assert!(
        unknown_top.contains("SITEGATE_STATEDIR: unknown key `statedir` at the top level"),
        "{unknown_top}"
    );
    let malformed = load_err(&sources(None, &[("SITEGATE_A__B__C", "1")]));
    assert!(malformed.starts_with("environment variable SITEGATE_A__B__C: not a sitegate setting"));
    let range = load_err(&sources(None, &[("SITEGATE_SECURITY__PIN_LENGTH", "12")]));
    assert_eq!(
        range,
        "environment variable SITEGATE_SECURITY__PIN_LENGTH: 12 is out of range (allowed: 6 to 10)"
    );
    let twice = [("SITEGATE_SITE__NAME", "a"), ("sitegate_site__name", "b")];
    assert!(load_err(&sources(None, &twice)).contains("both set `site.name`"));
}

#[test]
fn file_errors_name_file_line_and_key() {
    let dir = TempDir::new().unwrap();
    let typo = write(
        &dir,
        "typo.toml",
        "[site]\nname = \"x\"\n\n[server]\nlisen = \"1\"\n",
    );
    let message = check_file(&typo).unwrap_err().to_string();
    let expected = format!(
        "{}:5: unknown key `lisen` in [server] (expected one of: listen, kiosk_listen, tls_cert_file, tls_key_file, body_limit_bytes, request_timeout_secs, public_hostnames)",
        typo.display()
    );
    assert_eq!(message, expected);

    let top = write(&dir, "top.toml", "\nsever = 1\n");
    let message = check_file(&top).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "{}:2: unknown key `sever` at the top level (expected one of: site, server,",
            top.display()
        )),
        "{message}"
    );

    let wrong_type = write(&dir, "type.toml", "[server]\n\nlisten = 8443\n");
    let message = check_file(&wrong_type).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "{}:3: key `server.listen`: invalid type",
            wrong_type.display()
        )),
        "{message}"
    );

    let bad_addr = write(&dir, "addr.toml", "[server]\n\nlisten = \"localhost\"\n");
    assert_eq!(
        check_file(&bad_addr).unwrap_err().to_string(),
        format!(
            "{}:3: key `server.listen`: invalid socket address syntax",
            bad_addr.display()
        )
    );

    let syntax = write(&dir, "syntax.toml", "[site]\nname = \"x\"\nthis is not toml\n");
    let message = check_file(&syntax).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:3: invalid TOML: ", syntax.display())),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");

    let kiosk = write(&dir, "kiosk.toml", "[server]\nkiosk_listen = \"0.0.0.0:8080\"\n");
    assert_eq!(
        check_file(&kiosk).unwrap_err().to_string(),
        format!(
            "{}:2: key `server.kiosk_listen`: the kiosk listener must be a loopback address (127.0.0.0/8 or ::1)",
            kiosk.display()
        )
    );

    let tls = write(
        &dir,
        "tls.toml",
        "[server]\nbody_limit_bytes = 4096\ntls_key_file = \"/k.pem\"\n",
    );
    let message = check_file(&tls).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:3: key `server.tls_key_file`: ", tls.display())),
        "{message}"
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("config.toml");
    let message = load_err(&sources(Some(&path), &[]));
    assert!(
        message.starts_with(&format!("{}: cannot read file: ", path.display())),
        "{message}"
    );
}

#[test]
fn kiosk_flag_must_be_loopback() {
    let mut sources = sources(None, &[]);
    sources.overrides.kiosk_listen = Some(addr("0.0.0.0:8080"));
    assert_eq!(
        load_err(&sources),
        "--kiosk-listen 0.0.0.0:8080: the kiosk listener must be a loopback address (127.0.0.0/8 or ::1)"
    );
}

#[test]
fn validate_rules() {
    let check = |edit: fn(&mut Config)| {
        let mut config = Config::default();
        edit(&mut config);
        config.validate().map_err(|e| e.to_string())
    };
    assert!(check(|c| c.server.kiosk_listen = Some(addr("[::ffff:127.0.0.1]:80"))).is_ok());
    assert!(check(|c| c.server.kiosk_listen = Some(addr("127.0.0.2:80"))).is_ok());
    assert!(check(|c| c.server.kiosk_listen = Some(addr("[::]:80"))).is_err());
    assert!(check(|c| c.server.tls_cert_file = Some("c".into())).is_err());
    assert!(
        check(|c| {
            c.server.tls_cert_file = Some("c".into());
            c.server.tls_key_file = Some("k".into());
        })
        .is_ok()
    );
    assert!(check(|c| c.server.body_limit_bytes = 1023).is_err());
    assert!(check(|c| c.server.body_limit_bytes = 64 * 1024 * 1024).is_ok());
    assert!(check(|c| c.server.request_timeout_secs = 0).is_err());
    assert!(check(|c| c.server.request_timeout_secs = 601).is_err());
    assert!(check(|c| c.security.pin_length = 5).is_err());
    assert!(check(|c| c.security.pin_length = 10).is_ok());
    assert!(check(|c| c.security.staff_idle_laptop_secs = 50_000).is_err());
    assert!(check(|c| c.central.url = Some("ftp://x".into())).is_err());
    assert!(check(|c| c.central.url = Some("https://".into())).is_err());
    assert!(check(|c| c.central.url = Some("http://central:8080".into())).is_ok());
    assert!(check(|c| c.log.filter = "info,=[".into()).is_err());
    assert_eq!(
        check(|c| {
            c.central.api_token = Some(Secret::new("t"));
            c.central.api_token_file = Some("f".into());
        }),
        Err("key `central.api_token_file`: set central.api_token or central.api_token_file, not both".into())
    );
}
