//! Sync against the test central (a real HTTPS server of the central side): a join from config, central records and PINs reaching the site, site events reaching central once, seeded fault schedules, bad central input, link caps across two gateways, an outage under a manual clock, clock skew.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::Gateway;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::config::Secret;
use sitegate::sync::test_central::{BadField, Endpoint, Fault, FaultRule, TestCentral, TestCentralOptions};
use uuid::Uuid;

struct Rig {
    central: TestCentral,
    gw: Option<Gateway>,
    clock: ManualClock,
    /// The admin's ID and PIN: the manual clock runs far ahead, so each call signs in afresh.
    admin: (String, String),
}

fn joined_config(central: &TestCentral) -> impl FnOnce(&mut sitegate::config::Config) + use<> {
    let url = central.url();
    let token = central.site_token();
    let fp = central.fingerprint();
    move |c| {
        c.central.url = Some(url);
        c.central.api_token = Some(Secret::new(token));
        c.central.fingerprint = fp;
        c.central.poll_wait_secs = Some(1);
    }
}

fn options(clock: &ManualClock) -> RunOptions {
    RunOptions {
        clock: Some(Arc::new(clock.clone())),
        ..Default::default()
    }
}

async fn rig() -> Rig {
    rig_with(|_| {}).await
}

/// A rig whose central system is prepared (records, faults) before the gateway starts and joins.
async fn rig_with(prepare: impl FnOnce(&TestCentral)) -> Rig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("SYNC_LOG").unwrap_or_else(|_| "sitegate=warn".into()))
        .with_test_writer()
        .try_init();
    let central = TestCentral::start(TestCentralOptions::default())
        .await
        .expect("central");
    prepare(&central);
    let clock = ManualClock::new(sitegate::clock::Clock::now(&sitegate::clock::SystemClock));
    let gw = Gateway::start_with(joined_config(&central), options(&clock)).await;
    let (id, pin, _) = gw.admin_session().await;
    Rig {
        central,
        gw: Some(gw),
        clock,
        admin: (id, pin),
    }
}

impl Rig {
    fn gw(&self) -> &Gateway {
        self.gw.as_ref().expect("running")
    }

    async fn token(&self) -> String {
        self.gw().sign_in(&self.admin.0, &self.admin.1).await
    }

    async fn outbox(&self) -> u64 {
        let (s, body) = self.gw().get("/api/status", Some(&self.token().await)).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["outbox_pending"].as_u64().expect("outbox_pending")
    }

    /// Let sync run until the outbox is empty and the central log has been still for a while
    /// (the gateway long-polls for 1 s, so it has pulled the last change). The manual clock is
    /// moved on so backoff waits pass at once.
    async fn settle(&self) {
        let mut still = 0;
        for _ in 0..600 {
            self.clock.advance(time::Duration::minutes(6));
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (s, body) = self.gw().get("/api/status", Some(&self.token().await)).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            let caught_up = body["sync_cursor"].as_str() == Some(self.central.seq().to_string().as_str());
            if caught_up && body["outbox_pending"] == 0 {
                still += 1;
                if still >= 3 {
                    // A fault meant for a request this round did not make stays out of the next.
                    self.central.faults().clear();
                    return;
                }
            } else {
                still = 0;
            }
        }
        panic!(
            "sync did not settle: outbox {}, faults left {:?}",
            self.outbox().await,
            self.central.faults().remaining()
        );
    }

    /// Stop the gateway, digest what it holds (and its users, for a failure message), start it
    /// again on the same state.
    async fn gateway_digest(
        &mut self,
    ) -> (
        BTreeMap<String, sitegate::sync::digest::KindDigest>,
        Vec<(String, Value)>,
    ) {
        let gw = self.gw.take().expect("running");
        let config = gw.config.clone();
        let dir = gw.stop().await;
        let digest = {
            let store = sitegate::open_store(&config.state_dir()).expect("store");
            let svc = sitegate::service::Services::new(
                store,
                Arc::new(self.clock.clone()),
                Arc::new(sitegate::keys::Keys::for_tests()),
                sitegate::site_settings(&config),
            );
            (
                svc.sync_digest().await.expect("digest"),
                svc.sync_records("user").await.expect("users"),
            )
        };
        let c = config.central.clone();
        self.gw = Some(Gateway::start_in(dir, move |cfg| cfg.central = c, options(&self.clock)).await);
        digest
    }

