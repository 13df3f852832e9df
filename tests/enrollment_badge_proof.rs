//! An existing worker coming through an access link proves who they are by scanning their badge,
//! beside ID + PIN and a staff OTP, black-box on the kiosk listener: their own working badge lets
//! them through; a forged, unknown or retired badge, or a deactivated holder's, is refused like a
//! wrong PIN (one generic `invalid_credentials`, audited, backing off after repeated tries);
//! something that is not a sitegate badge at all is a shape error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, assert_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A badge's QR payload, signed with the site's badge key as the printed QR is.
fn signed(gw: &Gateway, number: &str) -> String {
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let number = sitegate::domain::badge::BadgeNumber::from_canonical(number.into());
    sitegate::domain::badge::payload(&number, &keys.badge_mac(&number.mac_input()))
}

/// Issue (or reprint) a user's badge through the staff API; its payload.
async fn badge(gw: &Gateway, admin: &str, user: &str) -> String {
    let (s, body) = gw
        .post(&format!("/api/users/{user}/badge"), Some(admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    signed(gw, body["badge"]["number"].as_str().unwrap())
}

/// `POST /api/enroll/{token}/existing` on the kiosk listener.
async fn prove(gw: &Gateway, token: &str, body: Value) -> (StatusCode, Value) {
    let res = gw
        .client
        .post(gw.kiosk_url(&format!("/api/enroll/{token}/existing")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_existing_worker_proves_who_they_are_with_their_badge_and_bad_badges_are_refused() {
    let gw = Gateway::start().await;
    let (_, _, admin) = gw.admin_session().await;
    let (s, link) = gw
        .post("/api/links", Some(&admin), json!({"name": "Returning workers"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let token = link["token"].as_str().unwrap();
    let worker = gw
        .create_user(&admin, json!({"given_name": "Håkon", "family_name": "Ødegård"}))
        .await;
    let wid = worker["id"].as_str().unwrap();
    let old = badge(&gw, &admin, wid).await;
    let current = badge(&gw, &admin, wid).await; // the reprint retires `old`
    let gone = gw
        .create_user(&admin, json!({"given_name": "Zoë", "family_name": "O'Brien"}))
        .await;
    let gone_id = gone["id"].as_str().unwrap();
    let gone_badge = badge(&gw, &admin, gone_id).await;
    let (s, body) = gw
        .post(
            &format!("/api/users/{gone_id}/deactivate"),
            Some(&admin),
            json!({"reason": "left the site"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let mut forged = current.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let unknown = signed(&gw, "ZZZZZZZZZZ");

    // Every bad badge gets the one generic answer, like a wrong PIN; nothing about which it was.
    for (what, scan) in [
        ("forged", &forged),
        ("unknown", &unknown),
        ("retired", &old),
        ("deactivated holder's", &gone_badge),
    ] {
        let (s, body) = prove(&gw, token, json!({ "badge": scan })).await;
        assert_problem(s, &body, 401, "invalid_credentials");
        assert!(!body.to_string().contains("badge_"), "{what}: {body}");
    }
    // Not a sitegate badge at all: a shape error, as at every scan.
    let (s, body) = prove(&gw, token, json!({"badge": "HELLO WORLD 42"})).await;
    assert_problem(s, &body, 422, "badge_not_sitegate");

    // Their own working badge lets them through, and they keep their PIN.
    let (s, body) = prove(&gw, token, json!({ "badge": current })).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], wid);
    assert!(body.get("pin").is_none_or(Value::is_null), "no new PIN: {body}");

    // Each try was audited on the one verification path: four failures, then the success.
    let (s, audit) = gw.get("/api/audit?limit=1000", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    let proofs: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "link.existing_user_proof")
        .collect();
    let outcomes: Vec<&str> = proofs
        .iter()
        .rev()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["failure", "failure", "failure", "failure", "success"],
        "{proofs:?}"
    );
    assert!(proofs.iter().all(|e| e["detail"] == "badge"), "{proofs:?}");
    assert_eq!(proofs[0]["subject"], wid);
    assert!(
        !audit.to_string().contains(&current) && !audit.to_string().contains(&forged),
        "a badge's payload is a secret: never in the audit"
    );

    // The same bad badge over and over backs off like an unknown ID: five free tries, then a wait.
    for _ in 0..4 {
        let (s, body) = prove(&gw, token, json!({ "badge": forged })).await;
        assert_problem(s, &body, 401, "invalid_credentials");
    }
    let (s, body) = prove(&gw, token, json!({ "badge": forged })).await;
    assert_problem(s, &body, 429, "login_throttled");
    gw.stop().await;
}
