//! The kiosk UI in a real browser: starts the real gateway on free ports with a manual clock,
//! prepares what the scenarios need through the staff API (a staff user, links), then runs the
//! node test files in tests/browser/ (playwright-core driving Debian's chromium in touch
//! contexts) against it. Screenshots go to tests/output/screenshots/.
//!
//! The scenarios move the gateway's manual clock through `clock_dir` (staff session timeouts,
//! authenticator codes): a file `<n>.req` holding the seconds to advance is answered by
//! `<n>.done` holding the gateway's time afterwards (Unix seconds).
//!
//! SITEGATE_BROWSER_ONLY=<file.test.mjs> runs just that file (while working on one screen), and
//! SITEGATE_BROWSER_UI_FROM_DISK=1 serves kiosk-ui/ from disk (`[kiosk] ui_dir`), so that an edit
//! to the UI needs no rebuild.
//!
//! The gateway has a public host name, so links have a URL a phone can open (the poster's QR). A
//! second gateway with none (`fixture.no_url`) shows what staff see when there is no such URL.
//!
//! Badges print on the TCP test printer (tests/common/printer.rs). The node tests steer it and
//! the gateway's manual clock through files in `printer_control` (see `steer`): `printer-mode`
//! holds the printer's mode, and `advance-clock` a number of seconds to move the clock on (the
//! file is removed once done), so that a retry after a fault comes due.
//!
//! Needs node, /usr/bin/chromium and `npm ci` in tests/browser: scripts/install-test-deps
//! installs them. SITEGATE_SKIP_BROWSER=1 skips this test on a machine without them (the
//! README's `scripts/test` never sets it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::Gateway;
use common::printer::{Mode, TestPrinter};
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::{Clock, ManualClock};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Assert a 2xx answer and return its body.
fn ok(what: &str, (status, body): (reqwest::StatusCode, Value)) -> Value {
    assert!(status.is_success(), "{what}: {status} {body}");
    body
}

