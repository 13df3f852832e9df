//! Discovery against a real mDNS peer that is not ours (python-zeroconf): on loopback, and across
//! two network namespaces joined by a veth pair with the real binary; the staff status, the
//! gateway info route and `sitegate info` / `sitegate headset discover`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "mdns/netns.rs"]
mod netns;
#[path = "mdns/peer.rs"]
mod peer;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::Gateway;
use netns::NetPair;
use peer::{Proc, zeroconf_browser};
use reqwest::StatusCode;
use serde_json::Value;
use sitegate::RunOptions;

const SERVICE: &str = "_sitegate._tcp.local.";

/// A fresh instance name per run: a killed advertiser sends no goodbye, and peers keep their cache.
fn unique(prefix: &str) -> String {
    #[allow(clippy::disallowed_methods)] // only to make a name unique
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix} {}-{nanos:09}", std::process::id())
}

fn fingerprint_of_state(state_dir: &std::path::Path) -> String {
    let pem = std::fs::read(state_dir.join("tls/cert.pem")).expect("certificate in the state dir");
    let der = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .expect("a certificate")
        .expect("PEM");
    sitegate::http::tls::Fingerprint::of_der(&der).base64url()
}

fn assert_txt(found: &Value, id: &str, site: &str, fp: &str) {
    let props = &found["properties"];
    assert_eq!(props["txtvers"], "1", "{found}");
    assert_eq!(props["id"], id, "{found}");
    assert_eq!(props["site"], site, "{found}");
    assert_eq!(props["api"], "/api", "{found}");
    assert_eq!(props["fp"], fp, "{found}");
    let text_bytes = found["text_bytes"].as_u64().unwrap();
    assert!(text_bytes <= 200, "TXT record is {text_bytes} bytes");
    // What a headset would pin is what the gateway really serves.
    assert_eq!(found["served_fp"], fp, "{found}");
}

