//! `sitegate print test` against the test printer: delivered (exit 0) or the reason on exit 1 (paper out, refused, timeout); no gateway or init needed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::printer::{Mode, TestPrinter, refused_port};

/// Run the real binary with a fresh state directory and short printer timeouts.
async fn print_test(state: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sitegate"));
    cmd.args(["print", "test", "--state-dir"])
        .arg(state)
        .args(args)
        .env_remove("SITEGATE_CONFIG")
        .env("SITEGATE_PRINTING__STATUS_TIMEOUT_MS", "300")
        .env("SITEGATE_PRINTING__WRITE_TIMEOUT_SECS", "1")
        .env("SITEGATE_PRINTING__CONNECT_TIMEOUT_SECS", "2");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // The test printer runs on this runtime: wait for the child off its thread.
    let run = tokio::task::spawn_blocking(move || cmd.output());
    tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .expect("print test returns")
        .unwrap()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn a_sample_badge_reaches_the_printer_and_says_which_key_signed_it() {
    let tp = TestPrinter::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = print_test(
        dir.path(),
        &["--printer", &tp.url(), "--profile", "epson-tm-t20iii"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("throwaway key"), "{stdout}");
    assert!(stdout.contains("printer status: ready"), "{stdout}");
    let jobs = tp.wait_jobs(1, 5).await;
    let job = &jobs[0];
    assert!(job.windows(9).any(|w| w == sitegate::printer::encode::QR_MODEL_2));
    // The footer's Cyrillic went out in CP866 (ESC t 17), not as UTF-8.
    assert!(job.windows(3).any(|w| w == [0x1b, b't', 17]));
    assert!(job.ends_with(&[0x1d, 0x56, 0x42, 0x00]));
    // Nothing was made in the state directory: no init, no database.
    assert!(!dir.path().join("sitegate.redb").exists());

    // With a key file present, the sample is signed with it.
    sitegate::keys::Keys::load_or_create(&dir.path().join("keys/sitegate.key")).unwrap();
    let out = print_test(dir.path(), &["--printer", &tp.url()], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("the badge key of"),
        "{}",
        text(&out.stdout)
    );
    let jobs = tp.wait_jobs(2, 5).await;
    // generic-simple by default: raster only, no cut.
    assert!(!jobs[1].windows(2).any(|w| w == [0x1d, b'V']));
}

#[tokio::test]
async fn paper_out_refused_and_timeout_exit_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let tp = TestPrinter::start().await;
    tp.set_mode(Mode::PaperOut);
    let out = print_test(
        dir.path(),
        &["--printer", &tp.url(), "--profile", "generic-escpos"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("out of paper"),
        "{}",
        text(&out.stderr)
    );

    let dead = refused_port().await;
    let out = print_test(dir.path(), &["--printer", &format!("tcp://{dead}")], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("refused"), "{}", text(&out.stderr));

    tp.set_mode(Mode::Stall);
    let out = print_test(
        dir.path(),
        &["--printer", &tp.url(), "--profile", "generic-escpos"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("in time"), "{}", text(&out.stderr));
    tp.set_mode(Mode::Normal);
}

#[tokio::test]
async fn the_file_and_spool_transports_and_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let out = print_test(
        dir.path(),
        &["--printer", &format!("spool://{}", spool.display())],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let job = std::fs::read_dir(&spool).unwrap().next().unwrap().unwrap().path();
    for f in ["job.bin", "badge.png", "job.json"] {
        assert!(job.join(f).exists(), "{f} kept in the spool");
    }
    let lp = dir.path().join("lp0");
    let out = print_test(
        dir.path(),
        &["--printer", &format!("file://{}", lp.display())],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::read(&lp).unwrap().starts_with(&[0x1b, b'@']));

    let out = print_test(dir.path(), &["--printer", "http://x"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    let out = print_test(
        dir.path(),
        &[
            "--printer",
            &format!("file://{}", lp.display()),
            "--profile",
            "nope",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("generic-simple"),
        "lists the known profiles"
    );

    // A broken profile in the site's folder is refused with its file, key and reason.
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("ours.toml"), "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"bench\"]\n[media]\ndpi = 9000\n").unwrap();
    let out = print_test(
        dir.path(),
        &["--printer", &format!("file://{}", lp.display())],
        &[("SITEGATE_PRINTING__PROFILES_DIR", profiles.to_str().unwrap())],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("ours.toml") && err.contains("media.dpi") && err.contains("100 to 600"),
        "{err}"
    );
}

#[tokio::test]
async fn a_printer_resetting_late_in_the_sample_is_a_failure_not_a_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let tp = TestPrinter::start().await;
    for profile in ["epson-tm-t20iii", "generic-simple"] {
        let args = ["--printer", &tp.url(), "--profile", profile];
        let before = tp.jobs().len();
        let out = print_test(dir.path(), &args, &[]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let size = tp.wait_jobs(before + 1, 5).await[before].len();
        // Reset 4 KiB before the end: the rest fits in the socket buffers, so every write
        // succeeds; only the missing confirmation (or the reset instead of a close) tells.
        tp.set_mode(Mode::ResetAt(size - 4096));
        let out = print_test(dir.path(), &args, &[]).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{profile}: {err}");
        assert!(err.contains("dropped"), "{profile}: {err}");
        assert_eq!(tp.jobs().len(), before + 1, "the partial job is not a job");
        tp.set_mode(Mode::Normal);
    }
}
