//! Staff sign-in: init's bootstrap code, PINs, sessions that end, and routes that need a role.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{Gateway, assert_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::domain::user::NewUserInput;
use sitegate::service::admin::{AdminRequest, AdminResponse};
use time::Duration;

#[tokio::test]
async fn bootstrap_code_works_once_and_gives_a_pin_that_signs_in() {
    let gw = Gateway::start().await;
    let AdminResponse::Bootstrap(b) = gw
        .admin(AdminRequest::Init {
            input: NewUserInput {
                given_name: "Ana".into(),
                family_name: "Silva".into(),
                ..Default::default()
            },
        })
        .await
    else {
        panic!("init")
    };
    let id = b.user.id.to_string();
    // A wrong code is called a code, not a PIN; and an unknown ID gets the very same answer, so it
    // tells nobody which part was wrong.
    let (s, body) = gw
        .post(
            "/api/auth/bootstrap",
            None,
            json!({"user_id": id, "code": "00000-00000"}),
        )
        .await;
    assert_problem(s, &body, 401, "invalid_bootstrap_code");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("bootstrap code"), "{detail}");
    assert!(!detail.contains("PIN"), "{detail}");
    let (s, unknown) = gw
        .post(
            "/api/auth/bootstrap",
            None,
            json!({"user_id": unknown_valid_id(), "code": b.code}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown, body);
    // The code is typo-forgiving in case (typed on a phone) and works once.
    let (s, body) = gw
        .post(
            "/api/auth/bootstrap",
            None,
            json!({"user_id": id, "code": b.code.to_lowercase()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let pin = body["pin"].as_str().unwrap().to_string();
    assert_eq!(pin.len(), 6);
    assert!(pin.chars().all(|c| c.is_ascii_digit()));
    let (s, body) = gw
        .post(
            "/api/auth/bootstrap",
            None,
            json!({"user_id": id, "code": b.code}),
        )
        .await;
    assert_problem(s, &body, 401, "invalid_bootstrap_code");
    // A second init is refused now that an admin has a PIN.
    let err = sitegate::cli::admin(
        &gw.config,
        AdminRequest::Init {
            input: NewUserInput {
                given_name: "B".into(),
                family_name: "C".into(),
                ..Default::default()
            },
        },
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("already initialised"), "{}", err.message);
    // Sign in, ask who I am, sign out; the token then stops working.
    let token = gw.sign_in(&id, &pin).await;
    let (s, me) = gw.get("/api/auth/me", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["user_id"], id);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["screen"], "api");
    let (s, _) = gw.post("/api/auth/sign-out", Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = gw.get("/api/auth/me", Some(&token)).await;
    assert_problem(s, &body, 401, "unauthenticated");
    // The PIN is stored only as a keyed tag: the database file never holds it in clear.
    drop(gw.stop().await);
}

#[tokio::test]
async fn every_failed_sign_in_is_the_same_generic_answer_and_audited() {
    let gw = Gateway::start().await;
    let (id, pin, token) = gw.admin_session().await;
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let trainee = gw
        .create_user(&token, json!({"given_name": "Li", "family_name": "Na"}))
        .await;
    let cases = [
        json!({"user_id": id, "pin": wrong}),
        json!({"user_id": unknown_valid_id(), "pin": pin}),
        json!({"user_id": trainee["id"], "pin": pin}),
    ];
    let mut bodies = Vec::new();
    for c in cases {
        let (s, body) = gw.post("/api/auth/sign-in", None, c).await;
        assert_problem(s, &body, 401, "invalid_credentials");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "answers differ: {bodies:?}"
    );
    gw.stop().await;
}

fn unknown_valid_id() -> String {
    sitegate::domain::ids::UserId::mint(&mut rand::rng()).to_string()
}

#[tokio::test]
async fn every_route_outside_the_public_list_needs_a_session() {
    let gw = Gateway::start().await;
    let (_, doc) = gw.get("/api/openapi.json", None).await;
    let public = [
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/api/auth/sign-in",
        "/api/auth/bootstrap",
        "/api/devices/pair",
        "/api/devices/pair/claim",
        "/api/kiosk/config",
        "/api/kiosk/links",
        "/api/enroll/{token}",
        "/api/enroll/{token}/existing",
        // Kiosk self-service (badges): public, but answered only on the kiosk listener.
        "/api/kiosk/reprint",
        "/api/kiosk/print-jobs/{id}",
        "/api/kiosk/print-jobs/{id}/badge.png",
        // Kiosk self check-in to an open class (classroom).
        "/api/kiosk/classes",
        "/api/kiosk/check-in",
        // The central side's protocol document, for the platform's engineers.
        "/api/sync/central-openapi.json",
    ];
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "ABCDE-FGHJK");
        for method in ops.as_object().unwrap().keys() {
            let req = match method.as_str() {
                "get" => gw.client.get(gw.url(&concrete)),
                "post" => gw.client.post(gw.url(&concrete)).json(&json!({})),
                "patch" => gw.client.patch(gw.url(&concrete)).json(&json!({})),
                other => panic!("unexpected method {other}"),
            };
            let res = req.send().await.unwrap();
            let status = res.status();
            if public.contains(&path.as_str()) {
                assert_ne!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} should be public"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} answered {status} without a session"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} guarded operations found");
    gw.stop().await;
}

#[tokio::test]
async fn roles_limit_what_staff_may_do() {
    let gw = Gateway::start().await;
    let (_, _, admin) = gw.admin_session().await;
    let instructor = gw
        .create_user(
            &admin,
            json!({"given_name": "Ivo", "family_name": "Teach", "role": "instructor"}),
        )
        .await;
    let id = instructor["id"].as_str().unwrap();
    let (_, pin) = gw
        .post(&format!("/api/users/{id}/pin"), Some(&admin), json!({}))
        .await;
    let token = gw.sign_in(id, pin["pin"].as_str().unwrap()).await;
    let (s, _) = gw.get("/api/users", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "instructors may read users");
    let (s, body) = gw
        .post(
            "/api/users",
            Some(&token),
            json!({"given_name": "A", "family_name": "B"}),
        )
        .await;
    assert_problem(s, &body, 403, "forbidden");
    gw.stop().await;
}

async fn browser_sign_in(gw: &Gateway, base: &str, id: &str, pin: &str) -> (reqwest::Client, Value) {
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .cookie_store(true)
        .build()
        .unwrap();
    let res = client
        .post(format!("{base}/api/auth/sign-in"))
        .header("origin", base)
        .json(&json!({"user_id": id, "pin": pin}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_eq!(cookie.contains("Secure"), base.starts_with("https"), "{cookie}");
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "a browser must not see the token: {body}"
    );
    let _ = gw;
    (client, body)
}

#[tokio::test]
async fn kiosk_staff_sessions_end_after_two_idle_minutes_laptops_after_fifteen() {
    let clock = ManualClock::new(time::macros::datetime!(2026-11-25 07:00 UTC));
    let gw = Gateway::start_with(
        |_| {},
        RunOptions {
            demo: false,
            clock: Some(Arc::new(clock.clone())),
        },
    )
    .await;
    let (id, pin, _) = gw.admin_session().await;
    let kiosk_base = format!("http://{}", gw.kiosk);
    let laptop_base = format!("https://{}", gw.https);
    let (kiosk, k) = browser_sign_in(&gw, &kiosk_base, &id, &pin).await;
    assert_eq!(k["screen"], "kiosk");
    let (laptop, l) = browser_sign_in(&gw, &laptop_base, &id, &pin).await;
    assert_eq!(l["screen"], "laptop");
    clock.advance(Duration::seconds(119));
    assert_eq!(
        kiosk
            .get(format!("{kiosk_base}/api/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    clock.advance(Duration::seconds(121));
    assert_eq!(
        kiosk
            .get(format!("{kiosk_base}/api/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        laptop
            .get(format!("{laptop_base}/api/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    clock.advance(Duration::minutes(15));
    assert_eq!(
        laptop
            .get(format!("{laptop_base}/api/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    gw.stop().await;
}

#[tokio::test]
async fn cookie_sessions_refuse_cross_origin_and_non_json_changes() {
    let gw = Gateway::start().await;
    let (id, pin, _) = gw.admin_session().await;
    let base = format!("https://{}", gw.https);
    let (browser, _) = browser_sign_in(&gw, &base, &id, &pin).await;
    let body = json!({"given_name": "Eve", "family_name": "Evil"});
    let res = browser
        .post(format!("{base}/api/users"))
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = browser
        .post(format!("{base}/api/users"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a cookie without Origin is refused"
    );
    let res = browser
        .post(format!("{base}/api/users"))
        .header("origin", &base)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = browser
        .post(format!("{base}/api/users"))
        .header("origin", &base)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    gw.stop().await;
}

/// A badge's QR payload as printed (signed with the site's key).
fn badge_payload(gw: &Gateway, number: &str) -> String {
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let n = sitegate::domain::badge::BadgeNumber::from_canonical(number.into());
    sitegate::domain::badge::payload(&n, &keys.badge_mac(&n.mac_input()))
}

#[tokio::test]
async fn staff_sign_in_with_a_badge_scan_and_their_pin() {
    let gw = Gateway::start().await;
    let (id, pin, token) = gw.admin_session().await;
    let issue = |user: String| {
        let gw = &gw;
        let token = token.clone();
        async move {
            let (s, b) = gw
                .post(&format!("/api/users/{user}/badge"), Some(&token), json!({}))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            badge_payload(gw, b["badge"]["number"].as_str().unwrap())
        }
    };
    let first = issue(id.clone()).await;

    let (s, body) = gw
        .post("/api/auth/sign-in", None, json!({"badge": first, "pin": pin}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], id.as_str());
    assert_eq!(body["role"], "admin");

    // A scan that is no sitegate badge is named as such; both or neither of ID and badge is refused.
    let (s, body) = gw
        .post(
            "/api/auth/sign-in",
            None,
            json!({"badge": "HELLO WORLD", "pin": pin}),
        )
        .await;
    assert_problem(s, &body, 422, "badge_not_sitegate");
    let (s, body) = gw
        .post(
            "/api/auth/sign-in",
            None,
            json!({"badge": first, "user_id": id, "pin": pin}),
        )
        .await;
    assert_problem(s, &body, 422, "invalid_field");
    let (s, body) = gw.post("/api/auth/sign-in", None, json!({"pin": pin})).await;
    assert_problem(s, &body, 422, "invalid_field");
    assert_eq!(body["field"], "user_id");

    // A replaced (retired), forged or unknown badge is the generic failure, even with the right PIN,
    // and each attempt is audited.
    let second = issue(id.clone()).await;
    let mut forged = second.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let stranger = badge_payload(&gw, "ZZZZZZZZZZ");
    let mut bodies = Vec::new();
    for b in [&first, &forged, &stranger] {
        let (s, body) = gw
            .post("/api/auth/sign-in", None, json!({"badge": b, "pin": pin}))
            .await;
        assert_problem(s, &body, 401, "invalid_credentials");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "answers differ: {bodies:?}"
    );
    let (s, body) = gw
        .post("/api/auth/sign-in", None, json!({"badge": second, "pin": pin}))
        .await;
    assert_eq!(s, StatusCode::OK, "the current badge signs in: {body}");
    let (_, audit) = gw.get("/api/audit?limit=20", Some(&token)).await;
    let failures = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "staff.sign_in" && e["outcome"] != "success")
        .count();
    assert!(failures >= 3, "{audit}");

    // The badge is the same account as the ID: failures by one slow the other.
    let (iid, ipin) = {
        let u = gw
            .create_user(
                &token,
                json!({"given_name": "Ines", "family_name": "Instructor", "role": "instructor"}),
            )
            .await;
        let iid = u["id"].as_str().unwrap().to_string();
        let (_, p) = gw
            .post(&format!("/api/users/{iid}/pin"), Some(&token), json!({}))
            .await;
        (iid, p["pin"].as_str().unwrap().to_string())
    };
    let ibadge = issue(iid.clone()).await;
    let wrong = if ipin == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (s, body) = gw
            .post("/api/auth/sign-in", None, json!({"user_id": iid, "pin": wrong}))
            .await;
        assert_problem(s, &body, 401, "invalid_credentials");
    }
    let (s, body) = gw
        .post("/api/auth/sign-in", None, json!({"badge": ibadge, "pin": ipin}))
        .await;
    assert_problem(s, &body, 429, "login_throttled");

    // A deactivated holder's badge with the right PIN is the generic failure too.
    let (s, body) = gw
        .post(
            &format!("/api/users/{iid}/deactivate"),
            Some(&token),
            json!({"reason": "left"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = gw
        .post("/api/auth/sign-in", None, json!({"badge": ibadge, "pin": ipin}))
        .await;
    assert_problem(s, &body, 401, "invalid_credentials");
    gw.stop().await;
}
