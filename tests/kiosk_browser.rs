//! The kiosk UI in a real browser: starts the real gateway on free ports with a manual clock,
//! prepares what the scenarios need through the staff API (a staff user, links), then runs the
//! node test files in tests/browser/ (playwright-core driving Debian's chromium in touch
//! contexts) against it. Screenshots go to tests/output/screenshots/.
//!
//! The scenarios move the gateway's manual clock through `clock_dir` (staff session timeouts,
//! authenticator codes): a file `<n>.req` holding the seconds to advance is answered by
//! `<n>.done` holding the gateway's time afterwards (Unix seconds).
//!
//! SITEGATE_BROWSER_ONLY=<file.test.mjs> runs just that file (while working on one screen).
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
    clock.advance(time::Duration::hours(2));
    // The staff session idled through those two hours: the scenarios get a fresh one.
    let token = gw.sign_in(&staff_id, &staff_pin).await;

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
        "existing_user": {
            "id": seeded["user"]["id"], "pin": seeded["pin"], "given_name": "Ana", "family_name": "Seeded",
            "email": "ana.existing@example.com",
        },
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
        #[allow(clippy::print_stderr)]
        {
            eprintln!("SITEGATE_SKIP_BROWSER is set: the kiosk's browser tests did not run");
        }
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
    let gw = Gateway::start_with(
        |c| c.site.name = "Northgate Plant — Gate 3".into(),
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await;
    let mut fixture = prepare(&gw, &clock).await;
    let clock_dir = tempfile::tempdir().unwrap();
    fixture["clock_dir"] = json!(clock_dir.path());
    fixture["now_unix"] = json!(clock.now().unix_timestamp());

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
    gw.stop().await;
}
