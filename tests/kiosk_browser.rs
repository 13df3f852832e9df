//! The kiosk UI in a real browser: starts the real gateway on free ports with a manual clock,
//! prepares what the scenarios need through the staff API (a staff user, links), then runs the
//! node test files in tests/browser/ (playwright-core driving Debian's chromium in touch
//! contexts) against it. Screenshots go to tests/output/screenshots/.
//!
//! Needs node, /usr/bin/chromium and `npm ci` in tests/browser: scripts/install-test-deps
//! installs them. SITEGATE_SKIP_BROWSER=1 skips this test on a machine without them (the
//! README's `scripts/test` never sets it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::Gateway;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Whatever the scenarios need besides the gateway's addresses.
async fn prepare(gw: &Gateway, _clock: &ManualClock) -> Value {
    let (staff_id, staff_pin, _token) = gw.admin_session().await;
    json!({
        "kiosk_url": format!("http://{}", gw.kiosk),
        "https_url": format!("https://{}", gw.https),
        "staff": { "id": staff_id, "pin": staff_pin },
    })
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
    let fixture = prepare(&gw, &clock).await;

    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
            .current_dir(&dir)
            .env("SITEGATE_FIXTURE", fixture.to_string())
            .env("CHROMIUM", chromium())
            .output()
    })
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
