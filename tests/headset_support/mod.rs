//! Helpers for headset and credential tests: a trainee with training, a paired reference client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::headset_client::HeadsetClient;

use crate::common::Gateway;

pub const T0: time::OffsetDateTime = time::macros::datetime!(2026-11-25 07:00 UTC);

/// A trainee with a PIN and one module assigned to them: (user id, PIN, module id).
pub async fn trainee_with_training(gw: &Gateway, admin: &str, given: &str) -> (String, String, String) {
    let user = gw
        .create_user(admin, json!({"given_name": given, "family_name": "Trainee"}))
        .await;
    let id = user["id"].as_str().unwrap().to_string();
    let pin = issue_pin(gw, admin, &id).await;
    let (s, module) = gw
        .post(
            "/api/modules",
            Some(admin),
            json!({"title": format!("Working at heights {given}"), "duration_minutes": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{module}");
    let module_id = module["id"].as_str().unwrap().to_string();
    let (s, a) = gw
        .post(
            "/api/assignments",
            Some(admin),
            json!({"module_id": module_id, "target_kind": "user", "target_id": id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    (id, pin, module_id)
}

pub async fn issue_pin(gw: &Gateway, admin: &str, id: &str) -> String {
    let (s, body) = gw
        .post(&format!("/api/users/{id}/pin"), Some(admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["pin"].as_str().unwrap().to_string()
}

/// Pair the reference client: request, staff approval (after comparing codes), token.
pub async fn paired_client(gw: &Gateway, admin: &str, dir: &std::path::Path, name: &str) -> HeadsetClient {
    let (mut client, started) = HeadsetClient::pair(
        dir,
        &format!("https://{}", gw.https),
        name,
        "Quest 3",
        "v72",
        None,
    )
    .await
    .expect("pair request");
    assert_eq!(started.comparison_code, started.gateway_code);
    let (s, devices) = gw.get("/api/devices", Some(admin)).await;
    assert_eq!(s, StatusCode::OK);
    let mine = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == started.device_id.to_string())
        .expect("request listed for staff")
        .clone();
    assert_eq!(mine["state"], "pending");
    assert_eq!(
        mine["comparison_code"],
        started.comparison_code.as_str(),
        "staff see the headset's code"
    );
    let (s, body) = gw
        .post(
            &format!("/api/devices/{}/approve", started.device_id),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    client
        .wait_for_approval(Duration::from_secs(10))
        .await
        .expect("token after approval");
    client
}

/// Headset call with raw tokens, for bad-input cases the client would not make.
pub async fn headset_get(
    gw: &Gateway,
    path: &str,
    device: &str,
    session: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = gw.client.get(gw.url(path)).bearer_auth(device);
    if let Some(s) = session {
        req = req.header("x-sitegate-session", s);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn headset_post(
    gw: &Gateway,
    path: &str,
    device: &str,
    session: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = gw.client.post(gw.url(path)).bearer_auth(device).json(&body);
    if let Some(s) = session {
        req = req.header("x-sitegate-session", s);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The current TOTP code for a base32 secret at a time.
pub fn totp_code(secret_b32: &str, at: time::OffsetDateTime) -> String {
    let bytes = base32_decode(secret_b32);
    sitegate::domain::credentials::TotpSecret::from_bytes(bytes)
        .code_at(at.unix_timestamp() as u64)
        .unwrap()
}

fn base32_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes() {
        let v = A.iter().position(|&a| a == c).unwrap() as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// Enroll an authenticator for a user as staff; returns the base32 secret.
pub async fn enroll_totp(gw: &Gateway, admin: &str, id: &str, now: time::OffsetDateTime) -> String {
    let (s, e) = gw
        .post(&format!("/api/users/{id}/totp"), Some(admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/sitegate%20Test%20site:"), "{uri}");
    assert!(
        uri.ends_with("&issuer=sitegate%20Test%20site&algorithm=SHA1&digits=6&period=30"),
        "{uri}"
    );
    assert!(e["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    let secret = e["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160-bit secret");
    let (s, body) = gw
        .post(
            &format!("/api/users/{id}/totp/confirm"),
            Some(admin),
            json!({"code": totp_code(&secret, now)}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    secret
}
