//! A link's URL is one a phone on the site LAN can open, whichever screen asked: the configured
//! public host name with the HTTPS port, never the kiosk's loopback port or the host a browser
//! typed; and when the gateway knows no such address it says so (staff API, poster, CLI) instead
//! of printing a URL that cannot work. (The LAN-address case runs in tests/default_box.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod links_support;

use common::Gateway;
use links_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Staff signed in on the kiosk screen (the loopback listener): the cookie it was given.
async fn kiosk_cookie(gw: &Gateway, s: &Site) -> String {
    let res = reqwest::Client::new()
        .post(gw.kiosk_url("/api/auth/sign-in"))
        .json(&json!({"user_id": s.admin_id, "pin": s.admin_pin}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set = res.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

async fn kiosk_get(gw: &Gateway, cookie: &str, path: &str) -> (StatusCode, String) {
    let res = reqwest::Client::new()
        .get(gw.kiosk_url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn https_get(gw: &Gateway, token: &str, path: &str) -> (StatusCode, String) {
    let res = gw
        .client
        .get(gw.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn link_in(list: &str, id: &Value) -> Value {
    let list: Value = serde_json::from_str(list).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == *id)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn through_the_kiosk_and_https_a_link_opens_at_the_public_host_name_and_the_https_port() {
    let gw = Gateway::start_with(
        |c| c.server.public_hostnames = vec!["gate.plant.example".into()],
        Default::default(),
    )
    .await;
    let s = site(&gw).await;
    let l = link(&gw, &s.token, json!({})).await;
    let url = format!(
        "https://gate.plant.example:{}/enroll/{}",
        gw.https.port(),
        l["token"].as_str().unwrap()
    );
    assert_eq!(l["url"], url, "{l}");
    let cookie = kiosk_cookie(&gw, &s).await;
    let (st, list) = kiosk_get(&gw, &cookie, "/api/links").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let on_kiosk = link_in(&list, &l["id"]);
    assert_eq!(on_kiosk["url"], url, "not the kiosk's loopback port: {on_kiosk}");
    assert!(on_kiosk.get("url_unavailable").is_none(), "{on_kiosk}");
    let (st, list) = https_get(&gw, &s.token, "/api/links").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(link_in(&list, &l["id"])["url"], url);

    // The poster printed from the kiosk carries it too.
    let id = l["id"].as_str().unwrap();
    let (st, poster) = kiosk_get(&gw, &cookie, &format!("/api/links/{id}/poster")).await;
    assert_eq!(st, StatusCode::OK, "{poster}");
    assert!(poster.contains(&url), "{poster}");
    assert!(!poster.contains(&gw.kiosk.to_string()), "{poster}");
    gw.stop().await;
}

#[tokio::test]
async fn with_no_address_a_phone_can_open_staff_are_told_instead_of_given_a_loopback_url() {
    // The harness listens on 127.0.0.1 with no public host name: nothing a phone can open.
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let l = link(&gw, &s.token, json!({})).await;
    assert_eq!(l["url"], Value::Null, "{l}");
    let note = l["url_unavailable"].as_str().unwrap();
    assert!(note.contains("server.public_hostnames"), "{note}");
    let id = l["id"].as_str().unwrap();
    let poster = format!("/api/links/{id}/poster");

    let cookie = kiosk_cookie(&gw, &s).await;
    for (st, list) in [
        kiosk_get(&gw, &cookie, "/api/links").await,
        https_get(&gw, &s.token, "/api/links").await,
    ] {
        assert_eq!(st, StatusCode::OK, "{list}");
        let got = link_in(&list, &l["id"]);
        assert_eq!(got["url"], Value::Null, "{got}");
        assert_eq!(got["url_unavailable"], note, "{got}");
        assert!(!list.contains("/enroll/"), "no URL that cannot work: {list}");
    }
    for (st, body) in [
        kiosk_get(&gw, &cookie, &poster).await,
        https_get(&gw, &s.token, &poster).await,
    ] {
        let body: Value = serde_json::from_str(&body).unwrap();
        common::assert_problem(st, &body, 409, "no_public_url");
    }

    // `sitegate link show` (through the running gateway's socket) says so too.
    let state = gw.state_dir();
    let argv = [
        "sitegate",
        "--state-dir",
        state.to_str().unwrap(),
        "link",
        "show",
        id,
    ];
    let out =
        sitegate::cli::run_command(<sitegate::cli::Cli as clap::Parser>::try_parse_from(argv).unwrap()).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.lines().find(|l| l.starts_with("URL:")).unwrap();
    assert!(
        line.starts_with("URL:         none: no address a phone"),
        "{line}"
    );
    assert!(line.contains("server.public_hostnames"), "{line}");
    assert!(!line.contains("https://"), "{line}");
    gw.stop().await;
}
