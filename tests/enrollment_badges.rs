//! Enrollment ends with a badge: a kiosk enrollment's badge is issued in the same commit, queued,
//! printed on the TCP test printer exactly as its kiosk preview shows, and the preview's QR
//! verifies; a phone enrollment's badge prints at the gate (the spool here) with no preview off
//! the kiosk; an existing user keeps a working badge or gets one when they have none; a paper-out
//! printer shows on the kiosk's job and the badge prints once paper is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Gateway;
use common::printer::{Mode, TestPrinter, raster_of};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::config::{Config, PrinterConfig};
use sitegate::printer::bitmap::GrayImage;

fn fast(c: &mut Config) {
    c.printing.retry_base_secs = 1;
    c.printing.retry_max_secs = 1;
    c.printing.status_timeout_ms = 300;
    c.printing.connect_timeout_secs = 2;
    c.printing.write_timeout_secs = 2;
}

async fn with_tcp_printer(tp: &TestPrinter) -> Gateway {
    let url = tp.url();
    Gateway::start_with(
        move |c| {
            fast(c);
            c.printing.printers = vec![PrinterConfig {
                name: "gate".into(),
                url,
                profile: "generic-escpos".into(),
            }];
        },
        RunOptions::default(),
    )
    .await
}

/// An admin token and a fresh link's token.
async fn admin_and_link(gw: &Gateway) -> (String, String) {
    let (_, _, token) = gw.admin_session().await;
    let (s, link) = gw
        .post("/api/links", Some(&token), json!({"name": "Induction"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    (token, link["token"].as_str().unwrap().to_string())
}

async fn terms(gw: &Gateway) -> Value {
    gw.get("/api/kiosk/config", None).await.1["terms_version"].clone()
}

fn form(terms: &Value, given: &str, email: &str) -> Value {
    json!({
        "given_name": given, "family_name": "Łukasiewicz-Núñez", "email": email,
        "employer": "Żuraw Śląsk", "language": "pl", "terms_version": terms, "accept_terms": true,
    })
}

async fn kiosk(gw: &Gateway, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = gw.client.request(method, gw.kiosk_url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn kiosk_json(
    gw: &Gateway,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let res = kiosk(gw, method, path, body).await;
    let s = res.status();
    (s, res.json().await.unwrap_or(Value::Null))
}

/// Poll the kiosk's job route until `done` says so (20 s at most).
async fn wait_kiosk_job(gw: &Gateway, job: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (s, body) = kiosk_json(
            gw,
            reqwest::Method::GET,
            &format!("/api/kiosk/print-jobs/{job}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job never reached the expected state; last: {last}");
}

fn qr_text(png: &[u8]) -> String {
    let img = GrayImage::from_png(png).unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
            img.luma[y * img.width as usize + x]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the badge");
    grids[0].decode().unwrap().1
}

/// Pack a PNG's pixels the way ESC/POS raster does (1 = black, MSB first).
fn packed(png: &[u8]) -> (usize, Vec<u8>) {
    let img = GrayImage::from_png(png).unwrap();
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

#[tokio::test]
async fn a_kiosk_enrollment_prints_a_badge_on_the_tcp_printer_whose_preview_qr_verifies() {
    let tp = TestPrinter::start().await;
    let gw = with_tcp_printer(&tp).await;
    let (token, link) = admin_and_link(&gw).await;
    let t = terms(&gw).await;
    let (s, done) = kiosk_json(
        &gw,
        reqwest::Method::POST,
        &format!("/api/enroll/{link}"),
        Some(form(&t, "Zofia", "zofia@example.com")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{done}");
    let user_id = done["user"]["id"].as_str().unwrap().to_string();
    let badge = &done["badge"];
    assert_eq!(badge["status"], "printing", "{done}");
    assert_eq!(badge["serial"], 1);
    assert_eq!(badge["pickup"], "kiosk");
    let job = badge["job"]["job_id"].as_str().unwrap().to_string();
    let preview_url = badge["preview_url"].as_str().unwrap().to_string();
    assert_eq!(preview_url, format!("/api/kiosk/print-jobs/{job}/badge.png"));
    for personal in [&user_id, &user_id.replace('-', ""), "Zofia", "zofia"] {
        assert!(
            !preview_url.contains(personal),
            "no personal data in the preview's URL"
        );
    }

    // The badge was issued in the enrollment's own commit: the user's record already has it.
    let (s, jobs) = gw.get("/api/print-jobs", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == job.as_str() && j["user_id"] == user_id.as_str())
    );

    let printed = wait_kiosk_job(&gw, &job, |j| j["state"] == "printed").await;
    assert_eq!(printed["attempts"], 1);
    assert!(printed["last_error"].is_null());
    let res = kiosk(&gw, reqwest::Method::GET, &preview_url, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    let preview = res.bytes().await.unwrap().to_vec();
    std::fs::create_dir_all("tests/output").unwrap();
    std::fs::write("tests/output/enrollment-badge.png", &preview).unwrap();
    // What reached the printer is what the kiosk showed.
    let printed_jobs = tp.wait_jobs(1, 10).await;
    assert_eq!(printed_jobs.len(), 1);
    assert_eq!(raster_of(&printed_jobs[0]), packed(&preview));
    // Its QR verifies as this worker's badge.
    let payload = qr_text(&preview);
    let (s, verified) = gw
        .post("/api/badges/verify", Some(&token), json!({"payload": payload}))
        .await;
    assert_eq!(s, StatusCode::OK, "{verified}");
    assert_eq!(verified["user"]["id"], user_id.as_str());
    assert_eq!(verified["badge"]["serial"], 1);
    gw.stop().await;
}

#[tokio::test]
async fn a_phone_enrollment_prints_at_the_gate_and_gets_no_preview_off_the_kiosk() {
    // The default config: one spool printer in the state directory.
    let gw = Gateway::start_with(fast, RunOptions::default()).await;
    let (token, link) = admin_and_link(&gw).await;
    let t = terms(&gw).await;
    let (s, done) = gw
        .post(
            &format!("/api/enroll/{link}"),
            None,
            form(&t, "João", "joao@example.com"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{done}");
    let badge = &done["badge"];
    assert_eq!(badge["status"], "printing");
    assert_eq!(badge["pickup"], "gate");
    assert!(badge["preview_url"].is_null(), "{done}");
    let job = badge["job"]["job_id"].as_str().unwrap().to_string();
    // The kiosk's job routes are not answered over HTTPS.
    let (s, body) = gw.get(&format!("/api/kiosk/print-jobs/{job}"), None).await;
    common::assert_problem(s, &body, 403, "kiosk_only");
    for _ in 0..200 {
        let (_, j) = gw.get(&format!("/api/print-jobs/{job}"), Some(&token)).await;
        if j["state"] == "printed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let spooled = gw.state_dir().join("spool").join(&job).join("badge.png");
    assert!(spooled.exists(), "the badge is in the gate's spool");
    let payload = qr_text(&std::fs::read(&spooled).unwrap());
    let (s, verified) = gw
        .post("/api/badges/verify", Some(&token), json!({"payload": payload}))
        .await;
    assert_eq!(s, StatusCode::OK, "{verified}");
    assert_eq!(verified["user"]["id"], done["user"]["id"]);
    gw.stop().await;
}

#[tokio::test]
async fn an_existing_user_keeps_a_working_badge_and_gets_one_when_they_have_none() {
    let gw = Gateway::start_with(fast, RunOptions::default()).await;
    let (token, link) = admin_and_link(&gw).await;
    let (_, second) = gw
        .post("/api/links", Some(&token), json!({"name": "Second shift"}))
        .await;
    let second = second["token"].as_str().unwrap().to_string();
    let t = terms(&gw).await;
    let (_, first) = kiosk_json(
        &gw,
        reqwest::Method::POST,
        &format!("/api/enroll/{link}"),
        Some(form(&t, "Ana", "ana@example.com")),
    )
    .await;
    let (s, again) = kiosk_json(
        &gw,
        reqwest::Method::POST,
        &format!("/api/enroll/{second}/existing"),
        Some(json!({"user_id": first["user"]["id"], "pin": first["pin"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(
        again["badge"]["status"], "kept",
        "the badge on their PPE keeps working"
    );
    assert_eq!(again["badge"]["serial"], 1);
    assert!(again["badge"]["job"].is_null());

    // Someone staff registered before badges: their first pass through a link prints one.
    let made = gw
        .create_user(&token, json!({"given_name": "Piotr", "family_name": "Nowak"}))
        .await;
    let id = made["id"].as_str().unwrap().to_string();
    let (s, pin) = gw
        .post(&format!("/api/users/{id}/pin"), Some(&token), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{pin}");
    let (s, through) = kiosk_json(
        &gw,
        reqwest::Method::POST,
        &format!("/api/enroll/{second}/existing"),
        Some(json!({"user_id": id, "pin": pin["pin"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{through}");
    assert_eq!(through["badge"]["status"], "printing");
    assert_eq!(through["badge"]["serial"], 1);
    let job = through["badge"]["job"]["job_id"].as_str().unwrap().to_string();
    wait_kiosk_job(&gw, &job, |j| j["state"] == "printed").await;
    gw.stop().await;
}

#[tokio::test]
async fn paper_out_shows_on_the_kiosk_and_the_badge_prints_once_paper_is_back() {
    let tp = TestPrinter::start().await;
    tp.set_mode(Mode::PaperOut);
    let gw = with_tcp_printer(&tp).await;
    let (_, link) = admin_and_link(&gw).await;
    let t = terms(&gw).await;
    let (s, done) = kiosk_json(
        &gw,
        reqwest::Method::POST,
        &format!("/api/enroll/{link}"),
        Some(form(&t, "Amy", "amy@example.com")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{done}");
    let job = done["badge"]["job"]["job_id"].as_str().unwrap().to_string();
    let waiting = wait_kiosk_job(&gw, &job, |j| j["last_error"] == "paper_out").await;
    assert_eq!(
        waiting["state"], "queued",
        "waiting for paper, not given up: {waiting}"
    );
    assert!(tp.jobs().is_empty());
    tp.set_mode(Mode::Normal);
    let printed = wait_kiosk_job(&gw, &job, |j| j["state"] == "printed").await;
    assert!(printed["attempts"].as_u64().unwrap() >= 2);
    assert_eq!(tp.wait_jobs(1, 10).await.len(), 1, "printed once, nothing lost");
    gw.stop().await;
}
