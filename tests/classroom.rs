//! Classroom sessions and check-in, black-box against the real gateway: classes and who may run
//! them, every check-in method and every bad input the issue lists, closing with outcomes, the
//! CSV export, the live roster (server-sent events), auto check-out, who is on site, and the
//! classroom-only headset rule with the reference headset client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod headset_support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::{Gateway, assert_problem};
use headset_support::{issue_pin, paired_client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::headset_client::LoginWith;
use time::Duration;
use time::macros::datetime;

const T0: time::OffsetDateTime = datetime!(2026-11-25 08:55 UTC);

async fn start(clock: &ManualClock, adjust: impl FnOnce(&mut sitegate::config::Config)) -> Gateway {
    Gateway::start_with(
        adjust,
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await
}

/// A person with a PIN: (id, PIN).
async fn person(gw: &Gateway, admin: &str, given: &str, family: &str, extra: Value) -> (String, String) {
    let mut body = json!({"given_name": given, "family_name": family});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let u = gw.create_user(admin, body).await;
    let id = u["id"].as_str().unwrap().to_string();
    let pin = issue_pin(gw, admin, &id).await;
    (id, pin)
}

struct Setup {
    admin: String,
    instructor: (String, String, String),
    other_instructor: String,
    module: String,
    class: String,
    people: Vec<(String, String)>,
}

/// An admin, two instructors, a module, three expected people and a class at 09:00 in Room 2.
async fn setup(gw: &Gateway) -> Setup {
    let (_, _, admin) = gw.admin_session().await;
    let (iid, ipin) = person(gw, &admin, "Ines", "Instructor", json!({"role": "instructor"})).await;
    let itoken = gw.sign_in(&iid, &ipin).await;
    let (oid, opin) = person(gw, &admin, "Otto", "Other", json!({"role": "instructor"})).await;
    let other = gw.sign_in(&oid, &opin).await;
    let (s, module) = gw
        .post(
            "/api/modules",
            Some(&admin),
            json!({"title": "Working at heights", "duration_minutes": 60}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{module}");
    let module = module["id"].as_str().unwrap().to_string();
    let mut people = Vec::new();
    for (g, f) in [("José", "Núñez Peña"), ("Zoë", "O'Brien"), ("Алексей", "Смирнов")] {
        people.push(person(gw, &admin, g, f, json!({})).await);
    }
    let (s, a) = gw
        .post(
            "/api/assignments",
            Some(&admin),
            json!({"module_id": module, "target_kind": "user", "target_id": people[0].0}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (s, class) = gw
        .post(
            "/api/classes",
            Some(&admin),
            json!({
                "title": "Working at heights, practical", "module_ids": [module], "room": "Room 2",
                "starts_at": "2026-11-25T09:00:00Z", "ends_at": "2026-11-25T12:00:00Z",
                "instructors": [iid], "expected": people.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{class}");
    assert_eq!(class["state"], "scheduled");
    Setup {
        admin,
        instructor: (iid, ipin, itoken),
        other_instructor: other,
        module,
        class: class["id"].as_str().unwrap().to_string(),
        people,
    }
}

/// Issue (or reprint) a badge through the staff API; returns its QR payload, signed with the
/// site's badge key as the printed QR is (CONTRACTS.md "Badge QR").
async fn issue_badge(gw: &Gateway, admin: &str, user: &str) -> String {
    let (st, body) = gw
        .post(&format!("/api/users/{user}/badge"), Some(admin), json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    signed(gw, body["badge"]["number"].as_str().unwrap())
}

fn signed(gw: &Gateway, number: &str) -> String {
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let n = sitegate::domain::badge::BadgeNumber::from_canonical(number.into());
    sitegate::domain::badge::payload(&n, &keys.badge_mac(&n.mac_input()))
}

async fn check(gw: &Gateway, token: &str, class: &str, dir: &str, body: Value) -> (StatusCode, Value) {
    gw.post(&format!("/api/classes/{class}/{dir}"), Some(token), body)
        .await
}

#[tokio::test]
async fn classes_are_run_only_by_their_instructors_and_move_one_way() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;

    // Instructors do not schedule classes; managers and admins do.
    let (st, body) = gw
        .post("/api/classes", Some(it), json!({"title": "x", "room": "R", "starts_at": "2026-11-25T09:00:00Z", "ends_at": "2026-11-25T10:00:00Z", "instructors": [s.instructor.0]}))
        .await;
    assert_problem(st, &body, 403, "forbidden");
    // A class ending before it starts, an unknown module: refused, naming the field.
    let (st, body) = gw
        .post("/api/classes", Some(&s.admin), json!({"title": "x", "room": "R", "starts_at": "2026-11-25T09:00:00Z", "ends_at": "2026-11-25T08:00:00Z", "instructors": [s.instructor.0]}))
        .await;
    assert_problem(st, &body, 422, "invalid_field");
    assert_eq!(body["field"], "ends_at");
    let (st, body) = gw
        .post("/api/classes", Some(&s.admin), json!({"title": "x", "room": "R", "module_ids": [uuid::Uuid::now_v7()], "starts_at": "2026-11-25T09:00:00Z", "ends_at": "2026-11-25T10:00:00Z", "instructors": [s.instructor.0]}))
        .await;
    assert_eq!(
        (st.as_u16(), body["field"].as_str()),
        (422, Some("module_ids")),
        "{body}"
    );

    // Check-in before the class is open.
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_problem(st, &body, 409, "class_not_open");

    // Another instructor may not open it; its own instructor may.
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/open", s.class),
            Some(&s.other_instructor),
            json!({}),
        )
        .await;
    assert_problem(st, &body, 403, "not_class_instructor");
    let (st, body) = gw
        .post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "open");
    let (st, body) = gw
        .post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    assert_problem(st, &body, 409, "class_not_scheduled");
    let (st, body) = check(
        &gw,
        &s.other_instructor,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_problem(st, &body, 403, "not_class_instructor");

    // Today's classes for the instructor.
    let (_, mine) = gw.get("/api/classes?date=today&mine=true", Some(it)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let (_, theirs) = gw
        .get("/api/classes?date=today&mine=true", Some(&s.other_instructor))
        .await;
    assert_eq!(theirs, json!([]));
    let (st, body) = gw.get("/api/classes?date=25-11-2026", Some(it)).await;
    assert_problem(st, &body, 422, "invalid_field");

    // Cancelled and closed classes take no check-ins.
    let (_, second) = gw
        .post("/api/classes", Some(&s.admin), json!({"title": "Fire safety", "room": "Room 3", "starts_at": "2026-11-25T13:00:00Z", "ends_at": "2026-11-25T14:00:00Z", "instructors": [s.instructor.0]}))
        .await;
    let second = second["id"].as_str().unwrap();
    let (st, body) = gw
        .post(&format!("/api/classes/{second}/cancel"), Some(it), json!({}))
        .await;
    assert_problem(st, &body, 403, "forbidden");
    let (st, body) = gw
        .post(
            &format!("/api/classes/{second}/cancel"),
            Some(&s.admin),
            json!({}),
        )
        .await;
    assert_eq!(
        (st, body["state"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{body}"
    );
    let (st, body) = check(
        &gw,
        it,
        second,
        "check-in",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_problem(st, &body, 409, "class_cancelled");
    let (st, body) = gw
        .client
        .patch(gw.url(&format!("/api/classes/{second}")))
        .bearer_auth(&s.admin)
        .json(&json!({"room": "Room 4"}))
        .send()
        .await
        .map(|r| r.status())
        .map(|st| (st, Value::Null))
        .unwrap();
    assert_eq!(st, StatusCode::CONFLICT, "{body}");

    let (st, _) = gw
        .post(&format!("/api/classes/{}/close", s.class), Some(it), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_problem(st, &body, 409, "class_closed");
    gw.stop().await;
}

#[tokio::test]
async fn every_check_in_method_and_every_bad_input() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;
    gw.post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    clock.advance(Duration::minutes(7)); // 09:02

    // Typed ID.
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "checked_in");
    assert_eq!(body["message"], "José Núñez Peña checked in at 09:02");
    // A double scan changes nothing and says since when.
    clock.advance(Duration::minutes(3));
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "staff", "user_id": s.people[0].0}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "already_checked_in");
    assert_eq!(body["message"], "José Núñez Peña is already checked in at 09:02");
    assert_eq!(body["method"], "id");

    // A mistyped ID is caught before any lookup.
    let id = s.people[1].0.replace('-', "");
    let typo = format!("{}{}", if id.starts_with('A') { "B" } else { "A" }, &id[1..]);
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": typo}),
    )
    .await;
    assert_problem(st, &body, 422, "id_typo");

    // Name search, then the person's PIN: a wrong PIN is the generic refusal.
    let (st, found) = gw
        .get(
            &format!("/api/classes/{}/people?q=zo%C3%AB%20o", s.class),
            Some(it),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{found}");
    assert_eq!(found[0]["user_id"], s.people[1].0.as_str());
    assert_eq!(found[0]["expected"], true);
    let wrong = if s.people[1].1 == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "pin", "user_id": s.people[1].0, "pin": wrong}),
    )
    .await;
    assert_problem(st, &body, 401, "invalid_credentials");
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "pin", "user_id": s.people[1].0, "pin": s.people[1].1}),
    )
    .await;
    assert_eq!(
        (st, body["status"].as_str()),
        (StatusCode::OK, Some("checked_in")),
        "{body}"
    );
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "pin", "user_id": s.people[1].0}),
    )
    .await;
    assert_problem(st, &body, 422, "invalid_field");
    assert_eq!(body["field"], "pin");

    // A walk-in marked by the instructor.
    let (walk, _) = person(&gw, &s.admin, "Wally", "Walkin", json!({})).await;
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "staff", "user_id": walk}),
    )
    .await;
    assert_eq!(
        (st, body["walk_in"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{body}"
    );

    // A deactivated user.
    let (gone, _) = person(&gw, &s.admin, "Dee", "Activated", json!({})).await;
    let (st, _) = gw
        .post(
            &format!("/api/users/{gone}/deactivate"),
            Some(&s.admin),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": gone}),
    )
    .await;
    assert_problem(st, &body, 403, "user_deactivated");

    // Badges: a real one checks in; garbage or half a payload is not a sitegate badge; a forged
    // signature, a number never issued and a retired badge are each refused with their own code.
    let first = issue_badge(&gw, &s.admin, &s.people[2].0).await;
    let second = issue_badge(&gw, &s.admin, &s.people[2].0).await; // a reprint retires the first
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "badge", "badge": format!("{second}\n")}),
    )
    .await;
    assert_eq!(
        (st, body["status"].as_str(), body["method"].as_str()),
        (StatusCode::OK, Some("checked_in"), Some("badge")),
        "{body}"
    );
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "badge", "badge": first}),
    )
    .await;
    assert_problem(st, &body, 409, "badge_retired");
    let mut forged = second.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "badge", "badge": forged}),
    )
    .await;
    assert_problem(st, &body, 422, "badge_forged");
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "badge", "badge": signed(&gw, "ZZZZZZZZZZ")}),
    )
    .await;
    assert_problem(st, &body, 404, "badge_unknown");
    for junk in [
        "hello".to_string(),
        second[..12].to_string(),
        format!("{second}X"),
        "]C1SG1ABCDE12345FGHJK678".into(),
    ] {
        let (st, body) = check(
            &gw,
            it,
            &s.class,
            "check-in",
            json!({"method": "badge", "badge": junk}),
        )
        .await;
        assert_problem(st, &body, 422, "badge_not_sitegate");
    }
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "badge", "badge": "x".repeat(65)}),
    )
    .await;
    assert_problem(st, &body, 422, "invalid_field");

    // Check out, and out again (nothing changes).
    let (st, body) = check(
        &gw,
        it,
        &s.class,
        "check-out",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_eq!(
        (st, body["status"].as_str()),
        (StatusCode::OK, Some("checked_out")),
        "{body}"
    );
    let (_, body) = check(
        &gw,
        it,
        &s.class,
        "check-out",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    assert_eq!(body["status"], "not_checked_in");

    let (_, roster) = gw.get(&format!("/api/classes/{}", s.class), Some(it)).await;
    assert_eq!(
        roster["counts"],
        json!({"expected": 3, "present": 3, "walk_ins": 1, "not_arrived": 0, "left": 1}),
        "{roster}"
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kiosks_checking_in_the_same_person_at_once_record_one_check_in() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;
    gw.post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    let who = s.people[2].clone();
    let body = json!({"class_id": s.class, "user_id": who.0, "pin": who.1});
    let kiosk = |b: Value| {
        let c = gw.client.clone();
        let url = gw.kiosk_url("/api/kiosk/check-in");
        async move {
            c.post(url)
                .json(&b)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let staff = |b: Value| {
        let c = gw.client.clone();
        let url = gw.url(&format!("/api/classes/{}/check-in", s.class));
        let t = it.clone();
        async move {
            c.post(url)
                .bearer_auth(t)
                .json(&b)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(
        kiosk(body.clone()),
        staff(json!({"method": "id", "user_id": who.0}))
    );
    let mut statuses = vec![
        a["status"].as_str().unwrap().to_string(),
        b["status"].as_str().unwrap().to_string(),
    ];
    statuses.sort();
    assert_eq!(statuses, ["already_checked_in", "checked_in"], "{a} {b}");
    let (_, user) = gw.get(&format!("/api/users/{}", who.0), Some(&s.admin)).await;
    let ins = user["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "checked_in")
        .count();
    assert_eq!(ins, 1, "one check-in in the activity log: {user}");
    gw.stop().await;
}

#[tokio::test]
async fn the_kiosk_self_check_in_takes_an_id_and_pin_or_a_badge() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let (_, none) = gw.get("/api/kiosk/classes", None).await;
    assert_eq!(none, json!([]), "nothing open yet");
    let who = s.people[0].clone();
    let (st, body) = gw
        .post(
            "/api/kiosk/check-in",
            None,
            json!({"class_id": s.class, "user_id": who.0, "pin": who.1}),
        )
        .await;
    assert_problem(st, &body, 409, "class_not_open");
    gw.post(
        &format!("/api/classes/{}/open", s.class),
        Some(&s.instructor.2),
        json!({}),
    )
    .await;
    let (_, open) = gw.get("/api/kiosk/classes", None).await;
    assert_eq!(open[0]["title"], "Working at heights, practical");
    assert_eq!(open[0]["room"], "Room 2");
    let (st, body) = gw
        .post(
            "/api/kiosk/check-in",
            None,
            json!({"class_id": s.class, "user_id": who.0, "pin": "12"}),
        )
        .await;
    assert_problem(st, &body, 401, "invalid_credentials");
    let (st, body) = gw
        .post(
            "/api/kiosk/check-in",
            None,
            json!({"class_id": s.class, "badge": "SG1ABCDE"}),
        )
        .await;
    assert_problem(st, &body, 422, "badge_not_sitegate");
    let (st, body) = gw
        .post(
            "/api/kiosk/check-in",
            None,
            json!({"class_id": s.class, "user_id": who.0, "pin": who.1}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["class_title"], "Working at heights, practical");
    assert_eq!(body["given_name"], "José");
    let (st, body) = gw
        .post(
            "/api/kiosk/check-in",
            None,
            json!({"class_id": s.class, "user_id": who.0}),
        )
        .await;
    assert_problem(st, &body, 422, "invalid_field");
    gw.stop().await;
}

#[tokio::test]
async fn closing_records_outcomes_completes_training_and_exports_csv() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;
    gw.post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    for p in &s.people[..2] {
        check(
            &gw,
            it,
            &s.class,
            "check-in",
            json!({"method": "id", "user_id": p.0}),
        )
        .await;
    }
    // Zoë left early: partial. Алексей never came: no-show. An outsider cannot be given an outcome.
    let (st, body) = gw
        .post(
            &format!("/api/classes/{}/close", s.class),
            Some(it),
            json!({"outcomes": [{"user_id": s.other_instructor_id(&gw).await, "outcome": "attended"}]}),
        )
        .await;
    assert_problem(st, &body, 422, "invalid_field");
    let (st, roster) = gw
        .post(
            &format!("/api/classes/{}/close", s.class),
            Some(it),
            json!({"outcomes": [{"user_id": s.people[1].0, "outcome": "partial"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{roster}");
    let outcome = |id: &str| {
        roster["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["user_id"] == id)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome(&s.people[0].0), "attended");
    assert_eq!(outcome(&s.people[1].0), "partial");
    assert_eq!(outcome(&s.people[2].0), "no_show");
    assert_eq!(
        roster["counts"]["present"], 0,
        "everyone was checked out at close"
    );

    let (_, user) = gw
        .get(&format!("/api/users/{}", s.people[0].0), Some(&s.admin))
        .await;
    let line = user["training"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["module"]["id"] == s.module.as_str())
        .unwrap();
    assert_eq!(line["status"], "completed", "{user}");
    let kinds: Vec<&str> = user["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"class_outcome")
            && kinds.contains(&"module_completed")
            && kinds.contains(&"checked_in"),
        "{kinds:?}"
    );

    let res = gw
        .client
        .get(gw.url(&format!("/api/classes/{}/roster.csv", s.class)))
        .bearer_auth(it)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}User ID,Given name,Family name,"),
        "{csv}"
    );
    assert!(
        csv.contains("\r\n") && !csv.replace("\r\n", "").contains('\n'),
        "CRLF line ends only"
    );
    assert!(
        csv.contains(",José,Núñez Peña,")
            && csv.contains(",Zoë,O'Brien,")
            && csv.contains(",Алексей,Смирнов,"),
        "{csv}"
    );
    assert!(
        csv.contains("\"Working at heights, practical\""),
        "a comma is quoted: {csv}"
    );
    assert_eq!(csv.lines().count(), 4);

    // The outbox holds the outcomes, written with them.
    let dir = gw.stop().await;
    let store = sitegate::store::Store::open(&dir.path().join("state/sitegate.redb")).unwrap();
    let events = store
        .read_blocking(|tx| sitegate::store::outbox::list_events(tx, 0, 1000))
        .unwrap();
    let outcomes = events.iter().filter(|e| e.kind == "class.outcome").count();
    assert_eq!(outcomes, 3);
    assert!(events.iter().any(|e| e.kind == "class.closed"));
    // Every time in those payloads is RFC 3339 text, as on the rest of the wire. (Closing
    // checks people out without a class.check_out event; the auto check-out test reads one.)
    let times = [
        ("class.opened", "opened_at"),
        ("class.check_in", "at"),
        ("class.outcome", "checked_in_at"),
        ("class.outcome", "checked_out_at"),
        ("class.closed", "closed_at"),
    ];
    for (kind, field) in times {
        let of_kind: Vec<_> = events.iter().filter(|e| e.kind == kind).collect();
        assert!(!of_kind.is_empty(), "no {kind} event");
        for e in of_kind {
            assert_rfc3339_or_null(&e.payload[field], kind, field);
        }
    }
    let attended = events
        .iter()
        .find(|e| e.kind == "class.outcome" && e.payload["outcome"] == "attended")
        .unwrap();
    assert!(
        attended.payload["checked_in_at"].is_string(),
        "{}",
        attended.payload
    );
}

/// An event's time field: RFC 3339 text (or null where the field is optional), never the `time`
/// crate's list of integers.
fn assert_rfc3339_or_null(v: &Value, kind: &str, field: &str) {
    if v.is_null() {
        return;
    }
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("{kind}.{field} is not text: {v}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{kind}.{field} {text:?} is not RFC 3339: {e}"));
}

impl Setup {
    async fn other_instructor_id(&self, gw: &Gateway) -> String {
        let (_, me) = gw.get("/api/auth/me", Some(&self.other_instructor)).await;
        me["user_id"].as_str().unwrap().to_string()
    }
}

/// Read server-sent events until one `roster` event's data satisfies `want`.
async fn next_roster(res: &mut reqwest::Response, buf: &mut String, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                let v: Value = serde_json::from_str(data).unwrap();
                if want(&v) {
                    return v;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("roster event in time")
            .unwrap()
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_live_roster_streams_every_change_and_the_on_site_list_follows() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;
    let mut res = gw
        .client
        .get(gw.url(&format!("/api/classes/{}/events", s.class)))
        .bearer_auth(it)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    let first = next_roster(&mut res, &mut buf, |_| true).await;
    assert_eq!(first["class"]["state"], "scheduled");
    gw.post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    next_roster(&mut res, &mut buf, |v| v["class"]["state"] == "open").await;
    check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": s.people[2].0}),
    )
    .await;
    let v = next_roster(&mut res, &mut buf, |v| v["counts"]["present"] == 1).await;
    let line = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["present"] == true)
        .unwrap()
        .clone();
    assert_eq!(line["short_name"], "Алексей С.");
    assert_eq!(line["check_in_method"], "id");

    let (_, on_site) = gw.get("/api/on-site", Some(it)).await;
    assert_eq!(on_site.as_array().unwrap().len(), 1);
    assert_eq!(on_site[0]["room"], "Room 2");
    let csv = gw
        .client
        .get(gw.url("/api/on-site.csv"))
        .bearer_auth(it)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("\u{feff}Family name,Given name,") && csv.contains("Смирнов,Алексей,"),
        "{csv}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn auto_check_out_after_n_hours_is_flagged_auto() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |c| {
        c.classroom.auto_checkout_after_hours = 2;
        c.classroom.auto_checkout_check_secs = 1;
    })
    .await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;
    gw.post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "id", "user_id": s.people[0].0}),
    )
    .await;
    clock.advance(Duration::hours(1));
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    // The staff session idled through that hour: sign in again.
    let it = &gw.sign_in(&s.instructor.0, &s.instructor.1).await;
    let (_, r) = gw.get(&format!("/api/classes/{}", s.class), Some(it)).await;
    assert_eq!(r["counts"]["present"], 1, "not yet: {r}");
    clock.advance(Duration::hours(2));
    let it = &gw.sign_in(&s.instructor.0, &s.instructor.1).await;
    let mut line = Value::Null;
    for _ in 0..50 {
        let (_, r) = gw.get(&format!("/api/classes/{}", s.class), Some(it)).await;
        line = r["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["user_id"] == s.people[0].0.as_str())
            .unwrap()
            .clone();
        if line["present"] == false {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(line["auto_checked_out"], true, "{line}");
    assert_eq!(line["check_out_method"], "auto");
    assert_eq!(
        line["checked_out_at"], "2026-11-25T10:55:00Z",
        "at the due time, not when noticed"
    );
    let (_, user) = gw.get(&format!("/api/users/{}", s.people[0].0), Some(it)).await;
    assert!(
        user["activity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "checked_out" && e["auto"] == true),
        "{user}"
    );
    let dir = gw.stop().await;
    let store = sitegate::store::Store::open(&dir.path().join("state/sitegate.redb")).unwrap();
    let events = store
        .read_blocking(|tx| sitegate::store::outbox::list_events(tx, 0, 1000))
        .unwrap();
    let auto = events
        .iter()
        .find(|e| e.kind == "class.check_out" && e.payload["auto"] == true)
        .expect("an automatic check-out event");
    assert_eq!(
        auto.payload["at"], "2026-11-25T10:55:00Z",
        "RFC 3339, at the due time"
    );
}

#[tokio::test]
async fn a_classroom_only_user_uses_a_headset_only_while_checked_in_to_an_open_class() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, |_| {}).await;
    let s = setup(&gw).await;
    let it = &s.instructor.2;
    let (cid, cpin) = person(
        &gw,
        &s.admin,
        "Carla",
        "Classroom",
        json!({"access_level": "classroom_only"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut headset = paired_client(&gw, &s.admin, dir.path(), "Headset 7").await;
    let device = headset.state.device_id.unwrap();
    let (st, _) = gw
        .post(
            &format!("/api/devices/{device}/room"),
            Some(&s.admin),
            json!({"room": "room 2"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let login = LoginWith::Pin {
        user_id: cid.clone(),
        pin: cpin.clone(),
    };

    let err = headset.login(login.clone()).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("classroom_only"), "not checked in");
    gw.post(&format!("/api/classes/{}/open", s.class), Some(it), json!({}))
        .await;
    let err = headset.login(login.clone()).await.unwrap_err();
    assert_eq!(
        err.code.as_deref(),
        Some("classroom_only"),
        "open, but not checked in"
    );
    check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "staff", "user_id": cid}),
    )
    .await;

    // The headset in that room offers her name.
    let roster = headset.roster().await.unwrap();
    assert_eq!(
        roster["participants"],
        json!([{"user_id": cid, "display_name": "Carla C."}]),
        "{roster}"
    );
    headset.login(login.clone()).await.expect("checked in: admitted");
    assert!(headset.me().await.is_ok());

    // Checked out: her headset session ends.
    check(
        &gw,
        it,
        &s.class,
        "check-out",
        json!({"method": "staff", "user_id": cid}),
    )
    .await;
    let err = headset.me().await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("unauthenticated"), "{err:?}");
    assert_eq!(headset.roster().await.unwrap()["participants"], json!([]));

    // In again, logged in again; the class closes: the session ends.
    check(
        &gw,
        it,
        &s.class,
        "check-in",
        json!({"method": "staff", "user_id": cid}),
    )
    .await;
    headset.login(login.clone()).await.expect("admitted again");
    gw.post(&format!("/api/classes/{}/close", s.class), Some(it), json!({}))
        .await;
    let err = headset.me().await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("unauthenticated"));
    let err = headset.login(login).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("classroom_only"), "class closed");
    gw.stop().await;
}
