//! No secret reaches the logs: a whole run (first admin with its bootstrap code, users with PINs,
//! one-time passwords, authenticator enrollment and codes, staff and headset sessions, a paired
//! headset's token, wrong guesses, technician commands) logged at debug level through the
//! gateway's own text and JSON formats, then every PIN, code, token and TOTP secret it made is
//! looked for in what was logged. None may appear.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod headset_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::Gateway;
use headset_support::*;
use reqwest::StatusCode;
use serde_json::json;
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::config::LogFormat;
use sitegate::headset_client::LoginWith;
use sitegate::logging::Style;
use sitegate::service::admin::{AdminRequest, AdminResponse};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Everything logged in one format.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_logs_no_pin_code_token_or_secret() {
    let (text, json_log) = (Captured::default(), Captured::default());
    let plain = Style {
        journal: false,
        ansi: false,
    };
    let (t, j) = (text.clone(), json_log.clone());
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("debug"))
        .with(sitegate::logging::layer(LogFormat::Text, plain, move || {
            t.clone()
        }))
        .with(sitegate::logging::layer(LogFormat::Json, plain, move || {
            j.clone()
        }))
        .init();

    let clock = ManualClock::new(T0);
    let gw = Gateway::start_with(
        |_| {},
        RunOptions {
            demo: false,
            clock: Some(Arc::new(clock.clone())),
        },
    )
    .await;
    let mut secrets: Vec<(&str, String)> = Vec::new();

    // The first admin: bootstrap code, PIN, session.
    let AdminResponse::Bootstrap(b) = gw
        .admin(AdminRequest::Init {
            input: sitegate::domain::user::NewUserInput {
                given_name: "Ada".into(),
                family_name: "Admin".into(),
                ..Default::default()
            },
        })
        .await
    else {
        panic!("init")
    };
    let admin_id = b.user.id.to_string();
    secrets.push(("bootstrap code", b.code.clone()));
    let (s, body) = gw
        .post(
            "/api/auth/bootstrap",
            None,
            json!({"user_id": admin_id, "code": b.code}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let admin_pin = body["pin"].as_str().unwrap().to_owned();
    secrets.push(("admin PIN", admin_pin.clone()));
    let admin = gw.sign_in(&admin_id, &admin_pin).await;
    secrets.push(("admin session token", admin.clone()));

    // A trainee with a PIN (API), a new PIN (technician command), a one-time password (both).
    let (trainee, pin, _) = trainee_with_training(&gw, &admin, "Jo").await;
    secrets.push(("trainee PIN (API)", pin));
    let AdminResponse::Pin { pin, .. } = gw.admin(AdminRequest::UserPin { id: trainee.clone() }).await else {
        panic!("user pin")
    };
    secrets.push(("trainee PIN (CLI)", pin.clone()));
    let AdminResponse::Otp(otp) = gw.admin(AdminRequest::UserOtp { id: trainee.clone() }).await else {
        panic!("user otp")
    };
    secrets.push(("OTP (CLI)", otp.code.clone()));
    let (s, o) = gw
        .post(&format!("/api/users/{trainee}/otp"), Some(&admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let otp_api = o["code"].as_str().unwrap().to_owned();
    secrets.push(("OTP (API)", otp_api.clone()));

    // A paired headset: its token, logins by PIN, OTP and TOTP, their session tokens.
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset L").await;
    secrets.push(("device token", headset.state.device_token.clone().unwrap()));
    headset
        .login(LoginWith::Pin {
            user_id: trainee.clone(),
            pin: pin.clone(),
        })
        .await
        .expect("PIN login");
    secrets.push((
        "headset session (PIN)",
        headset.state.session_token.clone().unwrap(),
    ));
    headset.logout().await.expect("logout");
    headset
        .login(LoginWith::Otp { code: otp_api })
        .await
        .expect("OTP login");
    secrets.push((
        "headset session (OTP)",
        headset.state.session_token.clone().unwrap(),
    ));
    headset.logout().await.expect("logout");
    let totp = enroll_totp(&gw, &admin, &trainee, T0).await;
    secrets.push(("TOTP secret", totp.clone()));
    clock.advance(time::Duration::seconds(30));
    let code = totp_code(&totp, T0 + time::Duration::seconds(30));
    headset
        .login(LoginWith::Totp {
            user_id: trainee.clone(),
            code: code.clone(),
        })
        .await
        .expect("TOTP login");
    secrets.push(("TOTP code", code));
    secrets.push((
        "headset session (TOTP)",
        headset.state.session_token.clone().unwrap(),
    ));

    // Staff with an authenticator of their own: enrollment on the staff routes, sign-in with it.
    let (s, e) = gw.post("/api/auth/totp", Some(&admin), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let staff_totp = e["secret"].as_str().unwrap().to_owned();
    secrets.push(("staff TOTP secret", staff_totp.clone()));
    let uri = e["otpauth_uri"].as_str().unwrap().to_owned();
    clock.advance(time::Duration::seconds(30));
    let now = T0 + time::Duration::seconds(60);
    let (s, body) = gw
        .post(
            "/api/auth/totp/confirm",
            Some(&admin),
            json!({"code": totp_code(&staff_totp, now)}),
        )
        .await;
    assert!(s.is_success(), "{body}");
    clock.advance(time::Duration::seconds(30));
    let staff_code = totp_code(&staff_totp, now + time::Duration::seconds(30));
    let (s, body) = gw
        .post(
            "/api/auth/sign-in",
            None,
            json!({"user_id": admin_id, "pin": admin_pin, "totp": staff_code}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    secrets.push(("staff TOTP code", staff_code));
    secrets.push(("second staff session", body["token"].as_str().unwrap().to_owned()));

    // Wrong guesses are logged as failures, without what was typed.
    let wrong_pin = if pin == "424242" { "242424" } else { "424242" };
    let (s, _) = gw
        .post(
            "/api/auth/sign-in",
            None,
            json!({"user_id": trainee, "pin": wrong_pin}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    secrets.push(("wrong PIN", wrong_pin.to_owned()));
    gw.stop().await;

    let text = text.text();
    let json_text = json_log.text();
    assert!(text.lines().count() > 50, "the run was logged: {text}");
    assert!(text.contains("sitegate ready") && json_text.contains("sitegate ready"));
    for line in json_text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    // The otpauth URI carries the secret; the URL-encoded form must not leak either.
    secrets.push(("otpauth URI", uri));
    for (what, secret) in &secrets {
        assert!(secret.len() >= 6, "{what}: {secret:?}");
        for (format, log) in [("text", &text), ("json", &json_text)] {
            if let Some(at) = leak(log, secret) {
                let from = log[..at].rfind('\n').map_or(0, |i| i + 1);
                let to = log[at..].find('\n').map_or(log.len(), |i| at + i);
                panic!("the {what} appears in the {format} log: {}", &log[from..to]);
            }
        }
    }
}

/// Where `secret` appears in `log`. A secret of digits only counts as a whole number: not inside
/// a longer one, and not as the fraction of a timestamp (`07:00:01.123456Z`), where six random
/// digits meet a PIN once in a million.
fn leak(log: &str, secret: &str) -> Option<usize> {
    let digits = secret.bytes().all(|b| b.is_ascii_digit());
    log.match_indices(secret).map(|(at, _)| at).find(|&at| {
        if !digits {
            return true;
        }
        let before = log[..at].bytes().last();
        let after = log[at + secret.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit() || b == b'.') && !after.is_some_and(|b| b.is_ascii_digit())
    })
}
