//! Credentials: throttled guessing (per account, per device, site-wide, across restarts), one-time passwords, staff TOTP, odds, and the technician CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod headset_support;

use std::sync::Arc;

use common::{Gateway, assert_problem};
use headset_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::headset_client::LoginWith;
use sitegate::service::admin::{AdminRequest, AdminResponse};
use time::Duration;

fn options(clock: &ManualClock) -> RunOptions {
    RunOptions {
        demo: false,
        clock: Some(Arc::new(clock.clone())),
    }
}

fn wrong(pin: &str) -> String {
    if pin == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

async fn sign_in_raw(gw: &Gateway, body: Value) -> (StatusCode, Value, Option<String>) {
    let res = gw
        .client
        .post(gw.url("/api/auth/sign-in"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap_or(Value::Null), retry)
}

async fn audit(gw: &Gateway, token: &str) -> Vec<Value> {
    let (s, body) = gw.get("/api/audit?limit=1000", Some(token)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

#[tokio::test]
async fn wrong_pins_slow_the_account_from_the_sixth_try_the_same_for_unknown_ids_and_every_try_is_audited() {
    let clock = ManualClock::new(T0);
    let gw = Gateway::start_with(|_| {}, options(&clock)).await;
    let (id, pin, _) = gw.admin_session().await;
    let bad = json!({"user_id": id, "pin": wrong(&pin)});
    for _ in 0..5 {
        let (s, body, _) = sign_in_raw(&gw, bad.clone()).await;
        assert_problem(s, &body, 401, "invalid_credentials");
    }
    let (s, body, retry) = sign_in_raw(&gw, json!({"user_id": id, "pin": pin})).await;
    assert_problem(s, &body, 429, "login_throttled");
    assert_eq!(
        retry.as_deref(),
        Some("30"),
        "the right PIN waits too: the answer says nothing about it"
    );
    clock.advance(Duration::seconds(30));
    let (s, body, _) = sign_in_raw(&gw, bad.clone()).await;
    assert_problem(s, &body, 401, "invalid_credentials");
    let (_, _, retry) = sign_in_raw(&gw, bad.clone()).await;
    assert_eq!(retry.as_deref(), Some("60"), "the wait doubles");
    clock.advance(Duration::seconds(60));
    let (s, _, _) = sign_in_raw(&gw, json!({"user_id": id, "pin": pin})).await;
    assert_eq!(s, StatusCode::OK, "a success resets the account");
    let (s, _, _) = sign_in_raw(&gw, bad.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // An ID nobody has is slowed exactly the same way (no way to tell it does not exist).
    let ghost = sitegate::domain::ids::UserId::mint(&mut rand::rng()).to_string();
    for _ in 0..5 {
        let (s, body, _) = sign_in_raw(&gw, json!({"user_id": ghost, "pin": "123456"})).await;
        assert_problem(s, &body, 401, "invalid_credentials");
    }
    let (s, body, retry) = sign_in_raw(&gw, json!({"user_id": ghost, "pin": "123456"})).await;
    assert_problem(s, &body, 429, "login_throttled");
    assert_eq!(retry.as_deref(), Some("30"));

    let token = gw.sign_in(&id, &pin).await;
    let entries = audit(&gw, &token).await;
    let count = |outcome: &str| {
        entries
            .iter()
            .filter(|e| e["event"] == "staff.sign_in" && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(count("failure"), 12);
    assert_eq!(count("throttled"), 3);
    assert!(count("success") >= 3);
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(&pin), "no PIN in the audit log");
    let (_, status) = gw.get("/api/security/throttle", Some(&token)).await;
    assert!(
        status["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["user_id"] == ghost.as_str()),
        "{status}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn device_and_site_budgets_hold_across_a_restart_and_staff_clear_them_at_the_kiosk() {
    let clock = ManualClock::new(T0);
    let adjust = |c: &mut sitegate::config::Config| {
        c.security.throttle_device_failures = 3;
        c.security.throttle_site_failures = 5;
        c.security.throttle_kiosk_failures = 10;
    };
    let gw = Gateway::start_with(adjust, options(&clock)).await;
    let (admin_id, admin_pin, admin) = gw.admin_session().await;
    let (user, pin, _) = trainee_with_training(&gw, &admin, "Io").await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset T").await;
    let device = headset.state.device_id.unwrap();

    // The headset: three failures (different users named), then it is throttled, even with the right PIN.
    for i in 0..3 {
        let ghost = sitegate::domain::ids::UserId::mint(&mut rand::rng()).to_string();
        let err = headset
            .login(LoginWith::Pin {
                user_id: ghost,
                pin: format!("00000{i}"),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("invalid_credentials"));
    }
    let err = headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin: pin.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("device_throttled"));

    // Two more failures from a laptop address reach the site budget: suspended, and staff alerted.
    for _ in 0..2 {
        let (s, _, _) = sign_in_raw(&gw, json!({"user_id": admin_id, "pin": wrong(&admin_pin)})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, body, _) = sign_in_raw(&gw, json!({"user_id": admin_id, "pin": admin_pin})).await;
    assert_problem(s, &body, 503, "pin_login_suspended");

    // A restart changes nothing: the state is in the store.
    let dir_state = gw.stop().await;
    let gw = Gateway::start_in(dir_state, adjust, options(&clock)).await;
    let (s, body, _) = sign_in_raw(&gw, json!({"user_id": admin_id, "pin": admin_pin})).await;
    assert_problem(s, &body, 503, "pin_login_suspended");

    // The kiosk on the box keeps working; staff see the alert and lift the suspension there.
    let kiosk = reqwest::Client::new();
    let res = kiosk
        .post(gw.kiosk_url("/api/auth/sign-in"))
        .json(&json!({"user_id": admin_id, "pin": admin_pin}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let base = format!("http://{}", gw.kiosk);
    let staff = |path: &str| {
        kiosk
            .get(format!("{base}{path}"))
            .header("cookie", cookie.clone())
    };
    let entries: Vec<Value> = staff("/api/audit").send().await.unwrap().json().await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["event"] == "alert.pin_login_suspended" && e["outcome"] == "alert"),
        "staff alert entry"
    );
    let status: Value = staff("/api/security/throttle")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["suspended"], true);
    assert_eq!(status["site_failures_24h"], 5);
    let clear = |body: Value| {
        kiosk
            .post(format!("{base}/api/security/throttle/clear"))
            .header("cookie", cookie.clone())
            .header("origin", base.clone())
            .json(&body)
            .send()
    };
    assert_eq!(
        clear(json!({"scope": "site"})).await.unwrap().status(),
        StatusCode::OK
    );
    let (s, _, _) = sign_in_raw(&gw, json!({"user_id": admin_id, "pin": admin_pin})).await;
    assert_eq!(s, StatusCode::OK, "laptops may sign in again");

    // The headset stays throttled until staff clear it too (or the day rolls by).
    let mut headset = sitegate::headset_client::HeadsetClient::load(dir.path()).unwrap();
    // The restarted gateway listens on a new test port; its certificate (pinned) is the same.
    headset.state.base_url = format!("https://{}", gw.https);
    let err = headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin: pin.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("device_throttled"));
    let res = clear(json!({"scope": "source", "key": format!("device:{device}")}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    headset
        .login(LoginWith::Pin { user_id: user, pin })
        .await
        .expect("cleared");
    gw.stop().await;
}

async fn issue_otp(gw: &Gateway, admin: &str, user: &str) -> (StatusCode, Value) {
    gw.post(&format!("/api/users/{user}/otp"), Some(admin), json!({}))
        .await
}

#[tokio::test]
async fn one_time_passwords_expire_work_once_are_listed_without_codes_revocable_and_capped() {
    let clock = ManualClock::new(T0);
    let gw = Gateway::start_with(|c| c.security.otp_max_outstanding = 3, options(&clock)).await;
    let (admin_id, admin_pin, admin) = gw.admin_session().await;
    let (user, _, _) = trainee_with_training(&gw, &admin, "Jo").await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset O").await;
    let (_, first) = issue_otp(&gw, &admin, &user).await;
    let (_, second) = issue_otp(&gw, &admin, &user).await;
    let (_, third) = issue_otp(&gw, &admin, &user).await;
    let (s, body) = issue_otp(&gw, &admin, &user).await;
    assert_problem(s, &body, 409, "too_many_otps");
    let (_, list) = gw.get(&format!("/api/otps?user_id={user}"), Some(&admin)).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(
        list.to_string().find(first["code"].as_str().unwrap()).is_none(),
        "codes are never listed"
    );

    // Revoked: refused.
    let (s, _) = gw
        .post(
            &format!("/api/otps/{}/revoke", second["id"].as_str().unwrap()),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let err = headset
        .login(LoginWith::Otp {
            code: second["code"].as_str().unwrap().into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("invalid_credentials"));
    // Used once: refused the second time.
    headset
        .login(LoginWith::Otp {
            code: third["code"].as_str().unwrap().into(),
        })
        .await
        .unwrap();
    let err = headset
        .login(LoginWith::Otp {
            code: third["code"].as_str().unwrap().into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("invalid_credentials"));
    // Expired after 15 minutes; setting the clock back does not bring it back.
    clock.advance(Duration::minutes(15));
    let err = headset
        .login(LoginWith::Otp {
            code: first["code"].as_str().unwrap().into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("invalid_credentials"), "expired");
    let admin = gw.sign_in(&admin_id, &admin_pin).await;
    let (_, fresh) = issue_otp(&gw, &admin, &user).await;
    clock.advance(Duration::minutes(16));
    // The gateway notices the time (here: staff open the list, where it is gone; in production the
    // security clock's tick does it every 15 s), then the wall clock is set back 10 minutes.
    let admin = gw.sign_in(&admin_id, &admin_pin).await;
    let (_, list) = gw.get(&format!("/api/otps?user_id={user}"), Some(&admin)).await;
    assert_eq!(list, json!([]), "expired passwords are not listed");
    clock.advance(-Duration::minutes(10));
    let err = headset
        .login(LoginWith::Otp {
            code: fresh["code"].as_str().unwrap().into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("invalid_credentials"),
        "a clock set back reopens no OTP"
    );
    gw.stop().await;
}

#[tokio::test]
async fn staff_with_an_authenticator_need_its_code_to_sign_in() {
    let clock = ManualClock::new(T0);
    let gw = Gateway::start_with(|_| {}, options(&clock)).await;
    let (id, pin, token) = gw.admin_session().await;
    let (_, status) = gw.get(&format!("/api/users/{id}/totp"), Some(&token)).await;
    assert_eq!(
        status,
        json!({"enrolled": false, "pending": false, "required": true})
    );
    // Self-enrollment through the staff routes.
    let (s, e) = gw.post("/api/auth/totp", Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let secret = e["secret"].as_str().unwrap().to_string();
    let (s, body) = gw
        .post("/api/auth/totp/confirm", Some(&token), json!({"code": "000000"}))
        .await;
    if totp_code(&secret, T0) != "000000" {
        assert_problem(s, &body, 422, "invalid_field");
    }
    let (s, _) = gw
        .post(
            "/api/auth/totp/confirm",
            Some(&token),
            json!({"code": totp_code(&secret, T0)}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let (s, body, _) = sign_in_raw(&gw, json!({"user_id": id, "pin": pin})).await;
    assert_problem(s, &body, 401, "totp_required");
    // The enrollment code's step was accepted already: using it again is a replay.
    let (s, body, _) = sign_in_raw(
        &gw,
        json!({"user_id": id, "pin": pin, "totp": totp_code(&secret, T0)}),
    )
    .await;
    assert_problem(s, &body, 401, "invalid_credentials");
    clock.advance(Duration::seconds(30));
    let (s, body, _) = sign_in_raw(
        &gw,
        json!({"user_id": id, "pin": pin, "totp": totp_code(&secret, T0 + Duration::seconds(30))}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    gw.stop().await;
}

#[tokio::test]
async fn the_staff_screen_shows_the_odds_for_the_sites_settings() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let (s, odds) = gw.get("/api/security/odds", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{odds}");
    assert_eq!(odds["guesses_per_day"], 300);
    assert_eq!(odds["pin_only_login"], false);
    assert!((odds["per_guess_totp"].as_f64().unwrap() - 3e-6).abs() < 1e-12);
    assert!(odds["per_day"].as_f64().unwrap() < 1e-3);
    assert!(odds["one_in"].as_u64().unwrap() > 1000);
    gw.stop().await;
}

#[tokio::test]
async fn the_technician_issues_pins_and_otps_and_manages_devices_from_the_cli() {
    let gw = Gateway::start().await;
    let (_, _, admin) = gw.admin_session().await;
    let (user, old_pin, _) = trainee_with_training(&gw, &admin, "Ka").await;
    let AdminResponse::Pin { pin, .. } = gw.admin(AdminRequest::UserPin { id: user.clone() }).await else {
        panic!("pin")
    };
    assert_eq!(pin.len(), 6);
    let AdminResponse::Otp(otp) = gw.admin(AdminRequest::UserOtp { id: user.clone() }).await else {
        panic!("otp")
    };
    assert_eq!(otp.code.len(), 8);
    let dir = tempfile::tempdir().unwrap();
    let (mut headset, started) = sitegate::headset_client::HeadsetClient::pair(
        dir.path(),
        &format!("https://{}", gw.https),
        "CLI headset",
        "Quest",
        "1",
        None,
    )
    .await
    .unwrap();
    let AdminResponse::Devices { devices } = gw.admin(AdminRequest::DeviceList).await else {
        panic!("list")
    };
    assert_eq!(devices[0].comparison_code, started.comparison_code);
    gw.admin(AdminRequest::DeviceChange {
        id: started.device_id.to_string(),
        change: sitegate::service::devices::DeviceChange::Approve,
    })
    .await;
    headset
        .wait_for_approval(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let err = headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin: old_pin,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("invalid_credentials"),
        "the old PIN stopped at once"
    );
    headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin,
        })
        .await
        .unwrap();
    headset.logout().await.unwrap();
    headset.login(LoginWith::Otp { code: otp.code }).await.unwrap();
    let text = sitegate::cli::admin(&gw.config, AdminRequest::DeviceList)
        .await
        .unwrap();
    let AdminResponse::Devices { devices } = text else {
        panic!()
    };
    assert_eq!(sitegate::domain::device::state_str(devices[0].state), "approved");
    gw.stop().await;
}
