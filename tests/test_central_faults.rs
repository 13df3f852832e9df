//! Each fault of the test central's plan does what it says, over real HTTPS: refusals, stalls, cut and dribbled bodies, spoiled pages and rejected events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod test_central_support;

use std::time::Duration;

use serde_json::{Value, json};
use sitegate::sync::test_central::{BadField, Endpoint, Fault, FaultRule, TestCentral};
use sitegate::sync::wire::PAGE_BYTES_MAX;
use test_central_support::*;

async fn with_groups(n: usize) -> (TestCentral, Gw, Vec<String>) {
    let central = central().await;
    let ids: Vec<String> = (0..n).map(|_| uuid()).collect();
    for (i, id) in ids.iter().enumerate() {
        central.put("group", id, group(&format!("G{i}"))).unwrap();
    }
    let gw = Gw::join(&central).await;
    (central, gw, ids)
}

fn after(page: &Value) -> String {
    format!(
        "cursor={}&epoch={}",
        page["cursor"].as_str().unwrap(),
        page["epoch"].as_str().unwrap()
    )
}

fn ids_of(page: &Value) -> Vec<String> {
    page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn refusals_answer_500_503_with_retry_after_and_401_then_the_rule_is_used_up() {
    let (central, gw, _) = with_groups(1).await;
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::ServerError));
    central.faults().push(FaultRule {
        endpoint: Endpoint::Any,
        times: 2,
        fault: Fault::Unavailable { retry_after: 7 },
    });
    central
        .faults()
        .push(FaultRule::once(Endpoint::Leases, Fault::Unauthorized));
    let r = gw.get("/v1/changes").send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "internal");
    for _ in 0..2 {
        let r = gw.get("/v1/changes").send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "unavailable");
    }
    let (status, problem) = gw.lease(&uuid(), 0, 1).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(gw.changes("").await.0, 200, "used up");
    assert_eq!(central.snapshot().faults_fired.len(), 4);
    assert!(central.faults().remaining().is_empty());
}

#[tokio::test]
async fn a_stalled_answer_comes_late_or_never_but_the_work_is_done() {
    let (central, gw, _) = with_groups(1).await;
    central.faults().push(FaultRule::once(
        Endpoint::Events,
        Fault::Stall {
            millis: 1500,
            drop: true,
        },
    ));
    let quick = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(central.cert_pem().unwrap().as_bytes()).unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let ana = user_created(1, "ABCDEFGHJK", "Ana");
    let body = json!({"gateway_id": gw.id, "events": [ana.clone()]});
    let sent = quick
        .post(format!("{}/v1/events", central.url()))
        .bearer_auth(&gw.credential)
        .json(&body)
        .send()
        .await;
    let failed = match sent {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a dropped answer never arrives");
    assert_eq!(
        central.snapshot().gateways[&gw.id.to_string()].events.len(),
        1,
        "folded all the same"
    );
    let (_, again) = gw.push(vec![ana]).await;
    assert_eq!(again["results"][0]["outcome"], "duplicate");

    central.faults().push(FaultRule::once(
        Endpoint::Changes,
        Fault::Stall {
            millis: 300,
            drop: false,
        },
    ));
    let (status, page) = gw.changes("").await;
    assert_eq!(status, 200);
    assert_eq!(
        page["changes"].as_array().unwrap().len(),
        2,
        "the group and the user, late"
    );
}

#[tokio::test]
async fn a_reset_mid_body_sends_part_of_the_page_and_cuts_the_connection() {
    let (central, gw, _) = with_groups(20).await;
    central.faults().push(FaultRule::once(
        Endpoint::Changes,
        Fault::ResetMidBody { after_bytes: 100 },
    ));
    let r = gw.get("/v1/changes").send().await.unwrap();
    assert_eq!(r.status(), 200, "the status arrives");
    let full: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert!(full > 100);
    let mut r = r;
    let mut got = 0;
    let failed = loop {
        match r.chunk().await {
            Ok(Some(b)) => got += b.len(),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(failed, "the body ends in an error");
    assert_eq!(got, 100);
    assert_eq!(gw.changes("").await.0, 200, "the next request is whole");
}

#[tokio::test]
async fn a_trickled_body_arrives_whole_in_small_pieces() {
    let (central, gw, _) = with_groups(2).await;
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::Trickle { bytes: 64 }));
    let mut r = gw.get("/v1/changes").send().await.unwrap();
    let mut chunks = 0;
    let mut body = Vec::new();
    while let Some(chunk) = r.chunk().await.unwrap() {
        assert!(chunk.len() <= 64);
        body.extend_from_slice(&chunk);
        chunks += 1;
    }
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["changes"].as_array().unwrap().len(), 2);
    assert!(
        chunks >= body.len() / 64,
        "{chunks} pieces for {} bytes",
        body.len()
    );
}

