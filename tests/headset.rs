//! Headsets end to end with the reference client: pairing, login with ID + PIN, an OTP and ID + TOTP, progress, logout, and the bad inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod headset_support;

use std::sync::Arc;

use common::{Gateway, assert_problem};
use headset_support::*;
use reqwest::StatusCode;
use serde_json::json;
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::headset_client::LoginWith;
use time::Duration;
use uuid::Uuid;

async fn start(clock: &ManualClock, adjust: impl FnOnce(&mut sitegate::config::Config)) -> Gateway {
    Gateway::start_with(
        adjust,
        RunOptions {
            demo: false,
            clock: Some(Arc::new(clock.clone())),
        },
    )
    .await
}

#[tokio::test]
async fn reference_client_pairs_logs_in_three_ways_reports_progress_and_logs_out() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let (_, _, admin) = gw.admin_session().await;
    let (user, pin, module) = trainee_with_training(&gw, &admin, "Ana").await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset 1").await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("headset.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the state file holds the device token");

    // ID + PIN: the answer carries what the headset needs.
    let out = headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin: pin.clone(),
        })
        .await
        .expect("login with ID and PIN");
    assert_eq!(out["user"]["id"], user.as_str());
    assert_eq!(out["user"]["display_name"], "Ana Trainee");
    assert_eq!(out["user"]["language"], "en");
    assert_eq!(out["user"]["access_level"], "full");
    assert_eq!(out["idle_timeout_secs"], 1800);
    assert_eq!(out["training"][0]["module"]["id"], module.as_str());
    assert_eq!(out["training"][0]["status"], "pending");
    assert_eq!(headset.state.recent_users, vec![user.clone()]);

    // Progress: started, then a passed completion; the same event again is stored once.
    let module_id = Uuid::parse_str(&module).unwrap();
    headset
        .report(module_id, "started", None, None, None)
        .await
        .unwrap();
    let event = Uuid::now_v7();
    let first = headset
        .report(module_id, "completed", Some(92), Some(true), Some(event))
        .await
        .unwrap();
    assert_eq!(first["duplicate"], false);
    let again = headset
        .report(module_id, "completed", Some(92), Some(true), Some(event))
        .await
        .unwrap();
    assert_eq!(again["duplicate"], true);
    let (_, detail) = gw.get(&format!("/api/users/{user}"), Some(&admin)).await;
    assert_eq!(detail["training"][0]["status"], "completed");
    let kinds: Vec<&str> = detail["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "module_completed").count(),
        1,
        "a repeated event is stored once: {kinds:?}"
    );
    assert!(
        kinds.contains(&"module_started") && kinds.contains(&"headset_logged_in"),
        "{kinds:?}"
    );
    let me = headset.me().await.unwrap();
    assert_eq!(me["training"][0]["status"], "completed");

    // Staff see the session; logout ends it.
    let (_, sessions) = gw.get("/api/headset-sessions", Some(&admin)).await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(sessions[0]["user_id"], user.as_str());
    assert_eq!(sessions[0]["device_name"], "Headset 1");
    let session = headset.state.session_token.clone().unwrap();
    headset.logout().await.unwrap();
    let token = headset.state.device_token.clone().unwrap();
    let (s, body) = headset_get(&gw, "/api/headset/me", &token, Some(&session)).await;
    assert_problem(s, &body, 401, "unauthenticated");

    // A one-time password alone, once.
    let (s, otp) = gw
        .post(&format!("/api/users/{user}/otp"), Some(&admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{otp}");
    let code = otp["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8);
    let out = headset
        .login(LoginWith::Otp { code: code.clone() })
        .await
        .unwrap();
    assert_eq!(out["user"]["id"], user.as_str());
    let err = headset.login(LoginWith::Otp { code }).await.unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("invalid_credentials"),
        "an OTP works once"
    );

    // ID + TOTP; the same code again is a replay.
    let secret = enroll_totp(&gw, &admin, &user, T0).await;
    clock.advance(Duration::seconds(30));
    let code = totp_code(&secret, clock_now(&clock));
    let out = headset
        .login(LoginWith::Totp {
            user_id: user.clone(),
            code: code.clone(),
        })
        .await
        .expect("login with ID and TOTP");
    assert_eq!(out["user"]["id"], user.as_str());
    let err = headset
        .login(LoginWith::Totp {
            user_id: user.clone(),
            code,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("invalid_credentials"),
        "replayed TOTP refused"
    );
    // The previous step's code is older than the last accepted one: refused too.
    let old = totp_code(&secret, clock_now(&clock) - Duration::seconds(30));
    let err = headset
        .login(LoginWith::Totp {
            user_id: user,
            code: old,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("invalid_credentials"));
    gw.stop().await;
}

fn clock_now(clock: &ManualClock) -> time::OffsetDateTime {
    use sitegate::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn unpaired_and_revoked_devices_cannot_log_anyone_in_and_revocation_ends_sessions() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let (_, _, admin) = gw.admin_session().await;
    let (user, pin, _) = trainee_with_training(&gw, &admin, "Bo").await;
    let login = json!({"user_id": user, "pin": pin});
    let (s, body) = headset_post(
        &gw,
        "/api/headset/login",
        "not-a-device-token",
        None,
        login.clone(),
    )
    .await;
    assert_problem(s, &body, 401, "device_unpaired");
    let res = gw
        .client
        .post(gw.url("/api/headset/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no token at all");

    // A pending (not yet approved) device has no token: claiming says so.
    let dir = tempfile::tempdir().unwrap();
    let (mut pending, _) = sitegate::headset_client::HeadsetClient::pair(
        dir.path(),
        &format!("https://{}", gw.https),
        "Pending one",
        "Quest",
        "1",
        None,
    )
    .await
    .unwrap();
    let err = pending
        .wait_for_approval(std::time::Duration::from_millis(10))
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("pairing_pending"));
    let err = pending
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin: pin.clone(),
        })
        .await
        .unwrap_err();
    assert!(err.message.contains("no device token"), "{}", err.message);

    let dir2 = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir2.path(), "Headset 2").await;
    headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin: pin.clone(),
        })
        .await
        .unwrap();
    let device_id = headset.state.device_id.unwrap();
    let token = headset.state.device_token.clone().unwrap();
    let session = headset.state.session_token.clone().unwrap();
    let (s, _) = headset_get(&gw, "/api/headset/me", &token, Some(&session)).await;
    assert_eq!(s, StatusCode::OK);
    // The session token alone, from another device, is not enough.
    let (s, body) = headset_get(&gw, "/api/headset/me", "stolen", Some(&session)).await;
    assert_problem(s, &body, 401, "device_unpaired");

    let (s, _) = gw
        .post(
            &format!("/api/devices/{device_id}/revoke"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = headset_get(&gw, "/api/headset/me", &token, Some(&session)).await;
    assert_problem(s, &body, 403, "device_revoked");
    let (_, sessions) = gw.get("/api/headset-sessions", Some(&admin)).await;
    assert_eq!(
        sessions.as_array().unwrap().len(),
        0,
        "revocation ended the session at once"
    );
    let err = headset
        .login(LoginWith::Pin { user_id: user, pin })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("device_revoked"));
    gw.stop().await;
}

