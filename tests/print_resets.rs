//! A printer that resets the connection part-way through a badge (issue 14): early, in the middle
//! and late in the job (after most of it sat in socket buffers), on a profile that answers status
//! and on one that does not. Each time the job is a `dropped` fault, retried, and printed once the
//! printer behaves, and the printer then holds one complete job, exactly the preview's pixels.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Gateway;
use common::printer::{Mode, TestPrinter, raster_of};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::config::PrinterConfig;
use sitegate::printer::bitmap::GrayImage;

async fn start(tp: &TestPrinter, profile: &str) -> Gateway {
    let (url, profile) = (tp.url(), profile.to_string());
    Gateway::start_with(
        move |c| {
            c.printing.retry_base_secs = 1;
            c.printing.retry_max_secs = 1;
            c.printing.max_attempts = 50;
            c.printing.status_timeout_ms = 300;
            c.printing.connect_timeout_secs = 2;
            c.printing.write_timeout_secs = 2;
            c.printing.printers = vec![PrinterConfig {
                name: "gate".into(),
                url,
                profile,
            }];
        },
        RunOptions::default(),
    )
    .await
}

/// Poll a job until `done` says so (20 s at most).
async fn wait_job(gw: &Gateway, token: &str, job: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (s, body) = gw.get(&format!("/api/print-jobs/{job}"), Some(token)).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job never reached the expected state; last: {last}");
}

/// Issue (or reissue) the user's badge; the new job's ID.
async fn issue(gw: &Gateway, token: &str, user: &str) -> String {
    let (s, body) = gw
        .post(&format!("/api/users/{user}/badge"), Some(token), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body["job"]["id"].as_str().unwrap().to_string()
}

/// Pack the preview's pixels the way ESC/POS raster does (1 = black, MSB first).
async fn preview_raster(gw: &Gateway, token: &str, user: &str) -> (usize, Vec<u8>) {
    let res = gw
        .client
        .get(gw.url(&format!("/api/users/{user}/badge.png")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let img = GrayImage::from_png(&res.bytes().await.unwrap()).unwrap();
    let rb = img.width.div_ceil(8) as usize;
    let mut out = vec![0u8; rb * img.height as usize];
    for y in 0..img.height as usize {
        for x in 0..img.width as usize {
            if img.luma[y * img.width as usize + x] < 128 {
                out[y * rb + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    (rb, out)
}

/// Print once normally to learn the badge's size, then reset at 100 bytes, half way and 4 KiB
/// before the end; each reset job must be retried and arrive whole.
async fn resets_are_retried_until_the_job_arrives_whole(profile: &str) {
    let tp = TestPrinter::start().await;
    let gw = start(&tp, profile).await;
    let (_, _, token) = gw.admin_session().await;
    let user = gw
        .create_user(
            &token,
            json!({"given_name": "Алексей", "family_name": "Núñez-Смирнов", "employer": "Acme"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = issue(&gw, &token, &user).await;
    wait_job(&gw, &token, &first, |j| j["state"] == "printed").await;
    let size = tp.wait_jobs(1, 10).await[0].len();
    assert!(
        size > 12 * 1024,
        "a badge of {size} bytes is too small to test a late reset"
    );

    for at in [100, size / 2, size - 4096] {
        tp.set_mode(Mode::ResetAt(at));
        let before = tp.jobs().len();
        let id = issue(&gw, &token, &user).await;
        // Still resetting: the job can only be printed if a partial one was counted.
        let job = wait_job(&gw, &token, &id, |j| {
            j["state"] == "printed" || (j["last_error"] == "dropped" && j["state"] == "queued")
        })
        .await;
        assert_ne!(job["state"], "printed", "reset at byte {at} of {size}: {job}");
        tp.set_mode(Mode::Normal);
        let job = wait_job(&gw, &token, &id, |j| j["state"] == "printed").await;
        assert!(job["attempts"].as_u64().unwrap() >= 2, "{job}");
        let jobs = tp.wait_jobs(before + 1, 10).await;
        assert_eq!(jobs.len(), before + 1, "only the whole job counts at the printer");
        let got = jobs.last().unwrap();
        assert!(got.starts_with(&[0x1b, b'@']));
        assert_eq!(
            raster_of(got),
            preview_raster(&gw, &token, &user).await,
            "after a reset at byte {at} the printer got the whole badge"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_printer_that_answers_status_resetting_early_midway_or_late_gets_the_badge_again() {
    // zjiang-pos-5890: 58 mm, DLE EOT status; its badge is about 20 KiB.
    resets_are_retried_until_the_job_arrives_whole("zjiang-pos-5890").await;
}

#[tokio::test]
async fn a_printer_without_status_resetting_early_midway_or_late_gets_the_badge_again() {
    // generic-simple: no status, so the printer's orderly close is the only sign.
    resets_are_retried_until_the_job_arrives_whole("generic-simple").await;
}