#[tokio::test]
async fn a_repeated_page_comes_back_for_the_next_cursor_and_an_overlapping_one_starts_early() {
    let (central, gw, ids) = with_groups(6).await;
    let (_, first) = gw.changes("limit=2").await;
    assert_eq!(ids_of(&first), ids[0..2]);
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::RepeatPage));
    let (_, repeat) = gw.changes(&format!("limit=2&{}", after(&first))).await;
    assert_eq!(ids_of(&repeat), ids[0..2]);
    assert_eq!(repeat["cursor"], first["cursor"], "the log did not advance");
    let (_, second) = gw.changes(&format!("limit=2&{}", after(&repeat))).await;
    assert_eq!(ids_of(&second), ids[2..4]);
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::OverlapPage { back: 1 }));
    let (_, overlap) = gw.changes(&format!("limit=3&{}", after(&second))).await;
    assert_eq!(ids_of(&overlap), ids[3..6], "starts one change before the cursor");
}

#[tokio::test]
async fn a_reordered_page_puts_an_older_version_after_the_newer_one() {
    let (central, gw, ids) = with_groups(2).await;
    central.put("group", &ids[0], group("G0 v2")).unwrap();
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::Reorder));
    let (_, page) = gw.changes("").await;
    let versions: Vec<(String, u64, String)> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().into(),
                c["version"].as_u64().unwrap(),
                c["record"]["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (ids[1].clone(), 1, "G1".into()),
            (ids[0].clone(), 2, "G0 v2".into()),
            (ids[0].clone(), 1, "G0".into())
        ]
    );
}

#[tokio::test]
async fn an_epoch_change_answers_refetch_with_the_new_epoch_with_or_without_a_cursor() {
    let (central, gw, _) = with_groups(3).await;
    let (_, page) = gw.pull_all(10).await;
    let old = page["epoch"].as_str().unwrap().to_string();
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::EpochChange));
    let (status, problem) = gw.changes(&after(&page)).await;
    assert_eq!((status, problem["code"].as_str()), (410, Some("refetch")));
    let new = central.epoch();
    assert_ne!(new, old);
    assert_eq!(problem["epoch"], json!(new));

    // A refetch that still names the old epoch (no cursor) is told the new one too: a 200 page
    // of another epoch would be refused by the gateway, and it would ask the same forever.
    let (status, problem) = gw.changes(&format!("epoch={old}")).await;
    assert_eq!((status, problem["epoch"].as_str()), (410, Some(new.as_str())));
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::EpochChange));
    let (status, problem) = gw.changes(&format!("epoch={new}")).await;
    assert_eq!(
        status, 410,
        "the fault moved the epoch again, before the first page"
    );
    let newest = problem["epoch"].as_str().unwrap().to_string();
    assert_ne!(newest, new);
    let (status, fresh) = gw.changes(&format!("epoch={newest}")).await;
    assert_eq!((status, fresh["epoch"].as_str()), (200, Some(newest.as_str())));
    assert_eq!(fresh["changes"].as_array().unwrap().len(), 3, "everything again");
    assert_eq!(gw.changes(&after(&page)).await.0, 410, "the old cursor is gone");
}