#[tokio::test]
async fn malformed_oversized_and_flooding_pairing_requests_are_refused() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |c| c.security.pairing_max_pending = 3).await;
    let (admin_id, admin_pin, admin) = gw.admin_session().await;
    let key = "A".repeat(43);
    let ok = json!({"name": "H", "model": "M", "firmware": "1", "device_key": key});
    let res = gw
        .client
        .post(gw.url("/api/devices/pair"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let (s, body) = gw
        .post(
            "/api/devices/pair",
            None,
            json!({"name": "H", "model": "M", "firmware": "1"}),
        )
        .await;
    assert_problem(s, &body, 422, "invalid_body");
    let (s, body) = gw
        .post(
            "/api/devices/pair",
            None,
            json!({"name": "H", "model": "M", "firmware": "1", "device_key": "short"}),
        )
        .await;
    assert_problem(s, &body, 422, "invalid_field");
    assert_eq!(body["field"], "device_key");
    let (s, body) = gw
        .post(
            "/api/devices/pair",
            None,
            json!({"name": "H", "model": "M", "firmware": "1", "device_key": key, "extra": 1}),
        )
        .await;
    assert_problem(s, &body, 422, "invalid_body");
    let (s, body) = gw
        .post(
            "/api/devices/pair",
            None,
            json!({"name": "H".repeat(4000), "model": "M", "firmware": "1", "device_key": key}),
        )
        .await;
    assert_problem(s, &body, 413, "payload_too_large");
    let (s, body) = gw
        .post(
            "/api/devices/pair",
            None,
            json!({"name": "H".repeat(65), "model": "M", "firmware": "1", "device_key": key}),
        )
        .await;
    assert_problem(s, &body, 422, "invalid_field");

    // A flood: three wait, the fourth is refused; once they lapse (an hour), room again.
    for _ in 0..3 {
        let (s, body) = gw.post("/api/devices/pair", None, ok.clone()).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    }
    let (s, body) = gw.post("/api/devices/pair", None, ok.clone()).await;
    assert_problem(s, &body, 429, "pairing_queue_full");
    let (_, devices) = gw.get("/api/devices", Some(&admin)).await;
    assert_eq!(
        devices.as_array().unwrap().len(),
        3,
        "the refused request left nothing behind"
    );
    clock.advance(Duration::hours(1));
    let (s, _) = gw.post("/api/devices/pair", None, ok).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let admin = gw.sign_in(&admin_id, &admin_pin).await;
    let (_, devices) = gw.get("/api/devices", Some(&admin)).await;
    assert_eq!(
        devices.as_array().unwrap().len(),
        1,
        "lapsed requests are dropped"
    );
    gw.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old_or_ended_by_staff_and_a_clock_set_back_reopens_nothing() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let (admin_id, admin_pin, admin) = gw.admin_session().await;
    let (user, pin, _) = trainee_with_training(&gw, &admin, "Cy").await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset 3").await;
    let token = headset.state.device_token.clone().unwrap();
    let login = LoginWith::Pin {
        user_id: user.clone(),
        pin: pin.clone(),
    };

    // Idle: 29 minutes is fine, then 30 idle minutes end it; setting the clock back does not revive it.
    headset.login(login.clone()).await.unwrap();
    let session = headset.state.session_token.clone().unwrap();
    clock.advance(Duration::minutes(29));
    assert_eq!(
        headset_get(&gw, "/api/headset/me", &token, Some(&session))
            .await
            .0,
        StatusCode::OK
    );
    clock.advance(Duration::minutes(30));
    let (s, body) = headset_get(&gw, "/api/headset/me", &token, Some(&session)).await;
    assert_problem(s, &body, 401, "unauthenticated");
    clock.advance(-Duration::hours(2));
    let (s, _) = headset_get(&gw, "/api/headset/me", &token, Some(&session)).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a clock jump back reopens no session"
    );

    // Absolute: kept busy, it still ends after 8 hours.
    headset.login(login.clone()).await.unwrap();
    let session = headset.state.session_token.clone().unwrap();
    for _ in 0..16 {
        clock.advance(Duration::minutes(29));
        assert_eq!(
            headset_get(&gw, "/api/headset/me", &token, Some(&session))
                .await
                .0,
            StatusCode::OK
        );
    }
    clock.advance(Duration::minutes(20));
    assert_eq!(
        headset_get(&gw, "/api/headset/me", &token, Some(&session))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    // Staff end one.
    let admin = gw.sign_in(&admin_id, &admin_pin).await;
    headset.login(login).await.unwrap();
    let session = headset.state.session_token.clone().unwrap();
    let (_, list) = gw.get("/api/headset-sessions", Some(&admin)).await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    let (s, _) = gw
        .post(
            &format!("/api/headset-sessions/{id}/end"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = headset_get(&gw, "/api/headset/me", &token, Some(&session)).await;
    assert_problem(s, &body, 401, "unauthenticated");
    gw.stop().await;
}

#[tokio::test]
async fn progress_for_a_module_not_assigned_or_malformed_is_refused() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let (_, _, admin) = gw.admin_session().await;
    let (user, pin, module) = trainee_with_training(&gw, &admin, "Di").await;
    let (_, _, other_module) = trainee_with_training(&gw, &admin, "Ed").await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset 4").await;
    headset
        .login(LoginWith::Pin {
            user_id: user.clone(),
            pin,
        })
        .await
        .unwrap();
    let err = headset
        .report(
            Uuid::parse_str(&other_module).unwrap(),
            "started",
            None,
            None,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("module_not_assigned"));
    let err = headset
        .report(Uuid::now_v7(), "started", None, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("module_not_assigned"));
    let m = Uuid::parse_str(&module).unwrap();
    let err = headset
        .report(m, "completed", None, Some(true), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("invalid_field"),
        "a completion needs a score"
    );
    let err = headset.report(m, "finished", None, None, None).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("invalid_body"));
    // One event ID, two different contents: the second is refused.
    let id = Uuid::now_v7();
    headset.report(m, "started", None, None, Some(id)).await.unwrap();
    let err = headset
        .report(m, "aborted", None, None, Some(id))
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("event_id_reused"));
    // A failed completion is recorded but does not complete the module.
    headset
        .report(m, "completed", Some(40), Some(false), None)
        .await
        .unwrap();
    let (_, detail) = gw.get(&format!("/api/users/{user}"), Some(&admin)).await;
    assert_eq!(detail["training"][0]["status"], "pending");
    assert_eq!(detail["activity"][0]["kind"], "module_failed");
    gw.stop().await;
}