/// Apply the node tests' wishes from the control folder until the test ends.
async fn steer(dir: PathBuf, printer: TestPrinter, clock: ManualClock) {
    loop {
        if let Ok(mode) = std::fs::read_to_string(dir.join("printer-mode")) {
            printer.set_mode(match mode.trim() {
                "paper_out" => Mode::PaperOut,
                "cover_open" => Mode::CoverOpen,
                "silent" => Mode::Silent,
                _ => Mode::Normal,
            });
        }
        let advance = dir.join("advance-clock");
        if let Ok(secs) = std::fs::read_to_string(&advance)
            && let Ok(secs) = secs.trim().parse::<i64>()
        {
            clock.advance(time::Duration::seconds(secs));
            std::fs::remove_file(&advance).unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The payload of the badge a print job printed: its kiosk preview's QR, decoded.
async fn badge_payload(gw: &Gateway, job: &str) -> String {
    let res = gw
        .client
        .get(gw.kiosk_url(&format!("/api/kiosk/print-jobs/{job}/badge.png")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "badge preview: {}", res.status());
    let png = res.bytes().await.unwrap();
    let img = sitegate::printer::bitmap::GrayImage::from_png(&png).unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
            img.luma[y * img.width as usize + x]
        });
    let grids = prepared.detect_grids();
    grids[0].decode().unwrap().1
}

/// Everything the scenarios need, made through the staff and public APIs as a site would:
/// units, training, links in every state, an existing user; then the clock moves two hours so
/// the link that expires in one is expired.
async fn prepare(gw: &Gateway, clock: &ManualClock) -> Value {
    let (staff_id, staff_pin, token) = gw.admin_session().await;
    let t = Some(token.as_str());
    let config = ok("kiosk config", gw.get("/api/kiosk/config", None).await);
    let terms_version = config["terms_version"].clone();
    let site = ok(
        "site",
        gw.post("/api/units", t, json!({"kind": "site", "name": "Northgate"}))
            .await,
    );
    let group = ok(
        "group",
        gw.post(
            "/api/units",
            t,
            json!({"kind": "group", "name": "Boiler house crew"}),
        )
        .await,
    );
    let module = ok(
        "module",
        gw.post(
            "/api/modules",
            t,
            json!({"title": "Working at heights", "duration_minutes": 20, "valid_for_days": 365}),
        )
        .await,
    );
    ok(
        "assignment",
        gw.post(
            "/api/assignments",
            t,
            json!({"module_id": module["id"], "target_kind": "group", "target_id": group["id"], "due_at": "2026-12-09T07:00:00Z"}),
        )
        .await,
    );
    let allocation = json!({"groups": [group["id"]], "sites": [site["id"]]});
    let link = |name: &'static str, extra: Value| {
        let mut body = json!({
            "name": name,
            "description": "Safety induction before your first shift: about ten minutes at this kiosk.",
            "allocation": allocation,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        async move { ok(name, gw.post("/api/links", t, body).await) }
    };
    let enroll = |token: Value, given: &'static str, email: &'static str| {
        let body = json!({
            "given_name": given, "family_name": "Seeded", "email": email, "language": "en",
            "terms_version": terms_version, "accept_terms": true,
        });
        async move {
            let path = format!("/api/enroll/{}", token.as_str().unwrap_or_default());
            ok("seed enrollment", gw.post(&path, None, body).await)
        }
    };

    let pinned = link("Contractors — autumn shutdown 2026", json!({"pinned": true})).await;
    let forms = link("Visitors and delivery drivers", json!({"pinned": true})).await;
    let phone = link("Scaffolders — sign up on your phone", json!({})).await;
    let existing = link("Returning workers", json!({})).await;
    let seed = link("Seed", json!({})).await;
    let expires = (clock.now() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let expired = link("Last week's shutdown", json!({"expires_at": expires})).await;
    let deactivated = link("Old induction", json!({})).await;
    let path = format!("/api/links/{}/deactivate", deactivated["id"].as_str().unwrap());
    ok("deactivate", gw.post(&path, t, json!({})).await);
    let full = link("Crane crew (10 places)", json!({"cap": 1})).await;
    enroll(full["token"].clone(), "First", "first@example.com").await;
    let race_full = link("Welders (2 places)", json!({"cap": 2})).await;
    enroll(race_full["token"].clone(), "Second", "second@example.com").await;
    let race_off = link("Night shift", json!({})).await;

    let seeded = enroll(seed["token"].clone(), "Ana", "ana.existing@example.com").await;
    let seeded_job = seeded["badge"]["job"]["job_id"].as_str().unwrap().to_string();
    let payload = badge_payload(gw, &seeded_job).await;
    // A badge whose holder staff switched off, and a well-signed badge this gateway never issued
    // (signed with the site's own key, as only a copy of the key file could).
    // A name in a script the embedded font lacks (no printing.font_file here).
    let cjk = enroll(seed["token"].clone(), "王小明", "wang@example.com").await;
    let gone = enroll(seed["token"].clone(), "Gone", "gone@example.com").await;
    let gone_payload = badge_payload(gw, gone["badge"]["job"]["job_id"].as_str().unwrap()).await;
    let path = format!("/api/users/{}/deactivate", gone["user"]["id"].as_str().unwrap());
    ok(
        "deactivate user",
        gw.post(&path, t, json!({"reason": "left the site"})).await,
    );
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let stranger = sitegate::domain::badge::BadgeNumber::from_canonical("ZZZZZZZZZZ".into());
    let unknown_payload = sitegate::domain::badge::payload(&stranger, &keys.badge_mac(&stranger.mac_input()));
    // A returning worker with a working badge, and the one it replaced (retired), for the link's
    // badge proof; their own, so the reprint scenarios cannot retire it first.
    let returning = enroll(seed["token"].clone(), "Håkon", "hakon.returning@example.no").await;
    let returning_id = returning["user"]["id"].as_str().unwrap().to_string();
    let retired_payload = badge_payload(gw, returning["badge"]["job"]["job_id"].as_str().unwrap()).await;
    let reprinted = ok(
        "reprint",
        gw.post(&format!("/api/users/{returning_id}/badge"), t, json!({}))
            .await,
    );
    let number = sitegate::domain::badge::BadgeNumber::from_canonical(
        reprinted["badge"]["number"].as_str().unwrap().into(),
    );
    let returning_payload = sitegate::domain::badge::payload(&number, &keys.badge_mac(&number.mac_input()));
    clock.advance(time::Duration::hours(2));
    // The staff session idled through those two hours: the scenarios get a fresh one.
    let token = gw.sign_in(&staff_id, &staff_pin).await;

    let classroom = prepare_classroom(gw, &token, clock).await;
    let brief = |l: &Value| json!({"id": l["id"], "token": l["token"], "name": l["name"]});
    json!({
        "kiosk_url": format!("http://{}", gw.kiosk),
        "https_url": format!("https://{}", gw.https),
        "staff": { "id": staff_id, "pin": staff_pin, "token": token },
        "terms_version": terms_version,
        "idle_seconds": config["idle_seconds"],
        "module_title": "Working at heights",
        "group_name": "Boiler house crew",
        "links": {
            "pinned": brief(&pinned), "forms": brief(&forms), "phone": brief(&phone),
            "existing": brief(&existing), "expired": brief(&expired), "deactivated": brief(&deactivated),
            "full": brief(&full), "race_full": brief(&race_full), "race_off": brief(&race_off),
        },
        "classroom": classroom,
        "existing_user": {
            "id": seeded["user"]["id"], "pin": seeded["pin"], "given_name": "Ana", "family_name": "Seeded",
            "email": "ana.existing@example.com",
            "badge_payload": payload,
        },
        "badges": { "deactivated": gone_payload, "unknown": unknown_payload },
        "cjk_user": { "id": cjk["user"]["id"] },
        "returning": {
            "id": returning_id, "given_name": "Håkon", "badge": returning_payload, "retired_badge": retired_payload,
        },
    })
}

/// The classroom scenario: an instructor, a module, four people with PINs (three expected, one
/// walk-in), a class starting now in Room 2 and a second one later (self check-in).
async fn prepare_classroom(gw: &Gateway, admin: &str, clock: &ManualClock) -> Value {
    let t = Some(admin);
    let person = |given: &'static str, family: &'static str, role: &'static str| async move {
        let u = ok("person", gw.post("/api/users", t, json!({"given_name": given, "family_name": family, "role": role, "employer": "Acme Scaffolding, Ltd."})).await);
        let id = u["id"].as_str().unwrap().to_string();
        let pin = ok(
            "pin",
            gw.post(&format!("/api/users/{id}/pin"), t, json!({})).await,
        );
        json!({"id": id, "pin": pin["pin"], "given_name": given, "family_name": family})
    };
    // A badge's QR payload, signed with the site's badge key as the printed QR is.
    let keys = sitegate::keys::Keys::load_existing(&gw.config.key_file())
        .unwrap()
        .unwrap();
    let badge_of = |user: Value| {
        let keys = &keys;
        async move {
            let path = format!("/api/users/{}/badge", user["id"].as_str().unwrap());
            let issued = ok("badge", gw.post(&path, t, json!({})).await);
            let number = sitegate::domain::badge::BadgeNumber::from_canonical(
                issued["badge"]["number"].as_str().unwrap().into(),
            );
            json!(sitegate::domain::badge::payload(
                &number,
                &keys.badge_mac(&number.mac_input())
            ))
        }
    };
    // The instructor and José have badges.
    let mut instructor = person("Ines", "Instructor", "instructor").await;
    instructor["badge"] = badge_of(instructor.clone()).await;
    let mut jose = person("José", "Núñez Peña", "trainee").await;
    jose["badge"] = badge_of(jose.clone()).await;
    let people = vec![
        jose,
        person("Zoë", "O'Brien", "trainee").await,
        person("Алексей", "Смирнов", "trainee").await,
        person("Zofia", "Łukasiewicz-Wróbel", "trainee").await,
    ];
    let module = ok(
        "module",
        gw.post(
            "/api/modules",
            t,
            json!({"title": "Scaffold inspection", "duration_minutes": 90}),
        )
        .await,
    );
    let at = |h: i64| {
        (clock.now() + time::Duration::hours(h))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let expected: Vec<Value> = people[..3].iter().map(|p| p["id"].clone()).collect();
    let class = ok(
        "class",
        gw.post(
            "/api/classes",
            t,
            json!({
                "title": "Scaffold inspection, practical", "module_ids": [module["id"]], "room": "Room 2",
                "starts_at": at(0), "ends_at": at(3), "instructors": [instructor["id"]], "expected": expected,
            }),
        )
        .await,
    );
    let later = ok(
        "class",
        gw.post(
            "/api/classes",
            t,
            json!({
                "title": "Fire extinguishers", "room": "Yard", "starts_at": at(4), "ends_at": at(5),
                "instructors": [instructor["id"]], "expected": [people[3]["id"]],
            }),
        )
        .await,
    );
    let token = gw
        .sign_in(
            instructor["id"].as_str().unwrap(),
            instructor["pin"].as_str().unwrap(),
        )
        .await;
    json!({
        "instructor": instructor, "instructor_token": token, "people": people,
        "class": {"id": class["id"], "title": class["title"]},
        "later": {"id": later["id"], "title": later["title"]},
    })
}

/// Where phones on the main test gateway's LAN open it (`server.public_hostnames`).
const PUBLIC_HOSTNAME: &str = "gate3.northgate.example";

/// The gateway that knows no address a phone can open (no public host name, loopback only): its
/// admin and one link, whose `url` is null.
async fn prepare_no_url(gw: &Gateway) -> Value {
    let (id, pin, token) = gw.admin_session().await;
    let link = ok(
        "link without a URL",
        gw.post(
            "/api/links",
            Some(&token),
            json!({"name": "Yard visitors", "description": "Sign in before you enter the yard."}),
        )
        .await,
    );
    assert!(link["url"].is_null(), "{link}");
    json!({
        "kiosk_url": format!("http://{}", gw.kiosk),
        "https_url": format!("https://{}", gw.https),
        "staff": { "id": id, "pin": pin, "token": token },
        "link": { "id": link["id"], "name": link["name"], "url_unavailable": link["url_unavailable"] },
    })
}

/// Answer the scenarios' requests to move the gateway's clock (see the module's doc).
fn serve_clock_requests(dir: &Path, clock: &ManualClock) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("req") {
            continue;
        }
        let secs: i64 = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        clock.advance(time::Duration::seconds(secs));
        let _ = std::fs::remove_file(&path);
        let done = path.with_extension("tmp");
        std::fs::write(&done, clock.now().unix_timestamp().to_string()).unwrap();
        std::fs::rename(&done, path.with_extension("done")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_ui_works_in_a_real_browser() {
    if std::env::var_os("SITEGATE_SKIP_BROWSER").is_some() {
        common::skip::skipped(
            "tests/kiosk_browser.rs",
            "SITEGATE_SKIP_BROWSER is set: the kiosk's browser tests did not run",
        );
        return;
    }
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser has no node_modules: run scripts/install-test-deps (it runs npm ci there)"
    );
    assert!(
        Path::new(&chromium()).exists(),
        "{} is missing: run scripts/install-test-deps (apt chromium)",
        chromium()
    );

    let clock = ManualClock::new(time::macros::datetime!(2026-11-25 07:00 UTC));
    let printer = TestPrinter::start().await;
    let control = tempfile::tempdir().unwrap();
    let printer_url = printer.url();
    // For the Sync screen, the store as the sync task leaves it on a joined gateway whose
    // credential the central system then refused, with its clock 3 min 20 s behind the
    // central system's: two events it refused, one capped central link holding places here.
    // (No credential file: nothing is fetched, and the other scenarios are not touched.)
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join("state");
    let dead_letters = common::plant_dead_letters(
        &state_dir,
        clock.now() - time::Duration::minutes(40),
        &[
            ("user.created", "email: already used by another user"),
            ("class.checked_in", "unknown class 0190c2a0-77aa"),
        ],
    );
    let planted = clock.now();
    let leased_link = common::plant_joined_sync(
        &state_dir,
        planted,
        |s| {
            s.last_pull_ok = Some(planted - time::Duration::minutes(50));
            s.last_push_ok = Some(planted - time::Duration::minutes(45));
            s.last_error = Some(sitegate::store::sync::SyncFault {
                at: planted - time::Duration::minutes(44),
                during: "push".into(),
                message: "this gateway's credential was refused; join again".into(),
            });
            s.credential_refused = true;
            s.clock_offset_ms = Some(200_000);
        },
        Some(("Contractors — spring", 10, 4)),
    )
    .unwrap();
    let gw = Gateway::start_in(
        state,
        move |c| {
            c.site.name = "Northgate Plant — Gate 3".into();
            c.server.public_hostnames = vec![PUBLIC_HOSTNAME.into()];
            if std::env::var_os("SITEGATE_BROWSER_UI_FROM_DISK").is_some() {
                c.kiosk.ui_dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui"));
            }
            c.printing.printers = vec![sitegate::config::PrinterConfig {
                name: "gate".into(),
                url: printer_url,
                profile: "generic-escpos".into(),
            }];
            c.printing.retry_base_secs = 1;
            c.printing.retry_max_secs = 1;
            c.printing.max_attempts = 50;
            // A printer that keeps quiet about its status keeps a job `printing` this long:
            // long enough for the kiosk to show it.
            c.printing.status_timeout_ms = 1500;
        },
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await;
    let mut fixture = prepare(&gw, &clock).await;
    let no_url = Gateway::start_with(
        |c| {
            c.site.name = "Eastgate Yard".into();
            if std::env::var_os("SITEGATE_BROWSER_UI_FROM_DISK").is_some() {
                c.kiosk.ui_dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui"));
            }
        },
        RunOptions::default(),
    )
    .await;
    fixture["no_url"] = prepare_no_url(&no_url).await;
    fixture["public_hostname"] = json!(PUBLIC_HOSTNAME);
    let clock_dir = tempfile::tempdir().unwrap();
    fixture["clock_dir"] = json!(clock_dir.path());
    fixture["now_unix"] = json!(clock.now().unix_timestamp());
    fixture["printer_control"] = json!(control.path());
    fixture["dead_letters"] = json!(dead_letters);
    fixture["sync"] = json!({
        "leased_link": leased_link,
        "site_name": common::PLANTED_SITE_NAME,
        "central_url": common::PLANTED_CENTRAL_URL,
    });
    #[allow(clippy::disallowed_methods)]
    let steering = tokio::spawn(steer(
        control.path().to_path_buf(),
        printer.clone(),
        clock.clone(),
    ));

    let only = std::env::var("SITEGATE_BROWSER_ONLY").ok();
    let node = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
            .args(only)
            .current_dir(&dir)
            .env("SITEGATE_FIXTURE", fixture.to_string())
            .env("CHROMIUM", chromium())
            .output()
    });
    while !node.is_finished() {
        serve_clock_requests(clock_dir.path(), &clock);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = node
        .await
        .expect("join")
        .expect("node runs (scripts/install-test-deps installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser tests failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("fail 0"), "no test summary:\n{stdout}\n{stderr}");
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{stdout}");
    }
    steering.abort();
    no_url.stop().await;
    gw.stop().await;
}