#[tokio::test]
async fn a_zeroconf_peer_on_loopback_finds_the_gateway_with_its_txt_and_sees_its_goodbye() {
    let name = unique("Loopback site");
    let id = format!("gw-lo-{}", std::process::id());
    let (n, i) = (name.clone(), id.clone());
    let gw = Gateway::start_with(
        move |c| {
            c.discovery.enabled = true;
            c.discovery.interfaces = vec!["lo".into()];
            c.site.name = n;
            c.site.id = Some(i);
        },
        RunOptions::default(),
    )
    .await;
    let fp = fingerprint_of_state(&gw.state_dir());
    let wanted = name.clone();
    let mut peer = tokio::task::spawn_blocking(move || {
        let args = [
            "--interface",
            "127.0.0.1",
            "--instance",
            &wanted,
            "--tls",
            "--timeout",
            "120",
        ];
        let mut p = zeroconf_browser(None, &args);
        let found = p.next_event("found", Duration::from_secs(30));
        (p, found)
    });
    let (mut zc, found) = (&mut peer).await.expect("peer");
    assert_eq!(found["name"], format!("{name}.{SERVICE}"));
    assert_eq!(found["port"], gw.https.port());
    assert_eq!(found["addresses"], serde_json::json!(["127.0.0.1"]));
    assert_txt(&found, &id, &name, &fp);

    // The staff see it advertising, and how to set a headset up by hand.
    let (_, _, token) = gw.admin_session().await;
    let (s, status) = gw.get("/api/status", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    let d = &status["discovery"];
    assert_eq!(d["state"], "advertising", "{status}");
    assert_eq!(d["instance"], name.as_str());
    assert_eq!(d["service_type"], SERVICE);
    assert_eq!(d["port"], gw.https.port());
    assert_eq!(
        d["interfaces"],
        serde_json::json!([{"name": "lo", "addrs": ["127.0.0.1"]}])
    );
    let (s, info) = gw.get("/api/gateway/info", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{info}");
    let url = format!("https://127.0.0.1:{}", gw.https.port());
    assert_eq!(info["urls"], serde_json::json!([url]));
    assert_eq!(info["fingerprint"], fp);
    assert_eq!(info["gateway_id"], id);
    assert_eq!(info["setup_url"], format!("{url}/?fp={fp}"));
    assert!(info["qr_svg"].as_str().unwrap().contains("<svg"), "{info}");
    assert_eq!(info["fingerprint_hex"].as_str().unwrap().len(), 32 * 3 - 1);

    gw.stop().await;
    let removed = tokio::task::spawn_blocking(move || {
        let v = zc.next_event("removed", Duration::from_secs(10));
        (zc, v)
    })
    .await
    .expect("peer")
    .1;
    assert_eq!(removed["name"], format!("{name}.{SERVICE}"));
}

#[tokio::test]
async fn discovery_off_or_without_an_interface_shows_in_the_status_and_the_gateway_stays_ready() {
    // Off (the harness default).
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let (_, status) = gw.get("/api/status", Some(&token)).await;
    assert_eq!(status["discovery"]["state"], "disabled", "{status}");
    gw.stop().await;

    // On, but no such interface: nothing to announce on. Readiness is not the network's business.
    let gw = Gateway::start_with(
        |c| {
            c.discovery.enabled = true;
            c.discovery.interfaces = vec!["nosuchif0".into()];
        },
        RunOptions::default(),
    )
    .await;
    let (_, _, token) = gw.admin_session().await;
    let mut state = Value::Null;
    for _ in 0..100 {
        let (_, status) = gw.get("/api/status", Some(&token)).await;
        state = status["discovery"].clone();
        if state["state"] != "starting" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state["state"], "no_interface", "{state}");
    assert!(state["detail"].as_str().unwrap().contains("interface"), "{state}");
    let r = gw.client.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    gw.stop().await;
}

#[tokio::test]
async fn gateway_info_is_for_staff_only() {
    let gw = Gateway::start().await;
    let (s, body) = gw.get("/api/gateway/info", None).await;
    common::assert_problem(s, &body, 401, "unauthenticated");
    gw.stop().await;
}

/// The realistic case: the real binary in one namespace, python-zeroconf in another, a veth
/// between them; then a new address, SIGTERM and the goodbye.
#[test]
fn a_zeroconf_peer_in_another_namespace_finds_the_gateway_over_veth_follows_its_addresses_and_sees_its_goodbye()
 {
    let test = "a_zeroconf_peer_in_another_namespace_finds_the_gateway_over_veth_follows_its_addresses_and_sees_its_goodbye";
    if !netns::available(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = NetPair::create();
    let name = unique("Namespace site ünïcode");
    let id = format!("gw-ns-{}", std::process::id());
    let state = dir.path().join("state");
    let config = dir.path().join("sitegate.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = {state:?}\n[site]\nname = {name:?}\nid = {id:?}\n\
             [server]\nlisten = \"0.0.0.0:8443\"\nkiosk_listen = \"off\"\n\
             [discovery]\nenabled = true\ninterfaces = [{veth:?}]\n",
            state = state.display().to_string(),
            veth = net.veth_a,
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_sitegate");
    let cfg = config.display().to_string();

    let mut browser = zeroconf_browser(Some(&net.b), &["--instance", &name, "--tls", "--timeout", "120"]);
    let mut gateway = Proc::start(
        "sitegate serve",
        &NetPair::exec(&net.a, &[bin, "--config", &cfg, "serve"]),
    );
    let found = browser.next_event("found", Duration::from_secs(40));
    let fp = fingerprint_of_state(&state);
    assert_eq!(found["name"], format!("{name}.{SERVICE}"), "{found}");
    assert_eq!(found["port"], 8443);
    assert_eq!(
        found["addresses"],
        serde_json::json!([net.addr_a.to_string()]),
        "only the veth's address, no loopback"
    );
    assert_txt(&found, &id, &name, &fp);

    // Our own browser, the reference headset client, finds it too.
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &net.b,
            bin,
            "headset",
            "discover",
            "--timeout",
            "4",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&name), "{text}");
    assert!(text.contains(&format!("addresses: {}", net.addr_a)), "{text}");
    assert!(text.contains(&format!("fp:        {fp}")), "{text}");
    assert!(text.contains(&format!("id:        {id}")), "{text}");

    // `sitegate info` on the box, with the gateway running, shows the same facts.
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &net.a, bin, "--config", &cfg, "info"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("URL:          https://{}:8443", net.addr_a)),
        "{text}"
    );
    assert!(
        text.contains(&format!("https://{}:8443/?fp={fp}", net.addr_a)),
        "{text}"
    );
    assert!(text.contains('█'), "a QR is drawn: {text}");

    // A new address on the interface is announced without a restart.
    let extra = std::net::Ipv4Addr::new(
        net.addr_a.octets()[0],
        net.addr_a.octets()[1],
        net.addr_a.octets()[2],
        3,
    );
    let out = std::process::Command::new("ip")
        .args([
            "-n",
            &net.a,
            "addr",
            "add",
            &format!("{extra}/24"),
            "dev",
            &net.veth_a,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let extra_s = extra.to_string();
    let updated = browser.next_matching(
        "updated",
        |v| {
            v["addresses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == extra_s.as_str()))
        },
        Duration::from_secs(30),
    );
    assert!(
        updated["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == net.addr_a.to_string().as_str()),
        "{updated}"
    );

    let status = gateway.terminate(Duration::from_secs(20));
    assert!(
        status.success(),
        "gateway exit {status:?}\n{}",
        gateway.transcript()
    );
    let removed = browser.next_event("removed", Duration::from_secs(10));
    assert_eq!(removed["name"], format!("{name}.{SERVICE}"));
    assert!(
        gateway.stderr().contains("goodbye sent"),
        "{}",
        gateway.transcript()
    );

    // Gone for our browser too: it says so and exits 1.
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &net.b,
            bin,
            "headset",
            "discover",
            "--timeout",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no gateway found"), "{err}");

    // `sitegate info` needs no running gateway.
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &net.a, bin, "--config", &cfg, "info"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("Fingerprint:  {fp}")));
}

#[test]
fn sitegate_info_without_a_certificate_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sitegate"))
        .arg("--state-dir")
        .arg(dir.path())
        .arg("info")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certificate") && err.contains("sitegate serve"),
        "{err}"
    );
}

