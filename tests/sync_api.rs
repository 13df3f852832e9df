//! The sync as staff reach it over HTTP on a standalone gateway: its status, "sync now", dead
//! letters retried and discarded (audited), who may do it, and the central side's OpenAPI
//! document. Dead letters are planted in the store before the gateway starts, as a push leaves them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, assert_problem, plant_dead_letters};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;

async fn start_with_letters() -> (Gateway, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let seqs = plant_dead_letters(
        &dir.path().join("state"),
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
    assert_eq!(s.as_u16(), 422, "{body}");
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
async fn only_managers_and_admins_reach_the_sync() {
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
    let (s, body) = gw.get("/api/sync/status", it).await;
    assert_problem(s, &body, 403, "forbidden");
    for path in ["/api/sync/now", retry.as_str()] {
        let (s, body) = gw.post(path, None, json!({})).await;
        assert_problem(s, &body, 401, "unauthenticated");
        let (s, body) = gw.post(path, it, json!({})).await;
        assert_problem(s, &body, 403, "forbidden");
    }
    let (s, body) = gw.post(&discard, it, json!({"reason": "mine"})).await;
    assert_problem(s, &body, 403, "forbidden");
    // Nothing changed.
    let (_, status) = gw.get("/api/sync/status", t).await;
    assert_eq!(status["dead_letters"].as_array().unwrap().len(), 2);
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
