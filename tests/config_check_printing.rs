//! `sitegate config check` with the real binary checks the printing section as `serve` loads it
//! at start (issue 14): an unknown or broken profile, an unreadable profiles_dir, a font_file
//! that is missing or not a font, a logo_file that is not an image are one line naming the file,
//! the key and the reason, exit 2; a setup without font_file passes with a note that names in
//! scripts DejaVu Sans lacks will not print.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's fonts-wqy-microhei (scripts/install-test-deps installs it).
const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn sitegate(args: &[&str], file: &Path) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_sitegate"))
        .args(args)
        .arg(file)
        .env_remove("SITEGATE_CONFIG")
        .output()
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn check(file: &Path) -> Out {
    sitegate(&["config", "check"], file)
}

/// A config file whose `[printing]` section is `printing`.
fn config(dir: &Path, name: &str, printing: &str) -> PathBuf {
    let path = dir.join(name);
    let state = dir.join("state");
    std::fs::write(
        &path,
        format!(
            "state_dir = {:?}\n[printing]\n{printing}\n",
            state.display().to_string()
        ),
    )
    .unwrap();
    path
}

/// Exit 2 and one line on stderr holding every one of `parts`.
fn refused(out: &Out, parts: &[&str]) {
    assert_eq!(
        out.code,
        Some(2),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    let line = out.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    for p in parts {
        assert!(line.contains(p), "{p:?} in {line:?}");
    }
}

#[test]
fn a_printer_profile_serve_would_refuse_is_refused_by_config_check_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = config(
        dir.path(),
        "unknown.toml",
        "printers = [{ name = \"gate\", url = \"tcp://127.0.0.1:9100\", profile = \"epson-tm-t20\" }]",
    );
    let name = file.display().to_string();
    refused(
        &check(&file),
        &[
            &name,
            "printing.printers[0].profile",
            "epson-tm-t20",
            "epson-tm-t20iii",
        ],
    );
    // serve refuses the very same setup at start, with the same reason. Port 0: it must refuse
    // before it listens, and no other test's port can be in the way.
    let mut serve = Command::new(env!("CARGO_BIN_EXE_sitegate"));
    serve
        .arg("--config")
        .arg(&file)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--kiosk-listen",
            "127.0.0.1:0",
        ])
        .env_remove("SITEGATE_CONFIG");
    let out = serve.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "serve: {stderr}");
    assert!(stderr.contains("printing.printers[0].profile"), "serve: {stderr}");

    // A broken profile in profiles_dir: its file, key and reason.
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("ours.toml"),
        "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"bench\"]\n[media]\ndpi = 9000\n",
    )
    .unwrap();
    let file = config(
        dir.path(),
        "broken.toml",
        &format!("profiles_dir = {:?}", profiles.display().to_string()),
    );
    refused(
        &check(&file),
        &[
            &file.display().to_string(),
            "ours.toml",
            "media.dpi",
            "100 to 600",
        ],
    );

    // A profiles_dir that is not there.
    let file = config(
        dir.path(),
        "nodir.toml",
        "profiles_dir = \"/nonexistent/profiles\"",
    );
    refused(
        &check(&file),
        &[&file.display().to_string(), "/nonexistent/profiles"],
    );
}

#[test]
fn font_and_logo_files_must_be_readable_and_what_they_claim() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a font, not a picture").unwrap();
    let text_s = text.display().to_string();

    let file = config(dir.path(), "nofont.toml", "font_file = \"/nonexistent/font.ttf\"");
    refused(
        &check(&file),
        &[
            &file.display().to_string(),
            "printing.font_file",
            "/nonexistent/font.ttf",
        ],
    );
    let file = config(dir.path(), "badfont.toml", &format!("font_file = {text_s:?}"));
    refused(
        &check(&file),
        &[
            &file.display().to_string(),
            "printing.font_file",
            "not a TrueType or OpenType font",
        ],
    );
    let file = config(dir.path(), "nologo.toml", "logo_file = \"/nonexistent/logo.png\"");
    refused(
        &check(&file),
        &[
            &file.display().to_string(),
            "printing.logo_file",
            "/nonexistent/logo.png",
        ],
    );
    let file = config(dir.path(), "badlogo.toml", &format!("logo_file = {text_s:?}"));
    refused(
        &check(&file),
        &[&file.display().to_string(), "printing.logo_file", &text_s],
    );
}

#[test]
fn without_a_font_file_the_check_says_which_names_will_not_print() {
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path(), "plain.toml", "");
    let out = check(&file);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("ok"), "{}", out.stdout);
    assert!(
        out.stdout.contains("printing.font_file is not set")
            && out.stdout.contains("Chinese, Japanese, Korean")
            && out.stdout.contains("will not print"),
        "{}",
        out.stdout
    );

    assert!(
        Path::new(CJK_FONT).exists(),
        "{CJK_FONT} is missing: run scripts/install-test-deps (fonts-wqy-microhei)"
    );
    let file = config(dir.path(), "cjk.toml", &format!("font_file = {CJK_FONT:?}"));
    let out = check(&file);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains("font_file"), "{}", out.stdout);
}
