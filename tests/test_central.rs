//! The test central's own contract over real HTTPS with reqwest: join once, 401s, paging, refetch, events once, leases within the cap, long poll, sealing, clock skew, the control API and the state file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::int_plus_one)]

mod test_central_support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sitegate::sync::test_central::{TestCentral, TestCentralOptions};
use sitegate::sync::wire::Sealed;
use test_central_support::*;

#[tokio::test]
async fn a_site_token_joins_once_and_every_other_call_needs_the_credential() {
    let central = central().await;
    let http = client_for(&central);
    let token = central.site_token();
    let id = uuid::Uuid::now_v7();
    let keys = sitegate::sync::seal::KeyPair::generate();
    let url = format!("{}/v1/gateways/join", central.url());
    let first = http
        .post(&url)
        .json(&join_body(&token, id, &keys))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let tls = first.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    let der = tls.peer_certificate().unwrap();
    assert_eq!(
        Some(sitegate::http::tls::Fingerprint::of_der(der).base64url()),
        central.fingerprint()
    );
    let answer: Value = first.json().await.unwrap();
    assert_eq!(answer["site_id"], json!(central.site_id()));
    assert_eq!(answer["central_public_key"], json!(central.central_public_key()));
    assert_eq!(answer["epoch"], json!(central.epoch()));
    assert!(answer["credential"].as_str().unwrap().len() >= 43);

    let again = http
        .post(&url)
        .json(&join_body(&token, id, &keys))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    assert_eq!(again.headers()["content-type"], "application/problem+json");
    assert_eq!(again.json::<Value>().await.unwrap()["code"], "unauthorized");
    let unknown = http
        .post(&url)
        .json(&join_body("nope", id, &keys))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let bad_key = http
        .post(&url)
        .json(&json!({"site_token": central.site_token(), "gateway_id": id, "gateway_name": "x", "public_key": "short", "software": "0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 422);

    for (path, cred) in [("/v1/changes", None), ("/v1/changes", Some("wrong"))] {
        let mut r = http.get(format!("{}{path}", central.url()));
        if let Some(c) = cred {
            r = r.bearer_auth(c);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
    }
}

#[tokio::test]
async fn leaving_revokes_the_credential_and_a_repeat_leave_is_still_204() {
    let central = central().await;
    let gw = Gw::join(&central).await;
    assert_eq!(gw.changes("").await.0, 200);
    let body = json!({"gateway_id": gw.id, "consumed": []});
    assert_eq!(
        gw.post("/v1/gateways/leave", &body)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(gw.changes("").await.0, 401);
    assert_eq!(gw.push(vec![]).await.0, 401);
    assert_eq!(
        gw.post("/v1/gateways/leave", &body)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(!central.snapshot().gateways[&gw.id.to_string()].active);
}

#[tokio::test]
async fn pages_follow_the_log_in_order_and_a_snapshot_lists_only_live_records() {
    let central = central().await;
    let ids: Vec<String> = (0..7).map(|_| uuid()).collect();
    for (i, id) in ids.iter().enumerate() {
        central.put("group", id, group(&format!("G{i}"))).unwrap();
    }
    assert_eq!(central.put("group", &ids[0], group("G0 renamed")).unwrap(), 2);
    assert_eq!(central.delete("group", &ids[1]), Some(2));
    assert!(central.put("group", "not-a-uuid", group("x")).is_err());
    assert!(
        central
            .put("group", &uuid(), json!({"title": "wrong shape"}))
            .is_err()
    );
    let gw = Gw::join(&central).await;

    let (status, first) = gw.changes("limit=3").await;
    assert_eq!(status, 200);
    assert_eq!(first["changes"].as_array().unwrap().len(), 3);
    assert_eq!(first["has_more"], true);
    let (all, last) = gw.pull_all(3).await;
    let names: Vec<&str> = all
        .iter()
        .map(|c| c["record"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["G2", "G3", "G4", "G5", "G6", "G0 renamed"],
        "oldest change first, no tombstone"
    );
    assert_eq!(last["cursor"], json!(central.seq().to_string()));
    assert!(all.iter().all(|c| c["kind"] == "group" && c["deleted"] == false));

    central.put("group", &ids[2], group("G2 again")).unwrap();
    central.delete("group", &ids[3]);
    let q = format!(
        "cursor={}&epoch={}",
        last["cursor"].as_str().unwrap(),
        last["epoch"].as_str().unwrap()
    );
    let (_, next) = gw.changes(&q).await;
    let changes = next["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        (changes[0]["id"].as_str(), changes[0]["version"].as_u64()),
        (Some(ids[2].as_str()), Some(2))
    );
    assert_eq!(changes[1]["deleted"], true, "a log page carries the tombstone");
    assert_eq!(changes[1]["record"], Value::Null);
    assert_eq!(next["has_more"], false);

    for bad in [
        "limit=0",
        "limit=1001",
        "wait=31",
        "cursor=zzz&epoch=x",
        "bogus=1",
    ] {
        let (status, body) = gw.changes(bad).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("invalid")), "{bad}");
    }
    let mut held = std::collections::BTreeMap::new();
    for c in all.iter().chain(changes.iter()) {
        let id = c["id"].as_str().unwrap().to_string();
        if c["deleted"] == true {
            held.remove(&id);
        } else {
            held.insert(id, c["record"].clone());
        }
    }
    let snap = central.snapshot();
    assert_eq!(snap.kinds["group"].count, 5);
    let digest = sitegate::sync::digest::kind_digest(held);
    assert_eq!(
        snap.kinds["group"], digest,
        "what a gateway pulled digests like the central's own"
    );
}

#[tokio::test]
async fn a_cursor_behind_the_horizon_or_of_another_epoch_must_refetch() {
    let central = central().await;
    let (a, b) = (uuid(), uuid());
    central.put("group", &a, group("A")).unwrap();
    let gw = Gw::join(&central).await;
    let (_, page) = gw.pull_all(10).await;
    let q = format!(
        "cursor={}&epoch={}",
        page["cursor"].as_str().unwrap(),
        page["epoch"].as_str().unwrap()
    );
    central.put("group", &b, group("B")).unwrap();
    central.delete("group", &a);
    assert_eq!(gw.changes(&q).await.0, 200, "still within the horizon");
    central.set_horizon(None);
    let (status, problem) = gw.changes(&q).await;
    assert_eq!((status, problem["code"].as_str()), (410, Some("refetch")));
    assert_eq!(problem["epoch"], json!(central.epoch()));

    let (_, page) = gw.pull_all(10).await;
    assert_eq!(page["changes"].as_array().unwrap().len(), 1);
    let q = format!(
        "cursor={}&epoch={}",
        page["cursor"].as_str().unwrap(),
        page["epoch"].as_str().unwrap()
    );
    let old_epoch = central.epoch();
    let new_epoch = central.bump_epoch();
    assert_ne!(old_epoch, new_epoch);
    let (status, problem) = gw.changes(&q).await;
    assert_eq!(
        (status, problem["code"].as_str(), problem["epoch"].as_str()),
        (410, Some("refetch"), Some(new_epoch.as_str()))
    );
    let (status, fresh) = gw.changes("").await;
    assert_eq!((status, fresh["epoch"].as_str()), (200, Some(new_epoch.as_str())));
    let future = format!("cursor={}&epoch={new_epoch}", central.seq() + 5);
    assert_eq!(
        gw.changes(&future).await.0,
        410,
        "a cursor from the future is not ours either"
    );
}

#[tokio::test]
async fn events_are_folded_once_and_a_created_user_flows_back_with_its_central_id() {
    let central = central().await;
    let link_id = uuid();
    central.put("link", &link_id, link(Some(10))).unwrap();
    let gw = Gw::join(&central).await;
    let batch = vec![
        user_created(1, "ABCDEFGHJK", "Ana"),
        event(
            2,
            "link.enrolled",
            json!({"link_id": link_id, "user_id": "ABCDEFGHJK", "existing_user": false, "units": []}),
        ),
        event(
            3,
            "class.check_in",
            json!({"class_id": uuid(), "user_id": "ABCDEFGHJK"}),
        ),
    ];
    let (status, first) = gw.push(batch.clone()).await;
    assert_eq!(status, 200, "{first}");
    let results = first["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["outcome"] == "accepted"), "{first}");
    let central_id = results[0]["central_user_id"].as_str().unwrap().to_string();
    assert!(
        central_id.starts_with('C') && central_id.len() == 13,
        "{central_id}"
    );

    let (_, again) = gw.push(batch).await;
    let again = again["results"].as_array().unwrap();
    assert!(again.iter().all(|r| r["outcome"] == "duplicate"));
    assert_eq!(
        again[0]["central_user_id"],
        json!(central_id),
        "a repeat still tells the central ID"
    );

    let snap = central.snapshot();
    let mine = &snap.gateways[&gw.id.to_string()];
    assert_eq!(mine.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(mine.duplicates, 3);
    assert_eq!(snap.kinds["user"].count, 1);
    assert_eq!(
        central.record("link", &link_id).unwrap()["used"],
        1,
        "counted once"
    );

    let (all, _) = gw.pull_all(100).await;
    let user = all.iter().find(|c| c["kind"] == "user").unwrap();
    assert_eq!(user["id"], json!(central_id));
    assert_eq!(user["record"]["gateway_user_id"], "ABCDEFGHJK");
    assert_eq!(user["record"]["family_name"], "Ødegård");

    let (_, bad) = gw
        .push(vec![event(
            4,
            "user.created",
            json!({"user": {"name": {"given": "No ID"}}}),
        )])
        .await;
    assert_eq!(bad["results"][0]["outcome"], "rejected");
    let too_many: Vec<Value> = (0..501).map(|i| event(100 + i, "x.y", json!({}))).collect();
    let (status, problem) = gw.push(too_many).await;
    assert_eq!((status, problem["code"].as_str()), (413, Some("too_large")));
    let other = Gw::join(&central).await;
    let foreign = other
        .post("/v1/events", &json!({"gateway_id": gw.id, "events": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 422, "a gateway pushes only its own events");
}

#[tokio::test]
async fn leases_across_two_gateways_never_exceed_the_cap_and_repeats_change_nothing() {
    let central = central().await;
    let link_id = uuid();
    central.put("link", &link_id, link(Some(6))).unwrap();
    let uncapped = uuid();
    central.put("link", &uncapped, link(None)).unwrap();
    central.add_direct_uses(link_id.parse().unwrap(), 1).unwrap();
    let (a, b) = (Gw::join(&central).await, Gw::join(&central).await);
    let granted = |v: &Value| v["granted"].as_u64().unwrap();

    let (status, ga) = a.lease(&link_id, 0, 3).await;
    assert_eq!((status, granted(&ga), ga["cap"].as_u64()), (200, 3, Some(6)));
    assert_eq!(
        granted(&a.lease(&link_id, 0, 3).await.1),
        3,
        "absolute: a repeat changes nothing"
    );
    assert_eq!(
        granted(&b.lease(&link_id, 0, 5).await.1),
        2,
        "6 − 3 (a) − 1 (direct)"
    );
    assert_eq!(
        granted(&a.lease(&link_id, 2, 0).await.1),
        2,
        "a gives back its unused slot"
    );
    assert_eq!(granted(&b.lease(&link_id, 1, 5).await.1), 3);
    assert_eq!(
        granted(&a.lease(&link_id, 2, 5).await.1),
        2,
        "never below consumed, nothing free"
    );
    let total: u32 = central.snapshot().leases.iter().map(|l| l.granted).sum();
    assert!(total + 1 /* direct */ <= 6, "{total}");

    let leave = json!({"gateway_id": b.id, "consumed": [{"link_id": link_id, "consumed": 2}]});
    assert_eq!(
        b.post("/v1/gateways/leave", &leave)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        granted(&a.lease(&link_id, 2, 5).await.1),
        3,
        "b's unused slot came back"
    );

    assert_eq!(a.lease(&uncapped, 0, 1).await.0, 404);
    let (status, problem) = a.lease(&uuid(), 0, 1).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_a_change_is_appended_and_else_at_the_end_of_its_wait() {
    let central = central().await;
    let gw = Gw::join(&central).await;
    let (_, page) = gw.pull_all(10).await;
    let q = format!(
        "cursor={}&epoch={}",
        page["cursor"].as_str().unwrap(),
        page["epoch"].as_str().unwrap()
    );
    let (status, empty) = gw.changes(&format!("{q}&wait=1")).await;
    assert_eq!(status, 200);
    assert_eq!(empty["changes"], json!([]));
    assert_eq!(empty["cursor"], page["cursor"], "an empty page keeps the cursor");

    let started = Instant::now();
    let long = format!("{q}&wait=30");
    let poll = gw.changes(&long);
    let id = uuid();
    let put = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        central.site_token(); // a change that is not a record does not end the wait
        tokio::time::sleep(Duration::from_millis(200)).await;
        central.put("group", &id, group("Late")).unwrap();
    };
    let ((status, woke), ()) = tokio::join!(poll, put);
    assert_eq!(status, 200);
    assert_eq!(woke["changes"][0]["id"], json!(id));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered before its wait ran out"
    );
}

#[tokio::test]
async fn a_credential_is_sealed_to_each_gateway_and_server_time_follows_the_skew() {
    let central = central().await;
    let (a, b) = (Gw::join(&central).await, Gw::join(&central).await);
    let expires = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    central
        .set_credential("C123456789012", Some("493817"), Some(("77123456", expires)))
        .unwrap();
    for (gw, other) in [(&a, &b), (&b, &a)] {
        let (all, _) = gw.pull_all(10).await;
        let cred = all.iter().find(|c| c["kind"] == "credential").unwrap();
        assert_eq!(cred["id"], "C123456789012");
        let text = cred.to_string();
        assert!(!text.contains("493817") && !text.contains("77123456"));
        let pin = Sealed(cred["record"]["pin"].as_str().unwrap().into());
        assert_eq!(gw.keys.open(&pin).unwrap().as_str(), "493817");
        assert!(other.keys.open(&pin).is_err());
        let code = Sealed(cred["record"]["otp"]["code"].as_str().unwrap().into());
        assert_eq!(gw.keys.open(&code).unwrap().as_str(), "77123456");
    }
    assert_eq!(central.snapshot().kinds["credential"].count, 1);

    central.set_clock_offset(time::Duration::hours(3));
    let (_, page) = a.changes("").await;
    let served = time::OffsetDateTime::parse(
        page["server_time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let real = sitegate::clock::Clock::now(&sitegate::clock::SystemClock);
    let ahead = served - real;
    assert!(
        ahead > time::Duration::minutes(170) && ahead < time::Duration::minutes(190),
        "{ahead}"
    );
}

#[tokio::test]
async fn the_control_api_drives_the_central_over_http() {
    let central = central().await;
    let http = client_for(&central);
    let url = central.url();
    let token: Value = http
        .post(format!("{url}/test/site-tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(token["site_token"].as_str().unwrap().len() >= 43);
    let id = uuid();
    let put = http
        .put(format!("{url}/test/records/group/{id}"))
        .json(&group("Welders"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.json::<Value>().await.unwrap()["version"], 1);
    let bad = http
        .put(format!("{url}/test/records/group/{id}"))
        .json(&json!({"nom": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let got: Value = http
        .get(format!("{url}/test/records/group/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"], "Welders");
    let cred = http
        .put(format!("{url}/test/credentials/C1"))
        .json(&json!({"pin": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cred.status(), 200);
    let rules = json!([{"endpoint": "changes", "fault": {"type": "server_error"}}, {"endpoint": "any", "times": 2, "fault": {"type": "unavailable", "retry_after": 1}}]);
    let plan: Value = http
        .post(format!("{url}/test/faults"))
        .json(&rules)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan["left"].as_array().unwrap().len(), 2);
    let epoch: Value = http
        .post(format!("{url}/test/epoch"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(epoch["epoch"], json!(central.epoch()));
    let horizon: Value = http
        .post(format!("{url}/test/horizon"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(horizon["horizon"], json!(central.seq()));
    http.put(format!("{url}/test/clock"))
        .json(&json!({"offset_secs": -60}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        http.delete(format!("{url}/test/records/group/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.delete(format!("{url}/test/records/group/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let snap: Value = http
        .get(format!("{url}/test/snapshot"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(snap["kinds"]["group"]["count"], 0);
    assert_eq!(snap["kinds"]["credential"]["count"], 1);
    assert_eq!(snap["faults_left"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_state_file_keeps_records_tokens_gateways_and_the_certificate_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("central.json");
    let options = TestCentralOptions {
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let central = TestCentral::start(options.clone()).await.unwrap();
    let id = uuid();
    central.put("group", &id, group("Kept")).unwrap();
    let gw = Gw::join(&central).await;
    let spent = central.site_token();
    let (fingerprint, epoch, site) = (central.fingerprint(), central.epoch(), central.site_id());
    central.stop().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(&gw.credential),
        "only the credential's hash is kept"
    );

    let again = TestCentral::start(options).await.unwrap();
    assert_eq!(
        (again.fingerprint(), again.epoch(), again.site_id()),
        (fingerprint, epoch, site)
    );
    assert_eq!(again.record("group", &id).unwrap()["name"], "Kept");
    let gw = Gw {
        url: again.url(),
        ..gw
    };
    assert_eq!(
        gw.changes("").await.0,
        200,
        "the gateway's credential still works"
    );
    let keys = sitegate::sync::seal::KeyPair::generate();
    let reuse = gw
        .http
        .post(format!("{}/v1/gateways/join", again.url()))
        .json(&join_body(&spent, uuid::Uuid::now_v7(), &keys))
        .send()
        .await
        .unwrap();
    assert_eq!(reuse.status(), 200, "a token minted but unused still works once");
    let reuse = gw
        .http
        .post(format!("{}/v1/gateways/join", again.url()))
        .json(&join_body(&spent, uuid::Uuid::now_v7(), &keys))
        .send()
        .await
        .unwrap();
    assert_eq!(reuse.status(), 401);
}

#[tokio::test]
async fn a_seq_received_before_with_another_event_id_is_a_conflict_and_nothing_is_folded() {
    let central = central().await;
    let gw = Gw::join(&central).await;
    let first = event(1, "class.check_in", json!({}));
    assert_eq!(gw.push(vec![first.clone()]).await.0, 200);
    let (_, again) = gw.push(vec![first.clone()]).await;
    assert_eq!(
        again["results"][0]["outcome"], "duplicate",
        "the same event again"
    );

    // A gateway restored from a backup sends new facts under numbers it already used.
    let reused = event(1, "user.created", json!({}));
    let (status, problem) = gw.push(vec![event(2, "x.y", json!({})), reused]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("conflict")),
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("event 1") && detail.contains("restored from a backup"),
        "{detail}"
    );
    let snap = central.snapshot();
    let mine = &snap.gateways[&gw.id.to_string()];
    assert_eq!(mine.events.len(), 1, "nothing of that batch was folded");
    assert_eq!(mine.events[0].kind, "class.check_in");
}

#[tokio::test]
async fn a_deactivation_is_folded_for_central_users_and_site_users_alike() {
    let central = central().await;
    central
        .put(
            "user",
            "C100000000007",
            json!({"given_name": "Ana", "family_name": "Lima", "role": "trainee",
                   "access_level": "full", "status": "active", "created_at": "2026-03-01T10:00:00Z"}),
        )
        .unwrap();
    let gw = Gw::join(&central).await;
    let (_, created) = gw.push(vec![user_created(1, "ABCDEFGHJK", "Bea")]).await;
    let site_central = created["results"][0]["central_user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, answer) = gw
        .push(vec![
            event(2, "user.deactivated", json!({"user_id": "C100000000007"})),
            event(3, "user.deactivated", json!({"user_id": "ABCDEFGHJK"})),
        ])
        .await;
    assert!(
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] == "accepted"),
        "{answer}"
    );
    for id in ["C100000000007", site_central.as_str()] {
        assert_eq!(
            central.record("user", id).unwrap()["status"],
            "deactivated",
            "{id}"
        );
    }
}
