//! Walk-ins, black-box: an instructor's pass sends someone without an account through enrollment
//! and they come back checked in to the class; every way a pass can be wrong leaves the enrollment
//! standing and checks nobody in; only the class's runners issue passes, for open classes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod headset_support;
mod links_support;

use common::{Gateway, assert_problem};
use headset_support::issue_pin;
use links_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

struct Class {
    id: String,
    instructor: String,
    other: String,
    /// The instructor's ID and PIN, to sign in again after the clock moved on.
    login: (String, String),
}

async fn instructor(gw: &Gateway, admin: &str, given: &str) -> (String, String, String) {
    let u = gw
        .create_user(
            admin,
            json!({"given_name": given, "family_name": "Instructor", "role": "instructor"}),
        )
        .await;
    let id = u["id"].as_str().unwrap().to_string();
    let pin = issue_pin(gw, admin, &id).await;
    let token = gw.sign_in(&id, &pin).await;
    (id, pin, token)
}

/// A class at 08:30 in Room 2, run by one instructor; another instructor runs nothing.
async fn class(gw: &Gateway, s: &Site) -> Class {
    let (iid, ipin, it) = instructor(gw, &s.token, "Ines").await;
    let (_, _, other) = instructor(gw, &s.token, "Otto").await;
    let (st, c) = gw
        .post(
            "/api/classes",
            Some(&s.token),
            json!({
                "title": "Working at heights, practical", "module_ids": [s.module["id"]], "room": "Room 2",
                "starts_at": "2026-11-25T08:30:00Z", "ends_at": "2026-11-25T12:00:00Z",
                "instructors": [iid],
            }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    Class {
        id: c["id"].as_str().unwrap().to_string(),
        instructor: it,
        other,
        login: (iid, ipin),
    }
}

async fn pass(gw: &Gateway, token: &str, class: &str, link: &Value) -> (StatusCode, Value) {
    gw.post(
        &format!("/api/classes/{class}/walk-ins"),
        Some(token),
        json!({"link_token": link["token"]}),
    )
    .await
}

fn with_pass(mut body: Value, pass: &Value) -> Value {
    body["walk_in_pass"] = pass["pass"].clone();
    body
}

async fn roster_line(gw: &Gateway, token: &str, class: &str, user: &str) -> Value {
    let (st, r) = gw.get(&format!("/api/classes/{class}"), Some(token)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["user_id"] == user)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_walk_in_enrolls_with_the_instructors_pass_and_comes_back_checked_in() {
    let (gw, clock) = gateway_with_clock(|_| {}).await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({"pinned": true})).await;
    let c = class(&gw, &s).await;

    // No pass for a class that is not open yet.
    let (st, body) = pass(&gw, &c.instructor, &c.id, &link).await;
    assert_problem(st, &body, 409, "class_not_open");
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/open", c.id),
            Some(&c.instructor),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");

    // Only the class's instructors (and managers, admins) issue passes; bad input is named.
    let (st, body) = pass(&gw, &c.other, &c.id, &link).await;
    assert_problem(st, &body, 403, "not_class_instructor");
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/walk-ins", c.id),
            None,
            json!({"link_token": link["token"]}),
        )
        .await;
    assert_problem(st, &body, 401, "unauthenticated");
    let (st, body) = pass(&gw, &c.instructor, &c.id, &json!({"token": "no-such-link"})).await;
    assert_problem(st, &body, 404, "link_unknown");
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/walk-ins", c.id),
            Some(&c.instructor),
            json!({"link_token": "x".repeat(65)}),
        )
        .await;
    assert_problem(st, &body, 422, "invalid_field");
    assert_eq!(body["field"], "link_token");
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/walk-ins", c.id),
            Some(&c.instructor),
            json!({}),
        )
        .await;
    assert_eq!(st.as_u16() / 100, 4, "{body}");

    let (st, p) = pass(&gw, &c.instructor, &c.id, &link).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["class_title"], "Working at heights, practical");
    assert_eq!(p["link_name"], "Induction");
    assert_eq!(
        p["enroll_path"],
        format!("/enroll/{}", link["token"].as_str().unwrap())
    );
    assert_eq!(p["expires_at"], "2026-11-25T08:30:00Z", "30 minutes from 08:00");

    // Enrolling with the pass: the newcomer arrives checked in, flagged a walk-in, by enrollment.
    clock.advance(Duration::minutes(12));
    let out = enroll_ok(
        &gw,
        &link,
        with_pass(form("Wiktor", "Wójcik", "wiktor@example.pl"), &p),
    )
    .await;
    let ci = &out["class_check_in"];
    assert_eq!(ci["status"], "checked_in", "{out}");
    assert_eq!(ci["class_title"], "Working at heights, practical");
    assert_eq!(ci["room"], "Room 2");
    assert_eq!(ci["at"], "2026-11-25T08:12:00Z");
    assert_eq!(
        ci["message"],
        "Checked in to Working at heights, practical at 08:12"
    );
    assert!(out["pin"].as_str().is_some(), "the enrollment is whole: {out}");
    let wiktor = out["user"]["id"].as_str().unwrap().to_string();
    let line = roster_line(&gw, &c.instructor, &c.id, &wiktor).await;
    assert_eq!(line["present"], true, "{line}");
    assert_eq!(line["walk_in"], true);
    assert_eq!(line["check_in_method"], "enrollment");
    let (_, audit) = gw.get("/api/audit?limit=50", Some(&s.token)).await;
    let events: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert!(
        events.contains(&"class.walk_in_pass") && events.contains(&"class.check_in"),
        "{events:?}"
    );

    // A pass is spent once: a second enrollment with it stands but checks nobody in.
    let out = enroll_ok(&gw, &link, with_pass(form("Ola", "Nowak", "ola@example.pl"), &p)).await;
    assert_eq!(out["class_check_in"]["status"], "refused", "{out}");
    assert_eq!(out["class_check_in"]["code"], "walk_in_pass_used");
    let ola = out["user"]["id"].as_str().unwrap().to_string();
    let ola_pin = issue_pin(&gw, &s.token, &ola).await;
    assert_eq!(roster_line(&gw, &c.instructor, &c.id, &ola).await, Value::Null);

    // Unknown and malformed passes.
    let out = enroll_ok(
        &gw,
        &link,
        with_pass(
            form("Ana", "Silva", "ana@example.pt"),
            &json!({"pass": "forged-pass"}),
        ),
    )
    .await;
    assert_eq!(out["class_check_in"]["code"], "walk_in_pass_unknown", "{out}");
    assert_eq!(out["class_check_in"]["class_title"], Value::Null);
    let (st, body) = enroll(
        &gw,
        &link,
        with_pass(form("Eva", "Empty", "eva@example.de"), &json!({"pass": ""})),
    )
    .await;
    assert_problem(st, &body, 422, "invalid_field");
    assert_eq!(body["field"], "walk_in_pass");
    let (st, body) = enroll(
        &gw,
        &link,
        with_pass(
            form("Eva", "Long", "eva@example.de"),
            &json!({"pass": "p".repeat(65)}),
        ),
    )
    .await;
    assert_problem(st, &body, 422, "invalid_field");

    // A pass for another link does not work through this one.
    let other_link = full_link(&gw, &s, json!({"name": "Visitors"})).await;
    let (_, p2) = pass(&gw, &c.instructor, &c.id, &other_link).await;
    let out = enroll_ok(
        &gw,
        &link,
        with_pass(form("Jan", "Kowalski", "jan@example.pl"), &p2),
    )
    .await;
    assert_eq!(out["class_check_in"]["code"], "walk_in_pass_other_link", "{out}");

    // An expired pass (30 minutes).
    let (_, p3) = pass(&gw, &c.instructor, &c.id, &link).await;
    clock.advance(Duration::minutes(31));
    let out = enroll_ok(&gw, &link, with_pass(form("Eve", "Late", "eve@example.ie"), &p3)).await;
    assert_eq!(out["class_check_in"]["code"], "walk_in_pass_expired", "{out}");
    let mut c = c;
    c.instructor = gw.sign_in(&c.login.0, &c.login.1).await;

    // Someone who turns out to have an account proves who they are and is checked in too.
    let (_, p4) = pass(&gw, &c.instructor, &c.id, &link).await;
    let (st, out) = existing(
        &gw,
        &link,
        json!({"user_id": ola, "pin": ola_pin, "walk_in_pass": p4["pass"]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["class_check_in"]["status"], "checked_in", "{out}");
    assert_eq!(
        roster_line(&gw, &c.instructor, &c.id, &ola).await["present"],
        true
    );

    // The class closes before the walk-in finishes: they are enrolled, not checked in.
    let (_, p5) = pass(&gw, &c.instructor, &c.id, &link).await;
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/close", c.id),
            Some(&c.instructor),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let out = enroll_ok(
        &gw,
        &link,
        with_pass(form("Zed", "Closed", "zed@example.ie"), &p5),
    )
    .await;
    assert_eq!(out["class_check_in"]["status"], "refused", "{out}");
    assert_eq!(out["class_check_in"]["code"], "class_closed");
    assert_eq!(
        out["class_check_in"]["class_title"],
        "Working at heights, practical"
    );
    let (st, body) = pass(&gw, &c.instructor, &c.id, &link).await;
    assert_problem(st, &body, 409, "class_closed");
}