#[tokio::test]
async fn a_second_gateway_with_the_same_site_name_is_renamed_and_both_are_found() {
    let name = unique("Twin site");
    let start = |id: &'static str| {
        let n = name.clone();
        Gateway::start_with(
            move |c| {
                c.discovery.enabled = true;
                c.discovery.interfaces = vec!["lo".into()];
                c.site.name = n;
                c.site.id = Some(id.into());
            },
            RunOptions::default(),
        )
    };
    let first = start("gw-twin-1").await;
    let wanted = name.clone();
    let (zc, found) = tokio::task::spawn_blocking(move || {
        let mut p = zeroconf_browser(None, &["--interface", "127.0.0.1", "--timeout", "120"]);
        let f = p.next_matching(
            "found",
            |v| v["name"] == format!("{wanted}.{SERVICE}"),
            Duration::from_secs(30),
        );
        (p, f)
    })
    .await
    .unwrap();
    assert_eq!(found["properties"]["id"], "gw-twin-1");

    let second = start("gw-twin-2").await;
    let renamed = format!("{name} (2)");
    let want = format!("{renamed}.{SERVICE}");
    let (zc, found) = tokio::task::spawn_blocking(move || {
        let mut zc = zc;
        let f = zc.next_matching("found", |v| v["name"] == want, Duration::from_secs(30));
        (zc, f)
    })
    .await
    .unwrap();
    assert_eq!(found["properties"]["id"], "gw-twin-2");
    assert_eq!(
        found["properties"]["site"],
        name.as_str(),
        "the TXT keeps the real site name"
    );
    drop(zc);

    let (_, _, token) = second.admin_session().await;
    let mut instance = Value::Null;
    for _ in 0..100 {
        let (_, status) = second.get("/api/status", Some(&token)).await;
        instance = status["discovery"]["instance"].clone();
        if instance == renamed.as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(instance, renamed.as_str(), "the staff see the name headsets see");
    second.stop().await;
    first.stop().await;
}
