//! A gateway started the way a real box starts it: `serve --demo` with the built-in defaults (no
//! `discovery.interfaces`, HTTPS on `0.0.0.0:8443`, the kiosk on `127.0.0.1:8080`), run by the
//! real binary inside a network namespace whose only LAN link is one end of a veth pair (so
//! binding `0.0.0.0` touches that namespace only). python-zeroconf and the staff's requests come
//! from the namespace at the other end, the kiosk's from inside.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "mdns/netns.rs"]
mod netns;
#[path = "mdns/peer.rs"]
mod peer;

use std::process::Command;
use std::time::Duration;

use netns::NetPair;
use peer::{Proc, zeroconf_browser};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_sitegate");
const SERVICE: &str = "_sitegate._tcp.local.";
const KIOSK: &str = "http://127.0.0.1:8080";

/// `curl` inside namespace `ns`: the status and the body (JSON when it parses, else a string).
fn curl(ns: &str, args: &[&str]) -> (u16, Value) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "curl", "-sk", "--max-time", "15"])
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
    (code.trim().parse().unwrap_or(0), body)
}

/// Sign the demo admin in; the kiosk gets a cookie in `jar`, HTTPS callers a bearer token.
fn sign_in(ns: &str, base: &str, login: &(String, String), jar: Option<&str>) -> Value {
    let body = json!({"user_id": login.0, "pin": login.1}).to_string();
    let mut args = vec!["-H", "content-type: application/json", "-d", body.as_str()];
    if let Some(j) = jar {
        args.extend(["-c", j]);
    }
    let url = format!("{base}/api/auth/sign-in");
    args.push(&url);
    let (status, session) = curl(ns, &args);
    assert_eq!(status, 200, "{session}");
    session
}

/// `sitegate <args>` inside namespace `ns`, with the same state directory as the gateway.
fn sitegate(ns: &str, state: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns, BIN, "--state-dir", state])
        .args(args)
        .env_remove("SITEGATE_CONFIG")
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_gateway_started_with_the_defaults_is_found_and_gives_urls_a_phone_can_open() {
    let test = "a_gateway_started_with_the_defaults_is_found_and_gives_urls_a_phone_can_open";
    if !netns::available(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = NetPair::create();
    let state = dir.path().join("state").display().to_string();
    let lan = format!("https://{}:8443", net.addr_a);

    let mut browser = zeroconf_browser(
        Some(&net.b),
        &["--instance", "Demo site", "--tls", "--timeout", "120"],
    );
    let mut argv = NetPair::exec(&net.a, &["env", "-u", "SITEGATE_CONFIG", "SITEGATE_LOG=info"]);
    argv.extend([BIN, "--state-dir", &state, "serve", "--demo"].map(String::from));
    let mut gateway = Proc::start("sitegate serve --demo", &argv);
    let line = gateway.next_line(|l| l.starts_with("Demo staff sign-in:"), Duration::from_secs(60));
    let words: Vec<&str> = line.split_whitespace().collect();
    let login = (words[4].to_string(), words[6].to_string());

    // A headset on the LAN finds it, at the veth's address, with the certificate it serves.
    let found = browser.next_event("found", Duration::from_secs(40));
    assert_eq!(found["name"], format!("Demo site.{SERVICE}"), "{found}");
    assert_eq!(found["port"], 8443);
    assert_eq!(found["addresses"], json!([net.addr_a.to_string()]), "{found}");
    assert_eq!(found["served_fp"], found["properties"]["fp"], "{found}");
    let fp = found["properties"]["fp"].as_str().unwrap().to_string();

    // The start-up log names the URL people can open, not the wildcard the listener is bound to.
    let log = gateway.stderr();
    let serving = log
        .lines()
        .find(|l| l.contains("sitegate serving"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(serving.contains(&format!("sitegate serving {lan} ")), "{serving}");
    assert!(!serving.contains("0.0.0.0"), "{serving}");

    // Staff at the kiosk see it advertising and the URL to give a headset set up by hand.
    let jar = dir.path().join("kiosk.cookies").display().to_string();
    sign_in(&net.a, KIOSK, &login, Some(&jar));
    let (s, status) = curl(&net.a, &["-b", &jar, &format!("{KIOSK}/api/status")]);
    assert_eq!(s, 200, "{status}");
    assert_eq!(status["discovery"]["state"], "advertising", "{status}");
    assert_eq!(
        status["discovery"]["interfaces"],
        json!([{"name": net.veth_a, "addrs": [net.addr_a.to_string()]}]),
        "{status}"
    );
    let (s, info) = curl(&net.a, &["-b", &jar, &format!("{KIOSK}/api/gateway/info")]);
    assert_eq!(s, 200, "{info}");
    assert_eq!(info["urls"], json!([lan]), "{info}");
    assert_eq!(info["setup_url"], format!("{lan}/?fp={fp}"), "{info}");
    assert!(info["qr_svg"].as_str().unwrap_or("").contains("<svg"), "{info}");

    // `sitegate info` on the box says the same, with a QR.
    let out = sitegate(&net.a, &state, &["info"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains(&format!("URL:          {lan}")), "{shown}");
    assert!(shown.contains(&format!("{lan}/?fp={fp}")), "{shown}");
    assert!(shown.contains('█'), "a QR is drawn: {shown}");

    // The demo's links, opened from the kiosk screen or from a laptop on the LAN, give the URL a
    // phone on the LAN opens: the veth's address and the HTTPS port, not the kiosk's loopback.
    let (s, links) = curl(&net.a, &["-b", &jar, &format!("{KIOSK}/api/links")]);
    assert_eq!(s, 200, "{links}");
    let urls: Vec<(String, String)> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["url"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(!urls.is_empty(), "{links}");
    for (l, (_, url)) in links.as_array().unwrap().iter().zip(&urls) {
        assert_eq!(
            url,
            &format!("{lan}/enroll/{}", l["token"].as_str().unwrap()),
            "{l}"
        );
    }
    let session = sign_in(&net.b, &lan, &login, None);
    let auth = format!("authorization: Bearer {}", session["token"].as_str().unwrap());
    let (s, over_lan) = curl(&net.b, &["-H", &auth, &format!("{lan}/api/links")]);
    assert_eq!(s, 200, "{over_lan}");
    let lan_urls: Vec<(String, String)> = over_lan
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["url"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(lan_urls, urls, "the same URLs over HTTPS");
    let (id, url) = &urls[0];
    let (s, poster) = curl(&net.a, &["-b", &jar, &format!("{KIOSK}/api/links/{id}/poster")]);
    assert_eq!(s, 200, "{poster}");
    let poster = poster.as_str().unwrap();
    assert!(
        poster.contains(url.as_str()) && poster.contains("<svg"),
        "{poster}"
    );
    assert!(!poster.contains("127.0.0.1"), "{poster}");
    let out = sitegate(&net.a, &state, &["link", "show", id]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("URL:         {url}")),
        "{}",
        text(&out)
    );

    let status = gateway.terminate(Duration::from_secs(20));
    assert!(status.success(), "{status:?}\n{}", gateway.transcript());
}