    /// Stop the gateway, do `between` with its state directory (the gateway is down), start it
    /// again on the same state.
    async fn restart_with<T>(&mut self, between: impl FnOnce(&std::path::Path) -> T) -> T {
        let gw = self.gw.take().expect("running");
        let config = gw.config.clone();
        let dir = gw.stop().await;
        let out = between(&config.state_dir());
        let c = config.central.clone();
        self.gw = Some(Gateway::start_in(dir, move |cfg| cfg.central = c, options(&self.clock)).await);
        out
    }

    /// The sync's state and dead letters, read from the store (a restart).
    async fn sync_state(
        &mut self,
    ) -> (
        sitegate::store::sync::SyncState,
        Vec<sitegate::store::sync::DeadLetter>,
    ) {
        self.restart_with(|dir| {
            let store = sitegate::open_store(dir).expect("store");
            store
                .read_blocking(|tx| {
                    Ok((
                        sitegate::store::sync::get_state(tx)?,
                        sitegate::store::sync::list_dead_letters(tx)?,
                    ))
                })
                .expect("read")
        })
        .await
    }

    /// Move the clock on (backoff passes) until `done` holds of the central system.
    async fn wait_for(&self, what: &str, done: impl Fn(&TestCentral) -> bool) {
        for _ in 0..300 {
            if done(&self.central) {
                return;
            }
            self.clock.advance(time::Duration::minutes(6));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never: {what}");
    }

    async fn assert_same_data(&mut self) {
        let central = self.central.snapshot();
        let (here, users) = self.gateway_digest().await;
        for (kind, digest) in &here {
            if Some(digest) != central.kinds.get(kind) {
                for (id, record) in &users {
                    eprintln!(
                        "gateway {id}: {}\ncentral {id}: {}",
                        record,
                        self.central.record("user", id).unwrap_or_default()
                    );
                }
                panic!(
                    "kind {kind} differs: here {digest:?}, central {:?}",
                    central.kinds.get(kind)
                );
            }
        }
    }

    async fn site_user(&self, i: usize) -> String {
        let body = self
            .gw()
            .create_user(
                &self.token().await,
                json!({"given_name": format!("Sïte{i}"), "family_name": "Wørker", "email": format!("site{i}-{}@example.com", Uuid::now_v7().simple())}),
            )
            .await;
        body["id"].as_str().expect("id").to_string()
    }
}

fn user_record(i: u64, groups: &[Uuid]) -> Value {
    json!({
        "given_name": format!("Céntral{i}"), "family_name": "Пользователь",
        "email": format!("central{i}@example.com"), "role": "instructor",
        "access_level": "full", "status": "active", "groups": groups, "language": "en",
        "created_at": "2026-11-01T08:00:00Z"
    })
}

/// Events the central system holds for the gateway: each seq once, in order, none missing.
fn assert_events_once(central: &TestCentral, last_seq: u64) {
    let snap = central.snapshot();
    let gws: Vec<_> = snap.gateways.values().collect();
    assert_eq!(gws.len(), 1);
    let seqs: Vec<u64> = gws[0].events.iter().map(|e| e.seq).collect();
    let want: Vec<u64> = (1..=last_seq).collect();
    let rejected: Vec<u64> = gws[0].rejected.iter().map(|r| r.seq).collect();
    let got: Vec<u64> = want.iter().copied().filter(|s| !rejected.contains(s)).collect();
    assert_eq!(seqs, got, "every site event once, in sequence order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_records_and_pins_reach_the_site_and_site_users_reach_central() {
    let mut r = rig().await;
    let group = Uuid::now_v7();
    r.central
        .put("group", &group.to_string(), json!({"name": "Welders"}))
        .unwrap();
    let module = Uuid::now_v7();
    r.central
        .put(
            "module",
            &module.to_string(),
            json!({"title": "Hot work", "duration_minutes": 20}),
        )
        .unwrap();
    r.central
        .put(
            "assignment",
            &Uuid::now_v7().to_string(),
            json!({"module_id": module, "target": {"kind": "group", "id": group}, "created_at": "2026-11-01T08:00:00Z"}),
        )
        .unwrap();
    r.central
        .put("user", "C100000000001", user_record(1, &[group]))
        .unwrap();
    r.central
        .set_credential("C100000000001", Some("493817"), None)
        .unwrap();
    let site = r.site_user(1).await;
    r.settle().await;

    // The central PIN works on site.
    let (s, body) = r
        .gw()
        .post(
            "/api/auth/sign-in",
            None,
            json!({"user_id": "C100000000001", "pin": "493817"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a PIN issued centrally signs in on site: {body}"
    );

    // The site user reached central with a central ID, and keeps their site ID here.
    let snap = r.central.snapshot();
    let gw = snap.gateways.values().next().expect("the gateway joined");
    let canonical = site.replace('-', "");
    assert!(gw.users.contains_key(&canonical), "{:?}", gw.users);
    let (s, body) = r
        .gw()
        .get(&format!("/api/users/{site}"), Some(&r.token().await))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    r.assert_same_data().await;

    // A PIN issued on site reaches central sealed to its key, never in clear.
    let (s, body) = r
        .gw()
        .post(
            &format!("/api/users/{site}/pin"),
            Some(&r.token().await),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let pin = body["pin"].as_str().expect("pin").to_string();
    r.settle().await;
    let snap = r.central.snapshot();
    let events = &snap.gateways.values().next().unwrap().events;
    let issued = events
        .iter()
        .rev()
        .find(|e| e.kind == "user.pin_issued")
        .expect("pin event");
    let sealed: sitegate::sync::wire::Sealed =
        serde_json::from_value(issued.data["pin"].clone()).expect("sealed pin");
    assert!(
        !issued.data.to_string().contains(&pin),
        "the PIN is not in clear on the wire"
    );
    assert_eq!(r.central.open(&sealed).as_deref(), Some(pin.as_str()));
}

/// The fault schedules of the property test: everything the central side can do wrong that
/// must cost nothing but time.
fn random_fault(rng: &mut StdRng) -> FaultRule {
    let pick = rng.random_range(0..12);
    let (endpoint, fault) = match pick {
        0 => (Endpoint::Any, Fault::ServerError),
        1 => (Endpoint::Any, Fault::Unavailable { retry_after: 1 }),
        2 => (
            Endpoint::Any,
            Fault::Stall {
                millis: 50,
                drop: true,
            },
        ),
        3 => (Endpoint::Events, Fault::ResetMidBody { after_bytes: 10 }),
        4 => (Endpoint::Changes, Fault::ResetMidBody { after_bytes: 40 }),
        5 => (Endpoint::Any, Fault::MalformedJson),
        6 => (Endpoint::Changes, Fault::RepeatPage),
        7 => (Endpoint::Changes, Fault::OverlapPage { back: 3 }),
        8 => (Endpoint::Changes, Fault::Reorder),
        9 => (Endpoint::Changes, Fault::EpochChange),
        10 => (Endpoint::Changes, Fault::Trickle { bytes: 4000 }),
        _ => (
            Endpoint::Events,
            Fault::Stall {
                millis: 30,
                drop: false,
            },
        ),
    };
    FaultRule {
        endpoint,
        times: rng.random_range(1..=2),
        fault,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_any_fault_schedule_central_holds_each_event_once_and_the_data_matches() {
    let seed: u64 = std::env::var("SYNC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let schedules: usize = std::env::var("SYNC_SCHEDULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    eprintln!("fault schedules: seed {seed} (SYNC_SEED={seed} reproduces it), {schedules} schedules");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut r = rig().await;
    let groups: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    for g in &groups {
        r.central
            .put("group", &g.to_string(), json!({"name": format!("Group {g}")}))
            .unwrap();
    }
    let mut central_users = 0u64;
    let mut site_users = 0usize;
    for schedule in 0..schedules {
        let faults: Vec<FaultRule> = (0..rng.random_range(1..=3))
            .map(|_| random_fault(&mut rng))
            .collect();
        eprintln!("schedule {schedule}: {faults:?}");
        r.central.faults().set(faults.clone());
        for _ in 0..rng.random_range(0..3) {
            central_users += 1;
            let g = groups[rng.random_range(0..groups.len())];
            r.central
                .put(
                    "user",
                    &format!("C2{central_users:011}"),
                    user_record(central_users, &[g]),
                )
                .unwrap();
        }
        if central_users > 0 && rng.random_bool(0.3) {
            let which = rng.random_range(1..=central_users);
            let mut rec = user_record(which, &groups[..1]);
            rec["employer"] = json!(format!("Employer {schedule}"));
            r.central.put("user", &format!("C2{which:011}"), rec).unwrap();
        }
        if rng.random_bool(0.15) && central_users > 2 {
            let which = rng.random_range(1..=central_users);
            r.central.delete("user", &format!("C2{which:011}"));
        }
        for _ in 0..rng.random_range(0..3) {
            site_users += 1;
            r.site_user(site_users).await;
        }
        r.settle().await;
        if schedule % 40 == 39 || schedule + 1 == schedules {
            // A digest costs a restart: checked every 40 schedules and at the end.
            r.assert_same_data().await;
        }
    }
    let store_last = {
        let (_, body) = r.gw().get("/api/status", Some(&r.token().await)).await;
        body["outbox_pending"].as_u64().unwrap_or(0)
    };
    assert_eq!(store_last, 0);
    let last_seq = r
        .central
        .snapshot()
        .gateways
        .values()
        .next()
        .unwrap()
        .events
        .last()
        .map_or(0, |e| e.seq);
    assert_events_once(&r.central, last_seq);
    eprintln!("seed {seed}: {central_users} central users, {site_users} site users, {last_seq} events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_central_input_is_refused_or_quarantined_and_the_rest_applies() {
    let mut r = rig().await;
    r.settle().await;
    for fault in [
        Fault::MalformedJson,
        Fault::UnknownKind,
        Fault::InvalidRecord {
            field: BadField::Email,
        },
        Fault::InvalidRecord {
            field: BadField::LongGivenName,
        },
        Fault::CursorBackwards,
        Fault::OversizePage,
    ] {
        r.central.faults().push(FaultRule::once(Endpoint::Changes, fault));
        let n = r.central.seq() + 1;
        r.central
            .put("user", &format!("C3{n:011}"), user_record(n, &[]))
            .unwrap();
        r.settle().await;
        // The good record next to the bad one arrived.
        let (s, body) = r
            .gw()
            .get(&format!("/api/users/C3{n:011}"), Some(&r.token().await))
            .await;
        assert_eq!(s, StatusCode::OK, "the good record applied: {body}");
    }
    r.assert_same_data().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_event_is_a_dead_letter_and_the_events_behind_it_go_on() {
    let r = rig().await;
    r.settle().await;
    r.central.faults().push(FaultRule::once(
        Endpoint::Events,
        Fault::RejectEvent {
            seq: None,
            index: Some(0),
            reason: "unknown unit".into(),
        },
    ));
    let a = r.site_user(1).await;
    let b = r.site_user(2).await;
    r.settle().await;
    let snap = r.central.snapshot();
    let gw = snap.gateways.values().next().unwrap();
    assert_eq!(gw.rejected.len(), 1, "{:?}", gw.rejected);
    let canonical = |s: &str| s.replace('-', "");
    assert!(
        gw.users.contains_key(&canonical(&a)) ^ gw.users.contains_key(&canonical(&b)),
        "one was rejected, the other went on"
    );
    assert_eq!(
        r.outbox().await,
        0,
        "the rejected event left the outbox for the dead letters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_never_enroll_more_than_a_links_cap_between_them() {
    let central = TestCentral::start(TestCentralOptions::default())
        .await
        .expect("central");
    let clock = ManualClock::new(sitegate::clock::Clock::now(&sitegate::clock::SystemClock));
    let link = Uuid::now_v7();
    let token = "capcapcapcapcapcapcap0123";
    central
        .put(
            "link",
            &link.to_string(),
            json!({"token": token, "name": "Contractors", "cap": 12, "active": true, "created_at": "2026-11-01T08:00:00Z"}),
        )
        .unwrap();
    let a = Gateway::start_with(joined_config(&central), options(&clock)).await;
    let b = Gateway::start_with(joined_config(&central), options(&clock)).await;
    let enroll = |gw: &Gateway, i: usize| {
        let url = gw.url(&format!("/api/enroll/{token}"));
        let client = gw.client.clone();
        async move {
            client
                .post(url)
                .json(&json!({
                    "given_name": format!("Cap{i}"), "family_name": "Worker",
                    "email": format!("cap{i}-{}@example.com", Uuid::now_v7().simple()),
                    "accept_terms": true, "terms_version": "1", "language": "en"
                }))
                .send()
                .await
                .map(|r| r.status())
        }
    };
    // Let both take their leases, then cut gateway B off and enroll on both.
    for _ in 0..50 {
        clock.advance(time::Duration::minutes(6));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ok = 0;
    for i in 0..20 {
        if enroll(&a, i).await.is_ok_and(|s| s.is_success()) {
            ok += 1;
        }
        if enroll(&b, 100 + i).await.is_ok_and(|s| s.is_success()) {
            ok += 1;
        }
        clock.advance(time::Duration::minutes(6));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok <= 12, "{ok} enrollments through a link capped at 12");
    assert!(ok >= 2, "both gateways could enroll within their leases ({ok})");
    let snap = central.snapshot();
    let granted: u32 = snap
        .leases
        .iter()
        .filter(|l| l.link_id == link)
        .map(|l| l.granted)
        .sum();
    assert!(granted <= 12, "leases {granted} within the cap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_long_outage_then_the_backlog_drains_in_order_with_clocks_an_hour_apart() {
    let r = rig().await;
    r.central.set_clock_offset(time::Duration::hours(1));
    r.settle().await;
    // Down for 24 hours of the gateway's clock: every call fails.
    r.central.faults().push(FaultRule {
        endpoint: Endpoint::Any,
        times: 10_000,
        fault: Fault::Unavailable { retry_after: 30 },
    });
    for i in 0..30 {
        r.site_user(i).await;
    }
    for _ in 0..48 {
        r.clock.advance(time::Duration::minutes(30));
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert!(
        r.outbox().await >= 30,
        "nothing was lost or sent while central was down"
    );
    r.central.faults().clear();
    r.settle().await;
    let last = r
        .central
        .snapshot()
        .gateways
        .values()
        .next()
        .unwrap()
        .events
        .last()
        .map_or(0, |e| e.seq);
    assert_events_once(&r.central, last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_change_between_the_join_and_the_first_page_still_converges() {
    let mut r = rig_with(|central| {
        central
            .put("group", &Uuid::now_v7().to_string(), json!({"name": "Welders"}))
            .unwrap();
        // The central data is restored from a backup right after the join: the first pull (no
        // cursor yet, the join's epoch) meets a new epoch.
        central
            .faults()
            .push(FaultRule::once(Endpoint::Changes, Fault::EpochChange));
    })
    .await;
    r.settle().await;
    let fired = r.central.snapshot().faults_fired;
    assert!(fired.iter().any(|f| f.fault == Fault::EpochChange), "{fired:?}");
    r.assert_same_data().await;
    let (state, _) = r.sync_state().await;
    assert_eq!(state.epoch, Some(r.central.epoch()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refetch_answered_in_another_epoch_takes_that_epoch_and_converges() {
    // A central system that does not check `epoch` without a cursor; its epoch moves between
    // the join and the first page.
    let mut r = rig_with(|central| {
        central.faults().push(FaultRule::once(
            Endpoint::Changes,
            Fault::Unavailable { retry_after: 1 },
        ));
        central.faults().push(FaultRule {
            endpoint: Endpoint::Changes,
            times: 10_000,
            fault: Fault::EpochUnchecked,
        });
    })
    .await;
    // The gateway waits out the 503 by its own clock, which stands still until settle moves it.
    for _ in 0..400 {
        let fired = r.central.snapshot().faults_fired;
        if fired.iter().any(|f| matches!(f.fault, Fault::Unavailable { .. })) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let joined_in = r.central.epoch();
    r.central.bump_epoch();
    r.central
        .put("group", &Uuid::now_v7().to_string(), json!({"name": "Welders"}))
        .unwrap();
    r.settle().await;
    let (state, _) = r.sync_state().await;
    assert_ne!(state.epoch, Some(joined_in));
    assert_eq!(state.epoch, Some(r.central.epoch()));
    r.assert_same_data().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_withdrawn_centrally_no_longer_signs_in() {
    let r = rig().await;
    r.central
        .put("user", "C100000000009", user_record(9, &[]))
        .unwrap();
    r.central
        .set_credential("C100000000009", Some("493817"), None)
        .unwrap();
    r.settle().await;
    let sign_in = || {
        r.gw().post(
            "/api/auth/sign-in",
            None,
            json!({"user_id": "C100000000009", "pin": "493817"}),
        )
    };
    let (s, body) = sign_in().await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Both none: a tombstone of the credential.
    r.central.set_credential("C100000000009", None, None).unwrap();
    r.settle().await;
    let (s, body) = sign_in().await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the withdrawn PIN is refused: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_restored_from_a_backup_dead_letters_the_numbers_it_reuses() {
    let mut r = rig().await;
    r.settle().await;
    let backup = r
        .restart_with(|dir| {
            let copy = dir.with_file_name("backup.redb");
            std::fs::copy(dir.join("sitegate.redb"), &copy).unwrap();
            copy
        })
        .await;
    let kept = r.site_user(1).await;
    r.settle().await;
    let before = r
        .central
        .snapshot()
        .gateways
        .values()
        .next()
        .unwrap()
        .events
        .clone();
    // The box comes back from that backup: its next events reuse sequence numbers the central
    // system already holds, with other event IDs.
    r.restart_with(|dir| std::fs::copy(&backup, dir.join("sitegate.redb")).unwrap())
        .await;
    r.site_user(2).await;
    r.settle().await;
    let snap = r.central.snapshot();
    let gw = snap.gateways.values().next().unwrap();
    assert_eq!(gw.events, before, "what the central system held is untouched");
    assert!(gw.users.contains_key(&kept.replace('-', "")));
    let (_, dead) = r.sync_state().await;
    assert!(!dead.is_empty(), "the reused numbers are dead letters");
    for letter in &dead {
        assert!(
            letter.reason.starts_with("HTTP 409") && letter.reason.contains("restored from a backup"),
            "{}",
            letter.reason
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_give_back_that_fails_is_sent_again() {
    let r = rig().await;
    let link = Uuid::now_v7();
    let mut record = json!({"token": "givebackgivebackgiveback01", "name": "Contractors", "cap": 20,
                            "active": true, "created_at": "2026-11-01T08:00:00Z"});
    r.central.put("link", &link.to_string(), record.clone()).unwrap();
    let granted = move |c: &TestCentral| {
        c.snapshot()
            .leases
            .iter()
            .find(|l| l.link_id == link)
            .map(|l| l.granted)
    };
    r.wait_for("the gateway holds slots", |c| granted(c) == Some(10))
        .await;
    // The link closes centrally; the first give-back fails.
    r.central
        .faults()
        .push(FaultRule::once(Endpoint::Leases, Fault::ServerError));
    record["active"] = json!(false);
    r.central.put("link", &link.to_string(), record).unwrap();
    r.wait_for("the unused slots are back", |c| granted(c) == Some(0))
        .await;
    let fired = r.central.snapshot().faults_fired;
    assert!(
        fired
            .iter()
            .any(|f| f.endpoint == Endpoint::Leases && f.fault == Fault::ServerError),
        "{fired:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_lease_request_does_not_stop_the_pull() {
    let mut r = rig().await;
    let link = Uuid::now_v7();
    r.central
        .put(
            "link",
            &link.to_string(),
            json!({"token": "refusedrefusedrefused0123", "name": "Visitors", "cap": 20,
                   "active": true, "created_at": "2026-11-01T08:00:00Z"}),
        )
        .unwrap();
    r.central.faults().push(FaultRule {
        endpoint: Endpoint::Leases,
        times: 10_000,
        fault: Fault::Status { status: 403 },
    });
    r.wait_for("a lease request", |c| {
        c.snapshot()
            .faults_fired
            .iter()
            .any(|f| f.endpoint == Endpoint::Leases)
    })
    .await;
    // Every lease request is refused; central changes still arrive.
    let group = Uuid::now_v7();
    r.central
        .put("group", &group.to_string(), json!({"name": "Riggers"}))
        .unwrap();
    r.settle().await;
    let (state, _) = r.sync_state().await;
    let fault = state.last_error.expect("the lease error is shown");
    assert_eq!(fault.during, "lease");
    assert!(fault.message.contains("HTTP 403"), "{}", fault.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_answering_403_to_a_push_dead_letters_nothing() {
    let mut r = rig().await;
    r.settle().await;
    r.central.faults().push(FaultRule {
        endpoint: Endpoint::Events,
        times: 4,
        fault: Fault::Status { status: 403 },
    });
    let site = r.site_user(1).await;
    r.settle().await;
    let snap = r.central.snapshot();
    let gw = snap.gateways.values().next().unwrap();
    assert!(
        gw.users.contains_key(&site.replace('-', "")),
        "the event went through once the proxy let it: {:?}",
        gw.users
    );
    let (state, dead) = r.sync_state().await;
    assert!(dead.is_empty(), "{dead:?}");
    let fault = state.last_error.expect("the push error is shown");
    assert_eq!(fault.during, "push");
    assert!(fault.message.contains("stay queued"), "{}", fault.message);
}
