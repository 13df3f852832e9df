//! Badges end to end: issue and print on a TCP printer, the preview is what prints, scans verified or refused with distinct codes, faults shown and retried, failover, spool and file transports, the queue surviving a restart, kiosk reprint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::printer::{Mode, TestPrinter, raster_of, refused_port};
use common::{Gateway, assert_problem};
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

fn printer(name: &str, url: &str, profile: &str) -> PrinterConfig {
    PrinterConfig {
        name: name.into(),
        url: url.into(),
        profile: profile.into(),
    }
}

async fn start(printers: Vec<PrinterConfig>, failover: Option<&str>) -> Gateway {
    let failover = failover.map(String::from);
    Gateway::start_with(
        move |c| {
            fast(c);
            c.printing.printers = printers;
            c.printing.failover = failover;
        },
        RunOptions::default(),
    )
    .await
}

/// An admin token and a fresh trainee's ID.
async fn admin_and_user(gw: &Gateway) -> (String, String) {
    let (_, _, token) = gw.admin_session().await;
    let u = gw
        .create_user(
            &token,
            json!({"given_name": "Алексей", "family_name": "Núñez-Смирнов", "employer": "Acme Scaffolding"}),
        )
        .await;
    (token, u["id"].as_str().unwrap().to_string())
}