#[tokio::test]
async fn deactivated_classroom_only_and_pin_only_rules() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let (_, _, admin) = gw.admin_session().await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset 5").await;

    // Classroom-only: refused with its own code, but only when the PIN is right.
    let u = gw
        .create_user(
            &admin,
            json!({"given_name": "Fa", "family_name": "Room", "access_level": "classroom_only"}),
        )
        .await;
    let id = u["id"].as_str().unwrap().to_string();
    let pin = issue_pin(&gw, &admin, &id).await;
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let err = headset
        .login(LoginWith::Pin {
            user_id: id.clone(),
            pin: wrong.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("invalid_credentials"));
    let err = headset
        .login(LoginWith::Pin {
            user_id: id.clone(),
            pin,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("classroom_only"));

    // Deactivated: an authenticator still verifies, then the specific refusal.
    let (user, _, _) = trainee_with_training(&gw, &admin, "Gu").await;
    let secret = enroll_totp(&gw, &admin, &user, T0).await;
    let (s, _) = gw
        .post(&format!("/api/users/{user}/deactivate"), Some(&admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    clock.advance(Duration::seconds(30));
    let code = totp_code(&secret, T0 + Duration::seconds(30));
    let err = headset
        .login(LoginWith::Totp { user_id: user, code })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("user_deactivated"));

    // PIN alone is off by default.
    let err = headset
        .login(LoginWith::PinOnly { pin: "123456".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("pin_only_login_off"));
    let (s, roster) = headset_get(
        &gw,
        "/api/headset/roster",
        headset.state.device_token.as_deref().unwrap(),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(roster["participants"], json!([]));
    assert_eq!(roster["room"], json!(null));
    let device = headset.state.device_id.unwrap();
    let (s, d) = gw
        .post(
            &format!("/api/devices/{device}/room"),
            Some(&admin),
            json!({"room": "Room 2"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(headset.roster().await.unwrap()["room"], "Room 2");
    gw.stop().await;
}

#[tokio::test]
async fn pin_only_login_works_where_the_site_turned_it_on() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |c| c.security.pin_only_login = true).await;
    let (_, _, admin) = gw.admin_session().await;
    let (user, pin, _) = trainee_with_training(&gw, &admin, "Hu").await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &admin, dir.path(), "Headset 6").await;
    let out = headset.login(LoginWith::PinOnly { pin }).await.unwrap();
    assert_eq!(out["user"]["id"], user.as_str());
    let (_, odds) = gw.get("/api/security/odds", Some(&admin)).await;
    assert_eq!(odds["pin_only_login"], true);
    assert!(
        odds["summary"].as_str().unwrap().contains("PIN-only login is ON"),
        "{odds}"
    );
    gw.stop().await;
}
