//! User records over the API: create, list, show, deactivate, units and training; bad input changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, assert_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn user_count(gw: &Gateway, token: &str) -> usize {
    let (_, list) = gw.get("/api/users?limit=500", Some(token)).await;
    list["users"].as_array().unwrap().len()
}

#[tokio::test]
async fn names_in_any_script_survive_create_list_and_show() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let names = include_str!("data/names.tsv");
    let mut ids = Vec::new();
    for line in names.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let u = gw
            .create_user(
                &token,
                json!({"given_name": cols[0], "family_name": cols[1], "language": "pl"}),
            )
            .await;
        assert_eq!(u["given_name"], cols[0]);
        assert_eq!(u["family_name"], cols[1]);
        let id = u["id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 11, "{id}");
        ids.push((id, cols[0].to_string(), cols[1].to_string()));
    }
    for (id, given, family) in &ids {
        let (s, d) = gw.get(&format!("/api/users/{id}"), Some(&token)).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(d["user"]["given_name"], given.as_str());
        assert_eq!(d["user"]["family_name"], family.as_str());
        assert_eq!(d["activity"][0]["kind"], "created");
        // IDs are forgiving when typed: lower case, no hyphen.
        let typed = id.replace('-', "").to_lowercase();
        let (s, _) = gw.get(&format!("/api/users/{typed}"), Some(&token)).await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(user_count(&gw, &token).await, ids.len() + 1);
    gw.stop().await;
}

#[tokio::test]
async fn training_follows_units_and_deactivation_ends_access() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let (s, group) = gw
        .post(
            "/api/units",
            Some(&token),
            json!({"kind": "group", "name": "Scaffolders"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{group}");
    let (s, module) = gw
        .post(
            "/api/modules",
            Some(&token),
            json!({"title": "Working at heights", "duration_minutes": 20, "valid_for_days": 365}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{module}");
    let (s, a) = gw
        .post(
            "/api/assignments",
            Some(&token),
            json!({"module_id": module["id"], "target_kind": "group", "target_id": group["id"], "due_at": "2099-01-31T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let u = gw
        .create_user(
            &token,
            json!({"given_name": "Jürgen", "family_name": "Weiß", "email": "j.weiss@example.com"}),
        )
        .await;
    let id = u["id"].as_str().unwrap();
    let (_, d) = gw.get(&format!("/api/users/{id}"), Some(&token)).await;
    assert_eq!(d["training"], json!([]), "not in the group yet");
    let (s, _) = gw
        .post(
            &format!("/api/users/{id}/units"),
            Some(&token),
            json!({"unit_id": group["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, d) = gw.get(&format!("/api/users/{id}"), Some(&token)).await;
    assert_eq!(d["training"][0]["module"]["title"], "Working at heights");
    assert_eq!(d["training"][0]["status"], "pending");
    assert_eq!(d["training"][0]["due_at"], "2099-01-31T00:00:00Z");
    assert_eq!(d["units"][0]["name"], "Scaffolders");
    // Deactivate: refused twice, and the user's PIN stops working.
    let (_, pin) = gw
        .post(&format!("/api/users/{id}/pin"), Some(&token), json!({}))
        .await;
    let (s, out) = gw
        .post(
            &format!("/api/users/{id}/deactivate"),
            Some(&token),
            json!({"reason": "left the site"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(out["status"], "deactivated");
    let (s, body) = gw
        .post(&format!("/api/users/{id}/deactivate"), Some(&token), json!({}))
        .await;
    assert_problem(s, &body, 409, "conflict");
    let (s, body) = gw
        .post(
            "/api/auth/sign-in",
            None,
            json!({"user_id": id, "pin": pin["pin"]}),
        )
        .await;
    assert_problem(s, &body, 401, "invalid_credentials");
    gw.stop().await;
}

#[tokio::test]
async fn bad_input_gets_one_clear_problem_and_changes_nothing() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    gw.create_user(
        &token,
        json!({"given_name": "Søren", "family_name": "Ørsted", "email": "soren@example.com"}),
    )
    .await;
    let before = user_count(&gw, &token).await;
    let url = gw.url("/api/users");
    let send = |body: reqwest::Body, ctype: &'static str| {
        gw.client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let cases: Vec<(reqwest::Body, &str, u16, &str)> = vec![
        ("not json".into(), "application/json", 400, "malformed_json"),
        (
            "{\"given_name\":".into(),
            "application/json",
            400,
            "malformed_json",
        ),
        (
            "{\"given_name\":\"A\"}".into(),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"shoe\":1}".into(),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"email\":\"nope\"}".into(),
            "application/json",
            422,
            "invalid_field",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"phone\":\"12\"}".into(),
            "application/json",
            422,
            "invalid_field",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\",\"email\":\"SOREN@example.com\"}".into(),
            "application/json",
            409,
            "duplicate",
        ),
        (
            "{\"given_name\":\"A\",\"family_name\":\"B\"}".into(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            vec![b' '; 2 * 1024 * 1024].into(),
            "application/json",
            413,
            "payload_too_large",
        ),
    ];
    for (body, ctype, status, code) in cases {
        let res = send(body, ctype).await.unwrap();
        let s = res.status();
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let b: Value = res.json().await.unwrap();
        assert_problem(s, &b, status, code);
        assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()), "{b}");
        if code == "invalid_body" || code == "invalid_field" {
            assert!(b["field"].is_string(), "the problem names the field: {b}");
        }
    }
    let (s, b) = gw.get("/api/users/ABCDE-FGHJK", Some(&token)).await;
    assert_problem(s, &b, 422, "id_typo");
    let (s, b) = gw.get("/api/users?limit=0", Some(&token)).await;
    assert!(s.is_client_error(), "{b}");
    assert_eq!(user_count(&gw, &token).await, before, "bad input must not write");
    gw.stop().await;
}

#[tokio::test]
async fn outbox_gets_one_event_per_change_in_the_same_commit() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let (_, s0) = gw.get("/api/status", Some(&token)).await;
    let base = s0["outbox_pending"].as_u64().unwrap();
    for i in 0..5 {
        gw.create_user(&token, json!({"given_name": format!("W{i}"), "family_name": "X"}))
            .await;
    }
    let (s, _) = gw
        .post(
            "/api/users",
            Some(&token),
            json!({"given_name": "", "family_name": "X"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, s1) = gw.get("/api/status", Some(&token)).await;
    assert_eq!(s1["outbox_pending"].as_u64().unwrap(), base + 5);
    gw.stop().await;
}