#[tokio::test]
async fn bad_pages_carry_an_unknown_kind_an_invalid_user_a_backward_cursor_or_junk() {
    let (central, gw, _) = with_groups(3).await;
    let (_, base) = gw.changes("limit=2").await;
    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::UnknownKind));
    let (_, page) = gw.changes("limit=2").await;
    assert_eq!(page["changes"][0]["kind"], "spaceship");
    assert_eq!(
        page["changes"].as_array().unwrap().len(),
        3,
        "the good changes are still there"
    );
    assert_eq!(page["cursor"], base["cursor"]);

    central.faults().push(FaultRule::once(
        Endpoint::Changes,
        Fault::InvalidRecord {
            field: BadField::Email,
        },
    ));
    let (_, page) = gw.changes("").await;
    assert_eq!(page["changes"][0]["record"]["email"], "not-an-email");
    central.faults().push(FaultRule::once(
        Endpoint::Changes,
        Fault::InvalidRecord {
            field: BadField::LongGivenName,
        },
    ));
    let (_, page) = gw.changes("").await;
    assert_eq!(
        page["changes"][0]["record"]["given_name"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        10_000
    );
    assert_eq!(
        central.snapshot().kinds["user"].count,
        0,
        "bad records are not central data"
    );

    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::CursorBackwards));
    let (_, page) = gw.changes(&after(&base)).await;
    let asked: u64 = base["cursor"]
        .as_str()
        .unwrap()
        .trim_start_matches('s')
        .split('h')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(page["cursor"], json!((asked - 1).to_string()));

    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::MalformedJson));
    let text = gw.get("/v1/changes").send().await.unwrap().text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(text.starts_with('{'));

    central
        .faults()
        .push(FaultRule::once(Endpoint::Changes, Fault::OversizePage));
    let big = gw.get("/v1/changes").send().await.unwrap().bytes().await.unwrap();
    assert!(big.len() > PAGE_BYTES_MAX);
    assert!(
        serde_json::from_slice::<Value>(&big).is_ok(),
        "valid JSON, only too long"
    );
}

#[tokio::test]
async fn one_event_of_a_batch_is_rejected_by_seq_or_position_and_the_rest_accepted() {
    let central = central().await;
    let gw = Gw::join(&central).await;
    central.faults().push(FaultRule::once(
        Endpoint::Events,
        Fault::RejectEvent {
            seq: Some(2),
            index: None,
            reason: "no such class".into(),
        },
    ));
    let batch: Vec<Value> = (1..=3).map(|s| event(s, "class.check_in", json!({}))).collect();
    let (_, answer) = gw.push(batch.clone()).await;
    let outcomes: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["accepted", "rejected", "accepted"]);
    assert_eq!(answer["results"][1]["reason"], "no such class");

    central.faults().push(FaultRule::once(
        Endpoint::Events,
        Fault::RejectEvent {
            seq: None,
            index: Some(0),
            reason: "first".into(),
        },
    ));
    let (_, answer) = gw
        .push(vec![event(4, "x", json!({})), event(5, "x", json!({}))])
        .await;
    assert_eq!(answer["results"][0]["outcome"], "rejected");
    assert_eq!(answer["results"][1]["outcome"], "accepted");
    let snap = central.snapshot();
    let mine = &snap.gateways[&gw.id.to_string()];
    assert_eq!(mine.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3, 5]);
    assert_eq!(mine.rejected.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 4]);

    // Staff retry the dead letter: the same event comes again and is judged anew. The fault
    // plan rejects it once more, then lets it through.
    let retried = batch[1].clone();
    central.faults().push(FaultRule::once(
        Endpoint::Events,
        Fault::RejectEvent {
            seq: Some(2),
            index: None,
            reason: "still no such class".into(),
        },
    ));
    let (_, again) = gw.push(vec![retried.clone()]).await;
    assert_eq!(
        (
            again["results"][0]["outcome"].as_str(),
            again["results"][0]["reason"].as_str()
        ),
        (Some("rejected"), Some("still no such class"))
    );
    let (_, fixed) = gw.push(vec![retried]).await;
    assert_eq!(
        fixed["results"][0]["outcome"], "accepted",
        "a rejection is not final"
    );
    let snap = central.snapshot();
    let mine = &snap.gateways[&gw.id.to_string()];
    assert_eq!(
        mine.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 5]
    );
    assert_eq!(mine.rejected.iter().map(|r| r.seq).collect::<Vec<_>>(), [4]);
}

#[tokio::test]
async fn a_status_fault_answers_that_status_and_does_nothing() {
    let central = central().await;
    let gw = Gw::join(&central).await;
    central
        .faults()
        .push(FaultRule::once(Endpoint::Events, Fault::Status { status: 403 }));
    let (status, problem) = gw.push(vec![event(1, "x", json!({}))]).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("fault")));
    assert!(central.snapshot().gateways[&gw.id.to_string()].events.is_empty());
}

#[tokio::test]
async fn faults_pushed_over_http_spoil_the_next_request() {
    let (central, gw, _) = with_groups(1).await;
    let rule = json!({"endpoint": "changes", "fault": {"type": "unavailable", "retry_after": 3}});
    let r = gw
        .http
        .post(format!("{}/test/faults", central.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = gw.get("/v1/changes").send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()),
        (503, "3")
    );
    let plan: Value = gw
        .http
        .get(format!("{}/test/faults", central.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan["fired"][0]["fault"]["type"], "unavailable");
    assert_eq!(plan["left"], json!([]));
}
