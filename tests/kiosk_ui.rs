//! The kiosk UI as files: pages and assets served with the right types and caching on both
//! listeners, no way out of the UI folder, the development folder, nothing fetched from the
//! internet, and complete message catalogues in every language.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::Gateway;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use sitegate::RunOptions;

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-ui")
}

/// Every file under `kiosk-ui/` with the given extension, as (relative path, text).
fn ui_files(ext: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, base: &Path, ext: &str, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&ui_dir(), &ui_dir(), ext, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn the_start_page_and_the_link_page_are_the_app_on_both_listeners() {
    let gw = Gateway::start().await;
    for url in [
        gw.kiosk_url("/"),
        gw.kiosk_url("/enroll/AbC-123_xyz"),
        gw.url("/"),
        gw.url("/enroll/AbC-123_xyz"),
    ] {
        let res = gw.client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let h = res.headers().clone();
        assert_eq!(h[CONTENT_TYPE], "text/html; charset=utf-8", "{url}");
        assert_eq!(h[CACHE_CONTROL], "no-cache", "{url}");
        assert!(
            h[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'"),
            "{url}"
        );
        let body = res.text().await.unwrap();
        assert!(
            body.contains(r#"<script type="module" src="/ui/js/app.js">"#),
            "{url}"
        );
        assert!(body.contains(r#"href="/ui/kiosk.css""#), "{url}");
    }
}

#[tokio::test]
async fn assets_have_their_content_types_and_revalidate_with_etags() {
    let gw = Gateway::start().await;
    for (path, want) in [
        ("/ui/js/app.js", "text/javascript; charset=utf-8"),
        ("/ui/js/screens/enroll.js", "text/javascript; charset=utf-8"),
        ("/ui/kiosk.css", "text/css; charset=utf-8"),
        ("/ui/i18n/pl.json", "application/json"),
    ] {
        let res = gw.client.get(gw.kiosk_url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()[CONTENT_TYPE], want, "{path}");
        let etag = res.headers()[ETAG].clone();
        let disk = std::fs::read(ui_dir().join(path.trim_start_matches("/ui/"))).unwrap();
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            disk.as_slice(),
            "{path} is the shipped file"
        );

        let again = gw
            .client
            .get(gw.kiosk_url(path))
            .header(IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()[ETAG], etag);
    }
}

#[tokio::test]
async fn nothing_outside_the_ui_folder_is_served() {
    let gw = Gateway::start().await;
    for path in [
        "/ui/README.md",
        "/ui/../Cargo.toml",
        "/ui/%2e%2e/Cargo.toml",
        "/ui/js/%2e%2e/%2e%2e/Cargo.toml",
        "/ui/.hidden",
        "/ui/nope.js",
        "/enroll/",
        "/enroll/a/b",
    ] {
        let res = gw.client.get(gw.kiosk_url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn kiosk_ui_dir_serves_a_folder_from_disk_for_development() {
    let dev = tempfile::tempdir().unwrap();
    std::fs::write(dev.path().join("index.html"), "<!doctype html><p>dev copy</p>").unwrap();
    std::fs::create_dir(dev.path().join("js")).unwrap();
    std::fs::write(dev.path().join("js/app.js"), "export const v = 1;").unwrap();
    let dir = dev.path().to_path_buf();
    let gw = Gateway::start_with(move |c| c.kiosk.ui_dir = Some(dir), RunOptions::default()).await;

    let page = gw.client.get(gw.kiosk_url("/")).send().await.unwrap();
    assert_eq!(page.text().await.unwrap(), "<!doctype html><p>dev copy</p>");
    // An edit shows on the next request, without a restart.
    std::fs::write(dev.path().join("js/app.js"), "export const v = 2;").unwrap();
    let js = gw.client.get(gw.kiosk_url("/ui/js/app.js")).send().await.unwrap();
    assert_eq!(js.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(js.text().await.unwrap(), "export const v = 2;");
}

/// CSP `default-src 'self'` forbids inline scripts and styles, and a kiosk off the internet
/// cannot load anything from elsewhere: the UI must need neither.
#[test]
fn the_ui_has_no_inline_code_and_loads_nothing_from_elsewhere() {
    let html = std::fs::read_to_string(ui_dir().join("index.html")).unwrap();
    assert!(!html.contains("<style"), "inline <style> in index.html");
    assert!(!html.contains("style="), "inline style attribute in index.html");
    for tag in html.split("<script").skip(1) {
        assert!(
            tag.trim_start().starts_with("type=\"module\" src=\"/ui/"),
            "inline or foreign script: <script{tag}"
        );
    }
    for ext in ["html", "css", "js"] {
        for (path, text) in ui_files(ext) {
            for needle in [
                "http://",
                "https://",
                "@import",
                "url(",
                "innerHTML",
                "setAttribute(\"style\"",
            ] {
                assert!(!text.contains(needle), "{path} contains {needle:?}");
            }
        }
    }
}

type Catalogue = BTreeMap<String, String>;

fn catalogues() -> BTreeMap<String, Catalogue> {
    ui_files("json")
        .into_iter()
        .filter_map(|(path, text)| {
            let lang = path.strip_prefix("i18n/")?.strip_suffix(".json")?.to_string();
            let cat: Catalogue = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
            Some((lang, cat))
        })
        .collect()
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// Every language ships complete: a key English has and another language lacks (or leaves
/// empty), a key English lacks, or a placeholder that differs is a gap. The list is written to
/// tests/output/i18n-gaps.txt and the test fails on any gap. (At run time a gap would fall back
/// to English; shipping one is still a defect.)
#[test]
fn every_language_has_every_message() {
    let cats = catalogues();
    let en = &cats["en"];
    for lang in ["en", "es", "pt", "pl"] {
        assert!(cats.contains_key(lang), "kiosk-ui/i18n/{lang}.json is missing");
    }
    let mut gaps = Vec::new();
    for (lang, cat) in &cats {
        for (key, text) in en {
            match cat.get(key) {
                None => gaps.push(format!("{lang}: missing {key}")),
                Some(t) if t.trim().is_empty() => gaps.push(format!("{lang}: empty {key}")),
                Some(t) if placeholders(t) != placeholders(text) => gaps.push(format!(
                    "{lang}: {key} has placeholders {:?}, English {:?}",
                    placeholders(t),
                    placeholders(text)
                )),
                Some(_) => {}
            }
        }
        for key in cat.keys().filter(|k| !en.contains_key(*k)) {
            gaps.push(format!("{lang}: {key} is not in English (stale?)"));
        }
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/output");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("i18n-gaps.txt"), gaps.join("\n") + "\n").unwrap();
    assert!(gaps.is_empty(), "translation gaps:\n{}", gaps.join("\n"));
}

/// Every message the code asks for exists in English: the literal keys in the JavaScript, and
/// the families the code builds from API values (problem codes, roles, states).
#[test]
fn every_message_the_code_asks_for_is_in_english() {
    let en = &catalogues()["en"];
    let mut wanted = BTreeSet::new();
    for (path, text) in ui_files("js") {
        for part in text.split("t(\"").skip(1) {
            let Some((key, _)) = part.split_once('"') else {
                continue;
            };
            if key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                && key.contains('.')
                // `closest(".field")` is a CSS selector, not a message.
                && !key.starts_with('.')
            {
                wanted.insert((key.to_string(), path.clone()));
            }
        }
    }
    let families: &[(&str, &[&str], &str)] = &[
        (
            "link.",
            &["link_unknown", "link_expired", "link_deactivated", "link_full"],
            ".title",
        ),
        (
            "link.",
            &["link_unknown", "link_expired", "link_deactivated", "link_full"],
            ".body",
        ),
        ("role.", &["trainee", "instructor", "manager", "admin"], ""),
        ("training.status.", &["pending", "completed", "expired"], ""),
        ("unit.", &["group", "site", "region"], ""),
        (
            "enroll.contact_rule.",
            &["email_or_phone", "email", "phone", "none"],
            "",
        ),
        (
            "staff.menu.",
            &["users", "devices", "security", "sync", "totp"],
            ".title",
        ),
        (
            "staff.menu.",
            &["users", "devices", "security", "sync", "totp"],
            ".text",
        ),
        ("staff.menu.", &["security", "sync"], ".text_limited"),
        // The sync's states as the status API names them, and what it was doing at a fault.
        (
            "staff.sync.state.",
            &[
                "standalone",
                "online",
                "offline",
                "credential_refused",
                "refetching",
            ],
            "",
        ),
        (
            "staff.sync.summary.",
            &[
                "standalone",
                "online",
                "offline",
                "credential_refused",
                "refetching",
            ],
            "",
        ),
        (
            "staff.sync.during.",
            &["pull", "push", "lease", "join", "other"],
            "",
        ),
        ("staff.once.", &["pin", "otp"], "_label"),
        ("staff.users.totp_", &["enrolled", "pending", "none"], ""),
        (
            "staff.audit.outcome.",
            &["all", "success", "failure", "denied", "throttled", "alert"],
            "",
        ),
        ("staff.session.", &["ended_idle", "ended_expired"], ""),
        (
            "error.",
            &[
                "invalid_field",
                "terms_not_accepted",
                "contact_required",
                "invalid_credentials",
                "invalid_bootstrap_code",
                "user_deactivated",
                "id_typo",
                "invalid_id",
                "required",
                "network",
                "timeout",
                "storage_unavailable",
                "unknown",
            ],
            "",
        ),
        (
            "error.invalid_field.",
            &[
                "given_name",
                "family_name",
                "email",
                "phone",
                "employer",
                "language",
            ],
            "",
        ),
        // Badges and printing: the faults and states the print-job API reports, the printer
        // states the staff screen shows, and every refusal of a kiosk reprint.
        (
            "badge.fault.",
            &[
                "paper_out",
                "cover_open",
                "offline",
                "refused",
                "timeout",
                "dropped",
                "unreachable",
                "unprintable",
                "other",
            ],
            "",
        ),
        (
            "staff_printing.state.",
            &["queued", "printing", "printed", "failed"],
            "",
        ),
        (
            "staff_printing.printer.",
            &[
                "ready",
                "paper_out",
                "cover_open",
                "offline",
                "unknown",
                "unchecked",
            ],
            "",
        ),
        (
            "error.",
            &[
                "badge_not_sitegate",
                "badge_forged",
                "badge_unknown",
                "badge_retired",
                "login_throttled",
                "device_throttled",
                "printing_unavailable",
                "kiosk_only",
            ],
            "",
        ),
        ("error.invalid_field.", &["badge", "pin"], ""),
        ("staff.tool.", &["printing"], ""),
        // Access links: the tile, the states the API reports, the allocation's kinds, the tabs,
        // and the fields a refusal can name.
        ("staff.links.tile.", &["title", "text"], ""),
        (
            "staff.links.state.",
            &["active", "expired", "full", "deactivated"],
            "",
        ),
        (
            "staff.links.state_text.",
            &["active", "expired", "full", "deactivated"],
            "",
        ),
        ("staff.links.kind.", &["groups", "sites", "regions"], ""),
        ("staff.links.kind_none.", &["groups", "sites", "regions"], ""),
        ("staff.links.tab.", &["details", "poster", "usage"], ""),
        (
            "staff.links.error.",
            &["name", "description", "expires_at", "cap", "allocation"],
            "",
        ),
        ("staff.links.", &["poster_scan"], ""),
    ];
    for (prefix, names, suffix) in families {
        for name in *names {
            wanted.insert((format!("{prefix}{name}{suffix}"), "(family)".into()));
        }
    }
    assert!(
        wanted.len() > 60,
        "the key scan found too little: {}",
        wanted.len()
    );
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(key, _)| !en.contains_key(key))
        .map(|(key, path)| format!("{key} (asked for in {path})"))
        .collect();
    assert!(missing.is_empty(), "not in en.json:\n{}", missing.join("\n"));
}
