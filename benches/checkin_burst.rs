//! Benchmark: a burst of 60 badge scans in 30 s from two kiosks at once against the real gateway
//! (HTTPS, a temp state directory on this disk, every check-in durably committed before its
//! answer), with p50/p99/max latency; how long each scan takes to show on a second screen that
//! follows the live roster (server-sent events); then the same 60 as fast as the two kiosks can send
//! them; and the disk's raw fsync rate measured in the same directory. Figures go to
//! docs/benchmarks.md.
//!
//! Run: `cargo bench --bench checkin_burst` (release build; about 45 s).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Gateway;
use serde_json::{Value, json};

const PEOPLE: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    println!(
        "{name}: {} check-ins in {:.1} s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        wall.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

/// Raw fsync rate of the disk under `dir`: 4 KiB write + fdatasync, for two seconds.
fn fsync_rate(dir: &std::path::Path) -> f64 {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = [0x5au8; 4096];
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(2) {
        f.write_all(&block).unwrap();
        f.sync_data().unwrap();
        n += 1;
    }
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    rate
}

/// Two kiosks; kiosk k sends the payloads at `i * spacing` (+ half a spacing for kiosk 1).
/// Answers each scan's latency and the instant it was sent, and the wall time.
async fn burst(
    gw: &Gateway,
    token: &str,
    class: &str,
    payloads: &[String],
    spacing: Duration,
) -> (Vec<(Instant, Duration)>, Duration) {
    let start = Instant::now();
    let mut kiosks = Vec::new();
    for k in 0..2usize {
        let mine: Vec<String> = payloads.iter().skip(k).step_by(2).cloned().collect();
        let client = common::client();
        let url = gw.url(&format!("/api/classes/{class}/check-in"));
        let token = token.to_string();
        kiosks.push(async move {
            let mut lat = Vec::new();
            for (i, p) in mine.iter().enumerate() {
                let at = spacing * (2 * i as u32 + k as u32) / 2;
                tokio::time::sleep_until(tokio::time::Instant::from_std(start + at)).await;
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"method": "badge", "badge": p}))
                    .send()
                    .await
                    .unwrap();
                assert!(
                    res.status().is_success(),
                    "{}",
                    res.text().await.unwrap_or_default()
                );
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["status"], "checked_in");
                lat.push((t, t.elapsed()));
            }
            lat
        });
    }
    let (a, b) = futures_util::future::join(kiosks.remove(0), kiosks.remove(0)).await;
    (a.into_iter().chain(b).collect(), start.elapsed())
}

/// A second screen following the class's live roster: the instant each roster event arrived and
/// the number present in it, until `n` are present.
async fn follow_roster(mut res: reqwest::Response, n: usize) -> Vec<(Instant, usize)> {
    let mut buf = String::new();
    let mut seen = Vec::new();
    loop {
        let chunk = res.chunk().await.unwrap().expect("stream open");
        let at = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                let v: Value = serde_json::from_str(data).unwrap();
                let present = v["counts"]["present"].as_u64().unwrap_or(0) as usize;
                seen.push((at, present));
                if present >= n {
                    return seen;
                }
            }
        }
    }
}

/// Scan to second screen: for the k-th scan (in send order) the first roster event with k present.
fn screen_latency(mut sent: Vec<Instant>, events: &[(Instant, usize)]) -> Vec<Duration> {
    sent.sort();
    sent.iter()
        .enumerate()
        .map(|(k, t)| {
            let shown = events
                .iter()
                .find(|(_, present)| *present > k)
                .map(|(at, _)| *at)
                .expect("every scan reached the roster");
            shown.saturating_duration_since(*t)
        })
        .collect()
}

async fn class_with_badges(
    gw: &Gateway,
    admin: &str,
    me: &str,
    n: usize,
    title: &str,
) -> (String, Vec<String>) {
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let mut payloads = Vec::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let u = gw
            .create_user(
                admin,
                json!({"given_name": format!("Person{i}"), "family_name": title}),
            )
            .await;
        let id = u["id"].as_str().unwrap().to_string();
        let (_, b) = gw
            .post(&format!("/api/users/{id}/badge"), Some(admin), json!({}))
            .await;
        let number = sitegate::domain::badge::BadgeNumber::from_canonical(
            b["badge"]["number"].as_str().unwrap().into(),
        );
        payloads.push(sitegate::domain::badge::payload(
            &number,
            &keys.badge_mac(&number.mac_input()),
        ));
        ids.push(id);
    }
    let (_, class) = gw
        .post(
            "/api/classes",
            Some(admin),
            json!({"title": title, "room": "Room 1", "starts_at": "2026-11-25T08:00:00Z", "ends_at": "2026-11-25T16:00:00Z",
                   "instructors": [me], "expected": ids}),
        )
        .await;
    let class = class["id"].as_str().unwrap().to_string();
    let (s, _) = gw
        .post(&format!("/api/classes/{class}/open"), Some(admin), json!({}))
        .await;
    assert!(s.is_success());
    (class, payloads)
}

async fn wait_for_print_queue(gw: &Gateway, admin: &str) {
    for _ in 0..600 {
        let (_, jobs) = gw.get("/api/print-jobs?limit=500", Some(admin)).await;
        let busy = jobs
            .as_array()
            .map(|j| {
                j.iter()
                    .any(|x| x["state"] == "queued" || x["state"] == "printing")
            })
            .unwrap_or(false);
        if !busy {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let gw = Gateway::start().await;
        let (me, _pin, admin) = gw.admin_session().await;
        let (paced_class, paced) = class_with_badges(&gw, &admin, &me, PEOPLE, "Paced").await;
        let (fast_class, fast) = class_with_badges(&gw, &admin, &me, PEOPLE, "Flat out").await;
        // Badge printing (spool) runs in the background: let it finish before measuring.
        wait_for_print_queue(&gw, &admin).await;
        let token = admin.clone();

        // The second screen is connected (and subscribed) before the first scan.
        let stream = reqwest::Client::builder()
            .use_rustls_tls()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
            .get(gw.url(&format!("/api/classes/{paced_class}/events")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(stream.status().is_success());
        let watcher = follow_roster(stream, PEOPLE);
        let scans = burst(&gw, &token, &paced_class, &paced, Duration::from_secs(1));
        let (events, (lat, wall)) = futures_util::future::join(watcher, scans).await;
        let sent: Vec<Instant> = lat.iter().map(|(t, _)| *t).collect();
        report(
            "60 badge scans in 30 s from two kiosks",
            lat.into_iter().map(|(_, d)| d).collect(),
            wall,
        );
        report(
            "  scan to second screen (live roster event)",
            screen_latency(sent, &events),
            wall,
        );
        let (lat, wall) = burst(&gw, &token, &fast_class, &fast, Duration::ZERO).await;
        report(
            "60 badge scans flat out from two kiosks",
            lat.into_iter().map(|(_, d)| d).collect(),
            wall,
        );
        println!(
            "raw fsync rate of the same disk: {:.0} fsync/s",
            fsync_rate(&gw.state_dir())
        );
        gw.stop().await;
    });
}