async fn issue(gw: &Gateway, token: &str, user: &str) -> Value {
    let (s, body) = gw
        .post(&format!("/api/users/{user}/badge"), Some(token), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body
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

fn printed(j: &Value) -> bool {
    j["state"] == "printed"
}

async fn png(gw: &Gateway, token: &str, user: &str) -> Vec<u8> {
    let res = gw
        .client
        .get(gw.url(&format!("/api/users/{user}/badge.png")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    res.bytes().await.unwrap().to_vec()
}

fn qr_text(png: &[u8]) -> String {
    let img = GrayImage::from_png(png).unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
            img.luma[y * img.width as usize + x]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
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
async fn a_badge_prints_on_a_tcp_printer_exactly_as_the_preview_shows_and_its_qr_verifies() {
    let tp = TestPrinter::start().await;
    let gw = start(vec![printer("gate", &tp.url(), "generic-escpos")], None).await;
    let (token, user) = admin_and_user(&gw).await;
    let issued = issue(&gw, &token, &user).await;
    assert_eq!(issued["badge"]["serial"], 1);
    assert_eq!(issued["job"]["printer"], "gate");
    let job = wait_job(&gw, &token, issued["job"]["id"].as_str().unwrap(), printed).await;
    assert_eq!(job["attempts"], 1);
    let jobs = tp.wait_jobs(1, 10).await;
    let preview = png(&gw, &token, &user).await;
    // What prints is what the screen shows: the raster is the preview's pixels.
    assert_eq!(raster_of(&jobs[0]), packed(&preview));
    // The QR scans and the gateway knows whose it is.
    let payload = qr_text(&preview);
    assert_eq!(payload.len(), 23);
    let (s, v) = gw
        .post("/api/badges/verify", Some(&token), json!({"payload": payload}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["user"]["id"], user.as_str());
    assert_eq!(v["badge"]["serial"], 1);
    // The user's history says so.
    let (_, detail) = gw.get(&format!("/api/users/{user}"), Some(&token)).await;
    let kinds: Vec<&str> = detail["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"badge_issued") && kinds.contains(&"badge_printed"),
        "{kinds:?}"
    );
    let (_, printers) = gw.get("/api/printers", Some(&token)).await;
    assert_eq!(printers["printers"][0]["health"]["status"], "ready");
    gw.stop().await;
}

#[tokio::test]
async fn a_reprint_retires_the_old_badge_and_forged_unknown_or_junk_scans_are_refused_distinctly() {
    let gw = start(Vec::new(), None).await;
    let (token, user) = admin_and_user(&gw).await;
    issue(&gw, &token, &user).await;
    let old = qr_text(&png(&gw, &token, &user).await);
    let second = issue(&gw, &token, &user).await;
    assert_eq!(second["badge"]["serial"], 2);
    assert!(second["retired"].is_string());
    let new = qr_text(&png(&gw, &token, &user).await);
    assert_ne!(old, new);
    let verify = |p: String| {
        let gw = &gw;
        let token = token.clone();
        async move {
            gw.post("/api/badges/verify", Some(&token), json!({"payload": p}))
                .await
        }
    };
    let (s, v) = verify(new.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["badge"]["serial"], 2);
    let (s, v) = verify(old.clone()).await;
    assert_problem(s, &v, 409, "badge_retired");
    // A forged MAC: the last symbol changed.
    let mut forged = new.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let (s, v) = verify(forged).await;
    assert_problem(s, &v, 422, "badge_forged");
    // A well-signed number this gateway never issued (signed with the site's own key).
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let stranger = sitegate::domain::badge::BadgeNumber::from_canonical("ZZZZZZZZZZ".into());
    let unknown = sitegate::domain::badge::payload(&stranger, &keys.badge_mac(&stranger.mac_input()));
    let (s, v) = verify(unknown).await;
    assert_problem(s, &v, 404, "badge_unknown");
    for junk in [
        format!("{new}0"),
        new[..22].to_string(),
        "hello".into(),
        format!("SG2{}", &new[3..]),
    ] {
        let (s, v) = verify(junk).await;
        assert_problem(s, &v, 422, "badge_not_sitegate");
    }
    let (s, v) = gw
        .post("/api/badges/verify", Some(&token), json!({"payload": ""}))
        .await;
    assert_problem(s, &v, 422, "invalid_field");
    // A deactivated holder's badge is refused too.
    let (s, _) = gw
        .post(&format!("/api/users/{user}/deactivate"), Some(&token), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = verify(new).await;
    assert_problem(s, &v, 403, "user_deactivated");
    let (s, v) = gw
        .post(&format!("/api/users/{user}/badge"), Some(&token), json!({}))
        .await;
    assert_problem(s, &v, 403, "user_deactivated");
    gw.stop().await;
}

#[tokio::test]
async fn paper_out_shows_on_the_job_the_kiosk_and_the_printer_then_the_badge_prints_when_paper_is_back() {
    let tp = TestPrinter::start().await;
    tp.set_mode(Mode::PaperOut);
    let gw = start(vec![printer("gate", &tp.url(), "epson-tm-t20iii")], None).await;
    let (token, user) = admin_and_user(&gw).await;
    let issued = issue(&gw, &token, &user).await;
    let id = issued["job"]["id"].as_str().unwrap().to_string();
    let job = wait_job(&gw, &token, &id, |j| j["last_error"] == "paper_out").await;
    assert_eq!(job["state"], "queued", "a paper-out job waits, it is not lost");
    let (_, printers) = gw.get("/api/printers", Some(&token)).await;
    assert_eq!(printers["printers"][0]["health"]["status"], "paper_out");
    let kiosk: Value = gw
        .client
        .get(gw.kiosk_url(&format!("/api/kiosk/print-jobs/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kiosk["last_error"], "paper_out");
    assert!(tp.jobs().is_empty());
    tp.set_mode(Mode::Normal);
    let job = wait_job(&gw, &token, &id, printed).await;
    assert!(job["attempts"].as_u64().unwrap() >= 2);
    assert_eq!(tp.wait_jobs(1, 10).await.len(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_cover_open_and_a_silent_printer() {
    let tp = TestPrinter::start().await;
    tp.set_mode(Mode::Drop);
    let gw = start(vec![printer("gate", &tp.url(), "generic-escpos")], None).await;
    let (token, user) = admin_and_user(&gw).await;
    let id = issue(&gw, &token, &user).await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_job(&gw, &token, &id, |j| {
        j["last_error"] == "dropped" && j["state"] == "queued"
    })
    .await;
    tp.set_mode(Mode::CoverOpen);
    wait_job(&gw, &token, &id, |j| j["last_error"] == "cover_open").await;
    // A printer that never answers DLE EOT still gets the badge (status "unknown").
    tp.set_mode(Mode::Silent);
    wait_job(&gw, &token, &id, printed).await;
    assert_eq!(tp.wait_jobs(1, 10).await.len(), 1);
    let (_, printers) = gw.get("/api/printers", Some(&token)).await;
    assert_eq!(printers["printers"][0]["health"]["status"], "unknown");
    gw.stop().await;
}

#[tokio::test]
async fn a_refused_first_printer_fails_over_to_the_second() {
    let tp = TestPrinter::start().await;
    let dead = refused_port().await;
    let gw = start(
        vec![
            printer("front", &format!("tcp://{dead}"), "generic-escpos"),
            printer("back", &tp.url(), "zjiang-pos-5890"),
        ],
        Some("back"),
    )
    .await;
    let (token, user) = admin_and_user(&gw).await;
    let id = issue(&gw, &token, &user).await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = wait_job(&gw, &token, &id, printed).await;
    assert_eq!(job["printer"], "back");
    assert_eq!(job["attempts"], 2);
    assert_eq!(job["last_error"], "refused");
    let jobs = tp.wait_jobs(1, 10).await;
    // Printed with the second printer's own profile: FS . after init, 384 dots.
    assert!(jobs[0].starts_with(&[0x1b, b'@', 0x1c, b'.']));
    assert_eq!(raster_of(&jobs[0]).0, 48);
    gw.stop().await;
}

#[tokio::test]
async fn the_queue_survives_a_restart_in_the_middle_of_a_job() {
    let tp = TestPrinter::start().await;
    tp.set_mode(Mode::Stall);
    let url = tp.url();
    let adjust = move |c: &mut Config| {
        fast(c);
        c.printing.write_timeout_secs = 60;
        c.printing.printers = vec![printer("gate", &url, "generic-escpos")];
    };
    let gw = Gateway::start_with(adjust.clone(), RunOptions::default()).await;
    let (token, user) = admin_and_user(&gw).await;
    let id = issue(&gw, &token, &user).await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_job(&gw, &token, &id, |j| j["state"] == "printing").await;
    let dir = gw.stop().await;
    tp.set_mode(Mode::Normal);
    let gw = Gateway::start_in(dir, adjust, RunOptions::default()).await;
    // Sessions are stored: the staff token from before the restart still works.
    let job = wait_job(&gw, &token, &id, printed).await;
    assert_eq!(job["attempts"], 1);
    assert_eq!(tp.wait_jobs(1, 10).await.len(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn the_spool_and_the_file_transport_keep_each_badge() {
    let out = tempfile::tempdir().unwrap();
    let lp = out.path().join("lp0");
    let gw = start(
        vec![
            printer(
                "spool",
                &format!("spool://{}", out.path().join("spool").display()),
                "generic-simple",
            ),
            printer("usb", &format!("file://{}", lp.display()), "epson-tm-t88v"),
        ],
        None,
    )
    .await;
    let (token, user) = admin_and_user(&gw).await;
    let id = issue(&gw, &token, &user).await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_job(&gw, &token, &id, printed).await;
    let folder = out.path().join("spool").join(&id);
    let bin = std::fs::read(folder.join("job.bin")).unwrap();
    let spooled_png = std::fs::read(folder.join("badge.png")).unwrap();
    let meta: Value = serde_json::from_slice(&std::fs::read(folder.join("job.json")).unwrap()).unwrap();
    assert_eq!(meta["job_id"], id.as_str());
    assert_eq!(meta["profile"], "generic-simple");
    assert_eq!(
        spooled_png,
        png(&gw, &token, &user).await,
        "the spool keeps the preview's PNG"
    );
    assert_eq!(raster_of(&bin), packed(&spooled_png));
    // The same user again, on the device file.
    let (s, body) = gw
        .post(
            &format!("/api/users/{user}/badge"),
            Some(&token),
            json!({"printer": "usb"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    wait_job(&gw, &token, body["job"]["id"].as_str().unwrap(), printed).await;
    let written = std::fs::read(&lp).unwrap();
    assert!(written.starts_with(&[0x1b, b'@']));
    assert!(
        written
            .windows(9)
            .any(|w| w == sitegate::printer::encode::QR_MODEL_2)
    );
    let (s, body) = gw
        .post(
            &format!("/api/users/{user}/badge"),
            Some(&token),
            json!({"printer": "nope"}),
        )
        .await;
    assert_problem(s, &body, 404, "not_found");
    let (_, list) = gw.get("/api/print-jobs", Some(&token)).await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2);
    gw.stop().await;
}

#[tokio::test]
async fn with_no_printer_configured_badges_go_to_the_spool_in_the_state_directory() {
    let gw = start(Vec::new(), None).await;
    let (token, user) = admin_and_user(&gw).await;
    let id = issue(&gw, &token, &user).await["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_job(&gw, &token, &id, printed).await;
    assert!(gw.state_dir().join("spool").join(&id).join("badge.png").exists());
    gw.stop().await;
}

async fn kiosk_post(gw: &Gateway, path: &str, body: Value) -> (StatusCode, Value) {
    let res = gw
        .client
        .post(gw.kiosk_url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = res.status();
    (s, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_worker_reprints_at_the_kiosk_with_id_and_pin_or_a_badge_scan() {
    let gw = start(Vec::new(), None).await;
    let (token, user) = admin_and_user(&gw).await;
    let (s, pin) = gw
        .post(&format!("/api/users/{user}/pin"), Some(&token), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let pin = pin["pin"].as_str().unwrap().to_string();
    // Only on the kiosk listener.
    let (s, body) = gw
        .post("/api/kiosk/reprint", None, json!({"user_id": user, "pin": pin}))
        .await;
    assert_problem(s, &body, 403, "kiosk_only");
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let (s, body) = kiosk_post(&gw, "/api/kiosk/reprint", json!({"user_id": user, "pin": wrong})).await;
    assert_problem(s, &body, 401, "invalid_credentials");
    let (s, first) = kiosk_post(&gw, "/api/kiosk/reprint", json!({"user_id": user, "pin": pin})).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert!(
        first.get("user").is_none(),
        "the kiosk answer carries no personal data"
    );
    let job = first["job_id"].as_str().unwrap().to_string();
    let png_res = gw
        .client
        .get(gw.kiosk_url(&format!("/api/kiosk/print-jobs/{job}/badge.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(png_res.status(), StatusCode::OK);
    let scanned = qr_text(&png_res.bytes().await.unwrap());
    // A scan of that badge reprints again, and retires it.
    let (s, second) = kiosk_post(&gw, "/api/kiosk/reprint", json!({"badge": scanned})).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    let (s, body) = kiosk_post(&gw, "/api/kiosk/reprint", json!({"badge": scanned})).await;
    assert_problem(s, &body, 409, "badge_retired");
    let (s, body) = kiosk_post(&gw, "/api/kiosk/reprint", json!({"badge": scanned, "pin": "1"})).await;
    assert_problem(s, &body, 422, "invalid_field");
    let (s, body) = kiosk_post(&gw, "/api/kiosk/reprint", json!({})).await;
    assert_problem(s, &body, 422, "invalid_field");
    let (s, body) = gw.get(&format!("/api/kiosk/print-jobs/{job}"), None).await;
    assert_problem(s, &body, 403, "kiosk_only");
    let (_, detail) = gw.get(&format!("/api/users/{user}"), Some(&token)).await;
    let issued = detail["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "badge_issued")
        .count();
    assert_eq!(issued, 2);
    gw.stop().await;
}

#[tokio::test]
async fn instructors_verify_badges_but_only_managers_issue_them() {
    let gw = start(Vec::new(), None).await;
    let (token, user) = admin_and_user(&gw).await;
    let inst = gw
        .create_user(
            &token,
            json!({"given_name": "Ina", "family_name": "Instructor", "role": "instructor"}),
        )
        .await;
    let inst_id = inst["id"].as_str().unwrap();
    let (_, pin) = gw
        .post(&format!("/api/users/{inst_id}/pin"), Some(&token), json!({}))
        .await;
    let inst_token = gw.sign_in(inst_id, pin["pin"].as_str().unwrap()).await;
    issue(&gw, &token, &user).await;
    let payload = qr_text(&png(&gw, &token, &user).await);
    let (s, v) = gw
        .post(
            "/api/badges/verify",
            Some(&inst_token),
            json!({"payload": payload}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = gw
        .post(&format!("/api/users/{user}/badge"), Some(&inst_token), json!({}))
        .await;
    assert_problem(s, &v, 403, "forbidden");
    let (s, v) = gw.get("/api/users/ABCDE-FGHJK/badge.png", Some(&token)).await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::UNPROCESSABLE_ENTITY,
        "{s} {v}"
    );
    gw.stop().await;
}
