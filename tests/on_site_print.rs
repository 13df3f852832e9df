//! Printing who is on site now, black-box: staff queue the list as it is at that moment on the badge printer (a TCP test printer here), it prints as raster + cut and ends `printed`, the snapshot survives check-outs, the action is audited, and roles without access get 403, no session 401.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod headset_support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::printer::{TestPrinter, raster_of};
use common::{Gateway, assert_problem};
use headset_support::issue_pin;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::config::{Config, PrinterConfig};
use sitegate::domain::on_site::{OnSiteList, OnSitePerson};
use sitegate::printer::{JobContent, Printing};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-25 08:55 UTC);

async fn start(clock: &ManualClock, tp: &TestPrinter) -> Gateway {
    let url = tp.url();
    Gateway::start_with(
        move |c: &mut Config| {
            c.classroom.utc_offset = "+01:00".into();
            c.printing.status_timeout_ms = 300;
            c.printing.connect_timeout_secs = 2;
            c.printing.write_timeout_secs = 2;
            c.printing.printers = vec![PrinterConfig {
                name: "gate".into(),
                url,
                profile: "generic-escpos".into(),
            }];
        },
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await
}

/// A user with a PIN, signed in: (id, token).
async fn signed_in(gw: &Gateway, admin: &str, given: &str, role: &str) -> (String, String) {
    let u = gw
        .create_user(
            admin,
            json!({"given_name": given, "family_name": "Staff", "role": role}),
        )
        .await;
    let id = u["id"].as_str().unwrap().to_string();
    let pin = issue_pin(gw, admin, &id).await;
    let token = gw.sign_in(&id, &pin).await;
    (id, token)
}

async fn wait_printed(gw: &Gateway, token: &str, job: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (s, body) = gw.get(&format!("/api/on-site/print/{job}"), Some(token)).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        if body["state"] == "printed" || body["state"] == "failed" {
            return body;
        }
        last = body;
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("the list never printed; last: {last}");
}

fn time(s: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(s.as_str().unwrap(), &Rfc3339).unwrap()
}

/// The bytes the gateway must send for `list` on the generic-escpos profile.
fn expected_bytes(list: OnSiteList) -> Vec<u8> {
    let printing = Printing::from_config(&Config::default()).unwrap();
    let profile = printing.profiles.get("generic-escpos").unwrap().clone();
    printing
        .build_content(&profile, &JobContent::OnSiteList(list))
        .unwrap()
        .bytes
}

#[tokio::test]
async fn staff_print_the_on_site_list_as_it_was_and_others_may_not() {
    let clock = ManualClock::new(T0);
    let tp = TestPrinter::start().await;
    let gw = start(&clock, &tp).await;
    let (_, _, admin) = gw.admin_session().await;
    let (iid, it) = signed_in(&gw, &admin, "Ines", "instructor").await;
    let (_, manager) = signed_in(&gw, &admin, "Mia", "manager").await;
    // Every staff role may see the on-site list, so every staff role may print it. A trainee
    // gets no staff session at all: their PIN does not sign in to staff screens.
    let t = gw
        .create_user(&admin, json!({"given_name": "Tom", "family_name": "Trainee"}))
        .await;
    let tid = t["id"].as_str().unwrap().to_string();
    let tpin = issue_pin(&gw, &admin, &tid).await;
    let (s, body) = gw
        .post("/api/auth/sign-in", None, json!({"user_id": tid, "pin": tpin}))
        .await;
    assert!(s.is_client_error() && body.get("token").is_none(), "{s} {body}");
    let mut people = Vec::new();
    for (g, f) in [("Zofia", "Łukasiewicz-Wróbel"), ("Алексей", "Смирнов")] {
        let u = gw
            .create_user(&admin, json!({"given_name": g, "family_name": f}))
            .await;
        people.push(u["id"].as_str().unwrap().to_string());
    }
    let (s, class) = gw
        .post(
            "/api/classes",
            Some(&admin),
            json!({
                "title": "Working at heights", "room": "Room 2",
                "starts_at": "2026-11-25T09:00:00Z", "ends_at": "2026-11-25T12:00:00Z",
                "instructors": [iid], "expected": people,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{class}");
    let class = class["id"].as_str().unwrap().to_string();
    let (s, body) = gw
        .post(&format!("/api/classes/{class}/open"), Some(&it), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    for p in &people {
        let (s, body) = gw
            .post(
                &format!("/api/classes/{class}/check-in"),
                Some(&it),
                json!({"method": "id", "user_id": p}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let (_, on_site) = gw.get("/api/on-site", Some(&it)).await;
    assert_eq!(on_site.as_array().unwrap().len(), 2);

    // No session, and a role that may not see the list.
    let (s, body) = gw.post("/api/on-site/print", None, json!({})).await;
    assert_problem(s, &body, 401, "unauthenticated");
    let (s, body) = gw
        .post("/api/on-site/print", Some("not-a-session"), json!({}))
        .await;
    assert_problem(s, &body, 401, "unauthenticated");
    // A browser's cookie without the gateway's Origin is refused (403) before anything is queued.
    let res = gw
        .client
        .post(gw.url("/api/on-site/print"))
        .header("cookie", format!("sitegate_session={it}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Bad input is refused before anything is queued.
    let (s, body) = gw
        .post("/api/on-site/print", Some(&it), json!({"printer": ""}))
        .await;
    assert_problem(s, &body, 422, "invalid_field");
    assert_eq!(body["field"], "printer");
    let (s, body) = gw
        .post("/api/on-site/print", Some(&it), json!({"printer": "nowhere"}))
        .await;
    assert_problem(s, &body, 404, "not_found");
    let (s, body) = gw
        .post("/api/on-site/print", Some(&it), json!({"copies": 2}))
        .await;
    assert!(s.is_client_error(), "{s} {body}");
    assert_eq!(tp.jobs().len(), 0, "nothing printed yet");

    // The instructor prints the list: one job on the badge printer, the list of that moment.
    let (s, out) = gw.post("/api/on-site/print", Some(&it), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    assert_eq!(out["people"], 2);
    assert_eq!(out["job"]["kind"], "on_site_list");
    assert_eq!(out["job"]["printer"], "gate");
    assert_eq!(out["job"]["user_id"], Value::Null);
    assert!(
        out["generated_at"].as_str().unwrap().ends_with("+01:00"),
        "site time: {out}"
    );
    let job = out["job"]["id"].as_str().unwrap().to_string();

    // Someone leaves before (or while) it prints: the roll call still lists them.
    let (s, body) = gw
        .post(
            &format!("/api/classes/{class}/check-out"),
            Some(&it),
            json!({"method": "id", "user_id": people[0]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let done = wait_printed(&gw, &it, &job).await;
    assert_eq!(done["state"], "printed", "{done}");
    assert_eq!(done["attempts"], 1);
    let jobs = tp.wait_jobs(1, 10).await;
    assert_eq!(jobs.len(), 1, "one job for the whole list");
    let printed = &jobs[0];
    let (row_bytes, raster) = raster_of(printed);
    assert_eq!(row_bytes, 576 / 8, "the printer's full media width");
    assert!(raster.iter().any(|b| *b != 0), "ink on the list");
    let profiles = sitegate::printer::profile::Profiles::embedded().unwrap();
    let cut = &profiles.get("generic-escpos").unwrap().cut;
    assert!(
        !cut.is_empty() && printed.ends_with(cut),
        "the paper is cut after the list"
    );

    // Golden bytes: exactly the list of the moment it was asked for, both people on it.
    let generated_at = time(&out["generated_at"]);
    let list = OnSiteList {
        site: "Test site".into(),
        generated_at,
        people: on_site
            .as_array()
            .unwrap()
            .iter()
            .map(|p| OnSitePerson {
                given_name: p["given_name"].as_str().unwrap().into(),
                family_name: p["family_name"].as_str().unwrap().into(),
                user_id: p["user_id"].as_str().unwrap().into(),
                class_title: p["class_title"].as_str().unwrap().into(),
                room: p["room"].as_str().unwrap().into(),
                checked_in_at: Some(time(&p["checked_in_at"]).to_offset(generated_at.offset())),
            })
            .collect(),
    };
    assert_eq!(
        printed,
        &expected_bytes(list.clone()),
        "the printed list is the snapshot"
    );
    let one_left = OnSiteList {
        people: list.people[1..].to_vec(),
        ..list
    };
    assert_ne!(
        printed,
        &expected_bytes(one_left),
        "not the list after the check-out"
    );

    // The kiosk can follow the job without personal data; its picture is not public.
    let (s, k) = gw
        .client
        .get(gw.kiosk_url(&format!("/api/kiosk/print-jobs/{job}")))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(s, StatusCode::OK);
    assert_eq!(k.json::<Value>().await.unwrap()["state"], "printed");
    let s = gw
        .client
        .get(gw.kiosk_url(&format!("/api/kiosk/print-jobs/{job}/badge.png")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Managers see it among the print jobs; the follow route is staff-only and lists only lists.
    let (s, body) = gw.get(&format!("/api/print-jobs/{job}"), Some(&admin)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "on_site_list");
    let (s, body) = gw.get(&format!("/api/on-site/print/{job}"), Some(&manager)).await;
    assert_eq!(s, StatusCode::OK, "managers follow it too: {body}");
    let (s, body) = gw.get(&format!("/api/on-site/print/{job}"), None).await;
    assert_problem(s, &body, 401, "unauthenticated");
    let (s, body) = gw.get("/api/on-site/print/not-a-job", Some(&it)).await;
    assert_problem(s, &body, 422, "invalid_field");
    let (s, badge) = gw
        .post(
            &format!("/api/users/{}/badge", people[1]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{badge}");
    let (s, body) = gw
        .get(
            &format!("/api/on-site/print/{}", badge["job"]["id"].as_str().unwrap()),
            Some(&it),
        )
        .await;
    assert_problem(s, &body, 404, "not_found");

    // Audited as the instructor's action.
    let (s, audit) = gw.get("/api/audit?limit=1000", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "on_site.print")
        .unwrap_or_else(|| panic!("no on_site.print audit entry: {audit}"));
    assert_eq!(entry["outcome"], "success");
    assert_eq!(entry["actor"], iid);
    assert!(entry["detail"].as_str().unwrap().contains(&job), "{entry}");
    gw.stop().await;
}

#[tokio::test]
async fn an_empty_site_still_prints_a_heading() {
    let clock = ManualClock::new(T0);
    let tp = TestPrinter::start().await;
    let gw = start(&clock, &tp).await;
    let (_, _, admin) = gw.admin_session().await;
    let (s, out) = gw.post("/api/on-site/print", Some(&admin), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    assert_eq!(out["people"], 0);
    let done = wait_printed(&gw, &admin, out["job"]["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "printed", "{done}");
    let jobs = tp.wait_jobs(1, 10).await;
    let list = OnSiteList {
        site: "Test site".into(),
        generated_at: time(&out["generated_at"]),
        people: vec![],
    };
    assert_eq!(jobs[0], expected_bytes(list));
    gw.stop().await;
}
