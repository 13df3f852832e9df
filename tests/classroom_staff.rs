//! What staff take out of the gateway about people, black-box against the real gateway: every CSV
//! (class roster, on-site list, link usage) in site time to the second as a spreadsheet reads it;
//! a class's roster (JSON, CSV, live events, people search) only for its own instructors, managers
//! and admins; and one name-search rule, blind to case and accents, for the staff user search and
//! a class's check-in by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod links_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Gateway, assert_problem, parse_csv};
use links_support::{enroll_ok, form, link};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use time::Duration;
use time::macros::datetime;

/// A moment with nanoseconds, as the clock gives them.
const T0: time::OffsetDateTime = datetime!(2026-12-03 08:14:05.123456789 UTC);

async fn start(clock: &ManualClock, utc_offset: &str) -> Gateway {
    let offset = utc_offset.to_string();
    Gateway::start_with(
        move |c| c.classroom.utc_offset = offset,
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await
}

/// A user with a role and a PIN, signed in: (id, token, PIN).
async fn staff(gw: &Gateway, admin: &str, given: &str, role: &str) -> (String, String, String) {
    let u = gw
        .create_user(
            admin,
            json!({"given_name": given, "family_name": "Staff", "role": role}),
        )
        .await;
    let id = u["id"].as_str().unwrap().to_string();
    let (s, body) = gw
        .post(&format!("/api/users/{id}/pin"), Some(admin), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let pin = body["pin"].as_str().unwrap().to_string();
    let token = gw.sign_in(&id, &pin).await;
    (id, token, pin)
}

/// A class today at 09:00 UTC run by `instructor`, expecting `expected`; its ID.
async fn class(gw: &Gateway, admin: &str, instructor: &str, expected: &[String]) -> String {
    let (s, c) = gw
        .post(
            "/api/classes",
            Some(admin),
            json!({
                "title": "Working at heights", "room": "Room 2",
                "starts_at": "2026-12-03T09:00:00Z", "ends_at": "2026-12-03T12:00:00Z",
                "instructors": [instructor], "expected": expected,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_string()
}

async fn csv(gw: &Gateway, path: &str, token: &str) -> Vec<Vec<String>> {
    let res = gw
        .client
        .get(gw.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    parse_csv(text.strip_prefix('\u{feff}').expect("UTF-8 BOM"))
}

/// The cell under `header` in the row whose first cells include `key`.
fn cell<'a>(rows: &'a [Vec<String>], key: &str, header: &str) -> &'a str {
    let col = rows[0]
        .iter()
        .position(|h| h == header)
        .unwrap_or_else(|| panic!("no column {header:?} in {:?}", rows[0]));
    let row = rows[1..]
        .iter()
        .find(|r| r.iter().any(|c| c == key))
        .unwrap_or_else(|| panic!("no row for {key} in {rows:?}"));
    &row[col]
}

/// What a spreadsheet reads as a date-time: `YYYY-MM-DD HH:MM:SS`, nothing more.
fn spreadsheet_time(text: &str) -> time::PrimitiveDateTime {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(text, &fmt).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[tokio::test]
async fn every_csv_is_site_time_to_the_second_with_the_offset_in_its_header() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, "+01:00").await;
    let (_, _, admin) = gw.admin_session().await;
    let (iid, it, ipin) = staff(&gw, &admin, "Ines", "instructor").await;

    // Enrolled through a link at 08:14:05.123456789 UTC: 09:14:05 on site.
    let l = link(&gw, &admin, json!({"name": "Induction"})).await;
    let worker = enroll_ok(&gw, &l, form("Håkon", "Ødegård", "hakon@example.no")).await;
    let wid = worker["user"]["id"].as_str().unwrap().to_string();
    let rows = csv(
        &gw,
        &format!("/api/links/{}/usage.csv", l["id"].as_str().unwrap()),
        &admin,
    )
    .await;
    let enrolled = cell(&rows, &wid, "Enrolled at (UTC+01:00)");
    assert_eq!(enrolled, "2026-12-03 09:14:05");
    spreadsheet_time(enrolled);

    let class = class(&gw, &admin, &iid, std::slice::from_ref(&wid)).await;
    let (s, body) = gw
        .post(&format!("/api/classes/{class}/open"), Some(&it), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = gw
        .post(
            &format!("/api/classes/{class}/check-in"),
            Some(&it),
            json!({"method": "id", "user_id": wid}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let rows = csv(&gw, "/api/on-site.csv", &it).await;
    assert_eq!(
        cell(&rows, &wid, "Checked in at (UTC+01:00)"),
        "2026-12-03 09:14:05"
    );

    // 1 h 2 min 3.5 s later: 10:16:08.62… on site, cut (not rounded) to the second.
    clock.advance(Duration::seconds(3723) + Duration::milliseconds(500));
    // An hour idle ended the instructor's session: they sign in again.
    let it = gw.sign_in(&iid, &ipin).await;
    let (s, body) = gw
        .post(
            &format!("/api/classes/{class}/check-out"),
            Some(&it),
            json!({"method": "id", "user_id": wid}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let rows = csv(&gw, &format!("/api/classes/{class}/roster.csv"), &it).await;
    assert_eq!(cell(&rows, &wid, "Given name"), "Håkon");
    let checked_in = cell(&rows, &wid, "Checked in at (UTC+01:00)");
    let checked_out = cell(&rows, &wid, "Checked out at (UTC+01:00)");
    assert_eq!(
        (checked_in, checked_out),
        ("2026-12-03 09:14:05", "2026-12-03 10:16:08")
    );
    assert_eq!(
        spreadsheet_time(checked_out) - spreadsheet_time(checked_in),
        Duration::seconds(3723)
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_site_west_of_greenwich_names_its_negative_offset() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, "-03:30").await;
    let (_, _, admin) = gw.admin_session().await;
    let l = link(&gw, &admin, json!({"name": "Induction"})).await;
    let worker = enroll_ok(&gw, &l, form("Zoë", "O'Brien", "zoe@example.ie")).await;
    let rows = csv(
        &gw,
        &format!("/api/links/{}/usage.csv", l["id"].as_str().unwrap()),
        &admin,
    )
    .await;
    let id = worker["user"]["id"].as_str().unwrap();
    assert_eq!(cell(&rows, id, "Enrolled at (UTC-03:30)"), "2026-12-03 04:44:05");
    gw.stop().await;
}

#[tokio::test]
async fn a_roster_is_for_its_own_instructors_managers_and_admins() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, "+00:00").await;
    let (_, _, admin) = gw.admin_session().await;
    let (iid, it, _) = staff(&gw, &admin, "Ines", "instructor").await;
    let (_, other, _) = staff(&gw, &admin, "Otto", "instructor").await;
    let (_, manager, _) = staff(&gw, &admin, "Maria", "manager").await;
    let worker = gw
        .create_user(&admin, json!({"given_name": "José", "family_name": "Núñez Peña"}))
        .await;
    let class = class(&gw, &admin, &iid, &[worker["id"].as_str().unwrap().to_string()]).await;

    let paths = [
        format!("/api/classes/{class}"),
        format!("/api/classes/{class}/roster.csv"),
        format!("/api/classes/{class}/events"),
        format!("/api/classes/{class}/people?q=jose"),
    ];
    for path in &paths {
        // Another instructor: refused, with its own code, before anything is streamed.
        let res = gw
            .client
            .get(gw.url(path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = res.json().await.unwrap();
        assert_problem(status, &body, 403, "not_class_instructor");
        assert!(!body.to_string().contains("Núñez"), "{body}");
        // Its own instructor, a manager, an admin: let in.
        for (who, token) in [("instructor", &it), ("manager", &manager), ("admin", &admin)] {
            let res = gw
                .client
                .get(gw.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{who} at {path}");
        }
    }
    // Without a session nobody reaches the class; an unknown class is still unknown.
    let res = gw.client.get(gw.url(&paths[1])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (s, body) = gw
        .get(&format!("/api/classes/{}", uuid::Uuid::now_v7()), Some(&other))
        .await;
    assert_problem(s, &body, 404, "not_found");
    gw.stop().await;
}

/// Names from tests/data/names.tsv (and one more), each with what someone types on a keyboard
/// without those letters.
const TYPED: &[(&str, &str)] = &[
    ("José", "jose nunez"),
    ("João", "JOAO goncalves"),
    ("Zofia", "zofia wrobel"),
    ("Søren", "soren orsted"),
    ("Zoë", "zoe obrien"),
    ("Jürgen", "jurgen weiss"),
    ("Алексей", "АЛЕКСЕЙ смир"),
    ("Ελένη", "ελενη παπαδοπουλου"),
    ("Nguyễn", "nguyen khai"),
    ("Ahmed", "ahmed sayed"),
    ("Maximilian-Alexander", "alexander sigmaringen"),
    ("Li", "li na"),
    ("ʻIolani", "iolani"),
    ("Çağrı", "CAGRI ozturk"),
    ("Đorđe", "dorde petrovic"),
    ("Håkon", "hakon"),
];

/// The IDs a search finds: the staff user search (`users[].id`) or a class's (`[].user_id`).
async fn found(gw: &Gateway, path: &str, token: &str, q: &str) -> BTreeSet<String> {
    let res = gw
        .client
        .get(gw.url(path))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}?q={q}");
    let v: Value = res.json().await.unwrap();
    let list = v.get("users").unwrap_or(&v).as_array().unwrap().clone();
    list.iter()
        .map(|u| {
            u.get("user_id")
                .or(u.get("id"))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn one_name_search_rule_finds_the_same_people_for_staff_and_class_check_in() {
    let clock = ManualClock::new(T0);
    let gw = start(&clock, "+00:00").await;
    let (_, _, admin) = gw.admin_session().await;
    let (iid, it, _) = staff(&gw, &admin, "Ines", "instructor").await;
    let tsv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/names.tsv")).unwrap();
    let mut names: Vec<(String, String)> = tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cells = l.split('\t');
            (
                cells.next().unwrap().to_string(),
                cells.next().unwrap().to_string(),
            )
        })
        .collect();
    names.push(("Håkon".into(), "Ødegård".into()));
    let mut ids = std::collections::HashMap::new();
    for (given, family) in &names {
        let u = gw
            .create_user(&admin, json!({"given_name": given, "family_name": family}))
            .await;
        ids.insert(given.clone(), u["id"].as_str().unwrap().to_string());
    }
    let class = class(&gw, &admin, &iid, &[]).await;

    let people = format!("/api/classes/{class}/people");
    for (given, typed) in TYPED {
        let want = &ids[*given];
        let staff_found = found(&gw, "/api/users", &admin, typed).await;
        let class_found = found(&gw, &people, &it, typed).await;
        assert!(
            staff_found.contains(want),
            "staff search {typed:?} misses {given}"
        );
        assert!(
            class_found.contains(want),
            "class search {typed:?} misses {given}"
        );
        assert_eq!(staff_found, class_found, "one rule for {typed:?}");
    }
    // A part inside a word is not a name's start; a query of punctuation finds nobody.
    assert!(found(&gw, &people, &it, "kon").await.is_empty());
    assert!(found(&gw, "/api/users", &admin, "kon").await.is_empty());
    assert!(found(&gw, &people, &it, "-'").await.is_empty());
    gw.stop().await;
}
