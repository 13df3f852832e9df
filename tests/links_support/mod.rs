//! Shared steps of the access-link tests: units and training to allocate, links, enrollment forms, counters.
#![allow(dead_code)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use time::macros::datetime;

use crate::common::Gateway;

/// What most tests start from: a signed-in admin and one group, site and region, with a module assigned to the group.
pub struct Site {
    pub admin_id: String,
    pub admin_pin: String,
    pub token: String,
    pub group: Value,
    pub site: Value,
    pub region: Value,
    pub module: Value,
}

/// A gateway on a manual clock, and that clock.
pub async fn gateway_with_clock(
    adjust: impl FnOnce(&mut sitegate::config::Config),
) -> (Gateway, ManualClock) {
    let clock = ManualClock::new(datetime!(2026-11-25 08:00 UTC));
    let gw = Gateway::start_with(
        adjust,
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await;
    (gw, clock)
}

pub async fn unit(gw: &Gateway, token: &str, kind: &str, name: &str) -> Value {
    let (s, u) = gw
        .post("/api/units", Some(token), json!({"kind": kind, "name": name}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    u
}

/// A module assigned to a unit.
pub async fn module_for(gw: &Gateway, token: &str, title: &str, kind: &str, unit: &Value) -> Value {
    let (s, m) = gw
        .post(
            "/api/modules",
            Some(token),
            json!({"title": title, "duration_minutes": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let (s, a) = gw
        .post(
            "/api/assignments",
            Some(token),
            json!({"module_id": m["id"], "target_kind": kind, "target_id": unit["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    m
}

pub async fn site(gw: &Gateway) -> Site {
    let (admin_id, admin_pin, token) = gw.admin_session().await;
    let group = unit(gw, &token, "group", "Scaffolders").await;
    let site = unit(gw, &token, "site", "North gate").await;
    let region = unit(gw, &token, "region", "Śląsk").await;
    let module = module_for(gw, &token, "Working at heights", "group", &group).await;
    Site {
        admin_id,
        admin_pin,
        token,
        group,
        site,
        region,
        module,
    }
}

/// Create a link; `extra` adds or overrides fields of a plain one.
pub async fn link(gw: &Gateway, token: &str, extra: Value) -> Value {
    let mut body = json!({"name": "Induction", "description": "Site A – safety induction"});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let (s, l) = gw.post("/api/links", Some(token), body).await;
    assert_eq!(s, StatusCode::CREATED, "{l}");
    l
}

/// A link allocating to the site's group, site and region.
pub async fn full_link(gw: &Gateway, s: &Site, extra: Value) -> Value {
    let mut body = json!({"allocation": {"groups": [s.group["id"]], "sites": [s.site["id"]], "regions": [s.region["id"]]}});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    link(gw, &s.token, body).await
}

/// A complete enrollment form.
pub fn form(given: &str, family: &str, email: &str) -> Value {
    json!({
        "given_name": given,
        "family_name": family,
        "email": email,
        "employer": "Budimex S.A.",
        "language": "pl",
        "terms_version": "1",
        "accept_terms": true,
    })
}

pub async fn enroll(gw: &Gateway, link: &Value, body: Value) -> (StatusCode, Value) {
    let token = link["token"].as_str().expect("token");
    gw.post(&format!("/api/enroll/{token}"), None, body).await
}

pub async fn enroll_ok(gw: &Gateway, link: &Value, body: Value) -> Value {
    let (s, out) = enroll(gw, link, body).await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    out
}

pub async fn existing(gw: &Gateway, link: &Value, body: Value) -> (StatusCode, Value) {
    let token = link["token"].as_str().expect("token");
    gw.post(&format!("/api/enroll/{token}/existing"), None, body)
        .await
}

/// What a refused request must leave as it was: users, outbox events, and the link's usage.
#[derive(Debug, PartialEq, Eq)]
pub struct Counters {
    pub users: u64,
    pub outbox: u64,
    pub used: u64,
    pub usage_rows: usize,
}

/// Wait until no badge is queued or printing: an enrollment's badge prints after its answer,
/// and its `badge.printed` event must not land between two counts.
pub async fn settle_printing(gw: &Gateway, token: &str) {
    for _ in 0..200 {
        let (s, jobs) = gw.get("/api/print-jobs?limit=500", Some(token)).await;
        assert_eq!(s, StatusCode::OK, "{jobs}");
        let open = jobs["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .any(|j| j["state"] == "queued" || j["state"] == "printing");
        if !open {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("badges still printing after 10 s");
}

pub async fn counters(gw: &Gateway, token: &str, link: &Value) -> Counters {
    settle_printing(gw, token).await;
    let (s, st) = gw.get("/api/status", Some(token)).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let id = link["id"].as_str().expect("id");
    let (s, usage) = gw.get(&format!("/api/links/{id}/usage"), Some(token)).await;
    assert_eq!(s, StatusCode::OK, "{usage}");
    Counters {
        users: st["users"].as_u64().expect("users"),
        outbox: st["outbox_pending"].as_u64().expect("outbox"),
        used: usage["count"].as_u64().expect("count"),
        usage_rows: usage["users"].as_array().expect("users").len(),
    }
}

/// The names every screen and export must survive: (given, family).
pub fn names() -> Vec<(String, String)> {
    include_str!("../data/names.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_string(), cols[1].to_string())
        })
        .collect()
}
