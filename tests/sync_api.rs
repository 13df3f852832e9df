//! The sync as staff reach it over HTTP: its status (standalone, joined with a refused
//! credential, joined with the central system down), "sync now", dead letters retried and
//! discarded (audited), who may do what, and the central side's OpenAPI document. Dead letters
//! and the sync's state are planted in the store before the gateway starts, as the sync task
//! leaves them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Gateway, PLANTED_CENTRAL_URL, PLANTED_SITE_NAME, assert_problem, plant_dead_letters, plant_joined_sync,
    plant_pending_event,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;

async fn start_with_letters() -> (Gateway, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let seqs = plant_dead_letters(
        &dir.path().join("state"),
        sitegate::clock::Clock::now(&sitegate::clock::SystemClock),
        &[
            ("user.created", "email: already used by another user"),
            ("class.checked_in", "unknown class 0190c2a0"),
        ],
    );
    (Gateway::start_in(dir, |_| {}, RunOptions::default()).await, seqs)
}

fn audit_of<'a>(log: &'a Value, event: &str) -> Vec<&'a Value> {
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == event)
        .collect()
}

#[tokio::test]
async fn a_standalone_gateway_says_so_and_staff_retry_and_discard_dead_letters() {
    let (gw, seqs) = start_with_letters().await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());

    let (s, status) = gw.get("/api/sync/status", t).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    assert_eq!(status["state"], "standalone");
    assert_eq!(status["joined"], false);
    assert!(
        status["summary"].as_str().unwrap().contains("Not joined"),
        "{status}"
    );
    assert_eq!(status["central_url"], Value::Null);
    assert!(status["gateway_id"].as_str().unwrap().starts_with("gw-"));
    let letters = status["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 2, "{status}");
    assert_eq!(status["dead_letters_total"], 2, "{status}");
    assert_eq!(letters[0]["seq"], seqs[0]);
    assert_eq!(letters[0]["kind"], "user.created");
    assert_eq!(letters[0]["reason"], "email: already used by another user");
    assert!(letters[0].get("data").is_none(), "the event's data is not shown");
    let pending_before = status["pending_events"].as_u64().unwrap();

    // The staff status page carries the brief.
    let (s, brief) = gw.get("/api/status", t).await;
    assert_eq!(s, StatusCode::OK, "{brief}");
    assert_eq!(brief["sync"]["state"], "standalone");
    assert_eq!(brief["sync"]["dead_letters"], 2);
    assert!(brief["outbox_pending"].is_u64());

    // Sync now: accepted at once, even with nothing to sync with.
    let (s, now) = gw.post("/api/sync/now", t, json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{now}");
    assert_eq!(now["state"], "standalone");

    // Retry: back in the outbox under its own number.
    let (s, out) = gw
        .post(&format!("/api/sync/dead-letters/{}/retry", seqs[0]), t, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["seq"], seqs[0]);
    let (_, status) = gw.get("/api/sync/status", t).await;
    assert_eq!(status["dead_letters"].as_array().unwrap().len(), 1);
    assert_eq!(status["dead_letters"][0]["seq"], seqs[1]);
    assert_eq!(
        status["pending_events"].as_u64().unwrap(),
        pending_before + 1,
        "{status}"
    );
    // Twice: it is gone from the dead letters.
    let (s, body) = gw
        .post(&format!("/api/sync/dead-letters/{}/retry", seqs[0]), t, json!({}))
        .await;
    assert_problem(s, &body, 404, "not_found");

    // Discard: a reason is needed.
    let discard = format!("/api/sync/dead-letters/{}/discard", seqs[1]);
    for reason in ["", "   "] {
        let (s, body) = gw.post(&discard, t, json!({"reason": reason})).await;
        assert_problem(s, &body, 422, "invalid_field");
        assert_eq!(body["field"], "reason", "{body}");
    }
    let (s, body) = gw.post(&discard, t, json!({"reason": "x".repeat(501)})).await;
    assert_problem(s, &body, 422, "invalid_field");
    let (s, body) = gw.post(&discard, t, json!({})).await;
    assert_problem(s, &body, 422, "invalid_body");
    assert_eq!(body["field"], "reason", "a missing reason is named: {body}");
    let (s, out) = gw
        .post(
            &discard,
            t,
            json!({"reason": "Duplicate of a record fixed centrally"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    let (_, status) = gw.get("/api/sync/status", t).await;
    assert_eq!(status["dead_letters"], json!([]));
    assert_eq!(
        status["pending_events"].as_u64().unwrap(),
        pending_before + 1,
        "a discarded letter is not sent"
    );

    // Both are in the audit log, by this staff member, the discard with its reason.
    let (_, log) = gw.get("/api/audit", t).await;
    let retried = audit_of(&log, "sync.dead_letter_retry");
    assert_eq!(retried.len(), 1, "{log}");
    assert!(retried[0]["subject"].as_str().unwrap().contains("user.created"));
    let discarded = audit_of(&log, "sync.dead_letter_discard");
    assert_eq!(discarded.len(), 1, "{log}");
    assert_eq!(discarded[0]["detail"], "Duplicate of a record fixed centrally");
    assert_ne!(discarded[0]["actor"], "cli");

    // Unknown and malformed numbers.
    let (s, body) = gw.post("/api/sync/dead-letters/999999/retry", t, json!({})).await;
    assert_problem(s, &body, 404, "not_found");
    let (s, body) = gw
        .post(
            "/api/sync/dead-letters/999999/discard",
            t,
            json!({"reason": "gone"}),
        )
        .await;
    assert_problem(s, &body, 404, "not_found");
    let (s, body) = gw.post("/api/sync/dead-letters/seven/retry", t, json!({})).await;
    assert_problem(s, &body, 422, "invalid_field");
    assert_eq!(body["field"], "seq");
    gw.stop().await;
}

#[tokio::test]
async fn every_staff_member_reads_the_sync_and_only_managers_act_on_it() {
    let (gw, seqs) = start_with_letters().await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());
    let instructor = gw
        .create_user(
            &token,
            json!({"given_name": "Ina", "family_name": "Structor", "language": "en", "role": "instructor"}),
        )
        .await;
    let iid = instructor["id"].as_str().unwrap().to_string();
    let (s, pin) = gw.post(&format!("/api/users/{iid}/pin"), t, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{pin}");
    let itoken = gw.sign_in(&iid, pin["pin"].as_str().unwrap()).await;
    let it = Some(itoken.as_str());

    let retry = format!("/api/sync/dead-letters/{}/retry", seqs[0]);
    let discard = format!("/api/sync/dead-letters/{}/discard", seqs[0]);
    let (s, body) = gw.get("/api/sync/status", None).await;
    assert_problem(s, &body, 401, "unauthenticated");
    // An instructor sees the status, dead letters included, like the staff status page.
    let (s, body) = gw.get("/api/sync/status", it).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["dead_letters"].as_array().unwrap().len(), 2);
    for path in ["/api/sync/now", retry.as_str()] {
        let (s, body) = gw.post(path, None, json!({})).await;
        assert_problem(s, &body, 401, "unauthenticated");
        let (s, body) = gw.post(path, it, json!({})).await;
        assert_problem(s, &body, 403, "forbidden");
    }
    let (s, body) = gw.post(&discard, it, json!({"reason": "mine"})).await;
    assert_problem(s, &body, 403, "forbidden");
    // Nothing changed, and nothing was audited as done.
    let (_, status) = gw.get("/api/sync/status", t).await;
    assert_eq!(status["dead_letters"].as_array().unwrap().len(), 2);
    let (_, log) = gw.get("/api/audit", t).await;
    assert!(audit_of(&log, "sync.dead_letter_retry").is_empty(), "{log}");
    assert!(audit_of(&log, "sync.dead_letter_discard").is_empty(), "{log}");
    gw.stop().await;
}

/// A joined gateway whose credential the central system refused, as the sync task leaves it:
/// the status carries every fact staff need, the refusal in plain words, the leased places of a
/// capped link, the clock offset with its warning past two minutes, and the age of the oldest
/// event waiting. `/readyz` stays green.
#[tokio::test]
async fn a_joined_gateway_shows_its_sync_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let now = sitegate::clock::Clock::now(&sitegate::clock::SystemClock);
    let pulled = now - time::Duration::minutes(50);
    let pushed = now - time::Duration::minutes(45);
    let failed = now - time::Duration::minutes(44);
    plant_pending_event(&state_dir, now - time::Duration::minutes(40));
    let link = plant_joined_sync(
        &state_dir,
        now,
        |s| {
            s.last_pull_ok = Some(pulled);
            s.last_push_ok = Some(pushed);
            s.last_error = Some(sitegate::store::sync::SyncFault {
                at: failed,
                during: "push".into(),
                message: "this gateway's credential was refused; join again".into(),
            });
            s.credential_refused = true;
            s.clock_offset_ms = Some(185_400);
            s.events_accepted = 17;
        },
        Some(("Contractors — spring", 10, 4)),
    )
    .unwrap();
    let gw = Gateway::start_in(dir, |_| {}, RunOptions::default()).await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());

    let (s, st) = gw.get("/api/sync/status", t).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(st["joined"], true, "{st}");
    assert_eq!(st["state"], "credential_refused", "{st}");
    assert!(
        st["summary"]
            .as_str()
            .unwrap()
            .contains("refused this gateway's credential"),
        "{st}"
    );
    assert_eq!(st["central_url"], PLANTED_CENTRAL_URL);
    assert_eq!(st["site_name"], PLANTED_SITE_NAME);
    let same_time = |v: &Value, want: time::OffsetDateTime| {
        let got = time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!((got - want).abs() < time::Duration::SECOND, "{got} != {want}");
    };
    same_time(&st["last_pull_ok"], pulled);
    same_time(&st["last_push_ok"], pushed);
    assert_eq!(
        st["last_error"],
        "While sending events to the central system: this gateway's credential was refused; join again."
    );
    assert_eq!(st["last_error_during"], "push");
    assert_eq!(
        st["last_error_message"],
        "this gateway's credential was refused; join again"
    );
    same_time(&st["last_error_at"], failed);
    assert_eq!(st["events_accepted"], 17);
    // The oldest event waiting is the planted one, 40 minutes old.
    assert!(st["pending_events"].as_u64().unwrap() >= 1, "{st}");
    let age = st["oldest_pending_age_secs"].as_i64().unwrap();
    assert!((2400..2460).contains(&age), "oldest pending age {age}: {st}");
    // Leased places, per link, by name.
    assert_eq!(
        st["leases"],
        json!([{"link_id": link, "link_name": "Contractors — spring", "granted": 10, "used": 4, "free": 6}])
    );
    // The clock: 185.4 s ahead, over two minutes.
    assert_eq!(st["clock_offset_secs"], 185);
    assert_eq!(st["clock_warning"], true);

    // The staff status page has the brief; the gateway is ready all the same.
    let (_, brief) = gw.get("/api/status", t).await;
    assert_eq!(brief["sync"]["state"], "credential_refused", "{brief}");
    let (s, ready) = gw.get("/readyz", None).await;
    assert_eq!(s, StatusCode::OK, "{ready}");
    gw.stop().await;
}

/// A joined gateway whose central system is down: the sync task tries, says why in plain words
/// and that it is offline, and the clock offset under two minutes brings no warning. `/readyz`
/// stays green throughout, and "sync now" is still accepted.
#[tokio::test]
async fn readyz_stays_green_while_the_central_system_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let now = sitegate::clock::Clock::now(&sitegate::clock::SystemClock);
    plant_pending_event(&state_dir, now - time::Duration::minutes(3));
    plant_joined_sync(&state_dir, now, |s| s.clock_offset_ms = Some(-95_000), None);
    // A credential for a central system on a port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    sitegate::sync::credential::CentralCredential {
        url: format!("http://127.0.0.1:{port}"),
        credential: "gc_planted".into(),
        gateway_secret_key: sitegate::sync::seal::KeyPair::generate().secret_b64().to_string(),
        trust: Default::default(),
    }
    .save(&state_dir)
    .unwrap();
    let gw = Gateway::start_in(dir, |_| {}, RunOptions::default()).await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());

    let mut st = Value::Null;
    for _ in 0..200 {
        let (s, ready) = gw.get("/readyz", None).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "readyz while the central system is down: {ready}"
        );
        st = gw.get("/api/sync/status", t).await.1;
        if st["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(st["state"], "offline", "{st}");
    assert!(
        st["summary"].as_str().unwrap().contains("cannot be reached"),
        "{st}"
    );
    assert_eq!(
        st["last_error"],
        "While sending events to the central system: the central system cannot be reached: nothing answers at its address (connection refused).",
        "{st}"
    );
    assert_eq!(st["clock_offset_secs"], -95);
    assert_eq!(st["clock_warning"], false);
    assert!(st["next_retry_at"].is_string(), "a next try is planned: {st}");
    let (s, now) = gw.post("/api/sync/now", t, json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{now}");
    assert_eq!(now["state"], "offline");
    let (s, _) = gw.get("/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    gw.stop().await;
}

#[tokio::test]
async fn the_central_sides_openapi_document_is_public_and_complete() {
    let gw = Gateway::start().await;
    let res = gw
        .client
        .get(gw.url("/api/sync/central-openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/changes",
        "/v1/events",
        "/v1/gateways/join",
        "/v1/gateways/leave",
        "/v1/leases",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the document");
    }
    for schema in [
        "ChangesPage",
        "EventBatch",
        "WireUser",
        "LeaseGrant",
        "CentralProblem",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    // The gateway's own document lists the sync routes.
    let (_, own) = gw.get("/api/openapi.json", None).await;
    for p in [
        "/api/sync/status",
        "/api/sync/now",
        "/api/sync/dead-letters/{seq}/retry",
        "/api/sync/dead-letters/{seq}/discard",
        "/api/sync/central-openapi.json",
    ] {
        assert!(own["paths"][p].is_object(), "{p} missing from /api/openapi.json");
    }
    gw.stop().await;
}
