//! `GET /metrics` read by a parser that is not ours (Python's `prometheus_client`, both its
//! OpenMetrics and its Prometheus text parsers): served on the loopback kiosk listener only,
//! requests by route template and status, logins by kind and outcome, printer faults, print jobs
//! by state, outbox, store size and commit times, throttling, mDNS, sync and the build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Gateway;
use common::printer::refused_port;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::config::PrinterConfig;

/// Parses stdin with both of prometheus_client's parsers (they must agree on the families) and
/// prints the OpenMetrics parse as JSON: {family: {type, samples: [[name, labels, value]]}}.
const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as prom
text = sys.stdin.read()
out = {}
for f in om(text):
    out[f.name] = {"type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]}
classic = {f.name for f in prom(text)}
missing = [n for n in out if n not in classic and n + "_total" not in classic]
if missing:
    sys.exit("the Prometheus text parser did not see: %s" % missing)
print(json.dumps(out))
"#;

fn parse(text: &str) -> Value {
    let mut child = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (scripts/install-test-deps installs it)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'prometheus_client'"),
        "prometheus_client is missing: run scripts/install-test-deps"
    );
    assert!(
        out.status.success(),
        "the parser refused the metrics: {stderr}\n{text}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The samples of `family` named `sample` whose labels include every pair of `labels`.
fn values(m: &Value, family: &str, sample: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    let f = &m[family];
    assert!(!f.is_null(), "no family {family} in {m}");
    f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[0] == sample)
        .filter(|s| labels.iter().all(|(k, v)| s[1][k] == *v))
        .map(|s| s[2].as_f64().unwrap())
        .collect()
}

fn one(m: &Value, family: &str, sample: &str, labels: &[(&str, &str)]) -> f64 {
    let v = values(m, family, sample, labels);
    assert_eq!(v.len(), 1, "{family} {sample} {labels:?}: {v:?} in {}", m[family]);
    v[0]
}

async fn scrape(gw: &Gateway) -> (String, Value) {
    let res = gw.client.get(gw.kiosk_url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = res.text().await.unwrap();
    let parsed = tokio::task::spawn_blocking({
        let text = text.clone();
        move || parse(&text)
    })
    .await
    .unwrap();
    (text, parsed)
}

#[tokio::test]
async fn metrics_on_the_kiosk_listener_parse_and_count_what_happened() {
    let refused = refused_port().await;
    let gw = Gateway::start_with(
        move |c| {
            c.printing.printers = vec![PrinterConfig {
                name: "gate".into(),
                url: format!("tcp://{refused}"),
                profile: "epson-tm-t20iii".into(),
            }];
            c.printing.connect_timeout_secs = 1;
            c.printing.retry_base_secs = 1;
        },
        RunOptions::default(),
    )
    .await;
    // Not on the LAN side, signed in or not.
    let (_, _, token) = gw.admin_session().await;
    let (s, _) = gw.get("/metrics", Some(&token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no metrics on HTTPS");

    let user = gw
        .create_user(
            &token,
            json!({"given_name": "Zofia", "family_name": "Łukasiewicz"}),
        )
        .await;
    let id = user["id"].as_str().unwrap().to_owned();
    let (s, _) = gw.get(&format!("/api/users/{id}"), Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = gw.get("/api/users/NOPE0-NOPE0", Some(&token)).await;
    assert!(s.is_client_error());
    let (s, _) = gw.get("/no/such/page/12345", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = gw
        .post("/api/auth/sign-in", None, json!({"user_id": id, "pin": "000000"}))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = gw
        .post(&format!("/api/users/{id}/badge"), Some(&token), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    // A first scrape, which the next one counts.
    scrape(&gw).await;
    // The refused printer shows as a fault once the queue has tried.
    let mut parsed = Value::Null;
    let mut text = String::new();
    for _ in 0..100 {
        (text, parsed) = scrape(&gw).await;
        if !values(
            &parsed,
            "sitegate_printer_faults",
            "sitegate_printer_faults_total",
            &[],
        )
        .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = &parsed;
    assert!(
        one(
            m,
            "sitegate_printer_faults",
            "sitegate_printer_faults_total",
            &[("printer", "gate"), ("fault", "refused")]
        ) >= 1.0,
        "{text}"
    );

    // Requests by route template, never by raw path.
    assert_eq!(m["sitegate_http_requests"]["type"], "counter");
    let users_ok = one(
        m,
        "sitegate_http_requests",
        "sitegate_http_requests_total",
        &[
            ("route", "/api/users/{id}"),
            ("method", "GET"),
            ("status", "200"),
            ("listener", "https"),
        ],
    );
    assert_eq!(users_ok, 1.0);
    assert!(!text.contains(&id), "a user ID in the metrics: {text}");
    assert!(!text.contains("NOPE0"), "a raw path in the metrics");
    assert!(!text.contains("12345"), "a raw path in the metrics");
    assert_eq!(
        one(
            m,
            "sitegate_http_requests",
            "sitegate_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        2.0,
        "the random path and /metrics asked on HTTPS: one series for both"
    );
    assert!(
        one(
            m,
            "sitegate_http_requests",
            "sitegate_http_requests_total",
            &[("route", "/readyz"), ("status", "200")]
        ) >= 1.0
    );
    assert_eq!(m["sitegate_http_request_duration_seconds"]["type"], "histogram");
    let buckets = values(
        m,
        "sitegate_http_request_duration_seconds",
        "sitegate_http_request_duration_seconds_bucket",
        &[("route", "/api/users/{id}"), ("status", "200")],
    );
    assert!(buckets.len() >= 10, "{buckets:?}");
    assert_eq!(*buckets.last().unwrap(), 1.0, "+Inf holds the one request");
    // The scrape itself is counted on the kiosk listener (from the second scrape on).
    assert!(
        one(
            m,
            "sitegate_http_requests",
            "sitegate_http_requests_total",
            &[("route", "/metrics"), ("listener", "kiosk")]
        ) >= 1.0
    );

    // Logins by kind and outcome: the admin's sign-in, the wrong PIN.
    assert!(
        one(
            m,
            "sitegate_logins",
            "sitegate_logins_total",
            &[("kind", "pin"), ("outcome", "success"), ("source", "address")]
        ) >= 1.0
    );
    assert_eq!(
        one(
            m,
            "sitegate_logins",
            "sitegate_logins_total",
            &[("kind", "pin"), ("outcome", "failure")]
        ),
        1.0
    );
    assert_eq!(
        one(
            m,
            "sitegate_throttle_site_failures",
            "sitegate_throttle_site_failures",
            &[]
        ),
        1.0
    );
    assert_eq!(
        one(
            m,
            "sitegate_throttle_suspended",
            "sitegate_throttle_suspended",
            &[]
        ),
        0.0
    );
    assert!(
        one(
            m,
            "sitegate_throttle_site_limit",
            "sitegate_throttle_site_limit",
            &[]
        ) >= 1.0
    );

    // Print jobs by state, every state named.
    for state in ["queued", "printing", "printed", "failed"] {
        values(
            m,
            "sitegate_print_jobs",
            "sitegate_print_jobs",
            &[("state", state)],
        );
    }
    let open: f64 = ["queued", "printing", "failed"]
        .iter()
        .map(|st| one(m, "sitegate_print_jobs", "sitegate_print_jobs", &[("state", st)]))
        .sum();
    assert_eq!(open, 1.0, "the badge's job is waiting on the refused printer");
    assert_eq!(
        one(
            m,
            "sitegate_printer_up",
            "sitegate_printer_up",
            &[("printer", "gate"), ("profile", "epson-tm-t20iii")]
        ),
        1.0
    );

    // Outbox, store, mDNS, sync, tasks, build.
    assert!(
        one(m, "sitegate_outbox_events", "sitegate_outbox_events", &[]) >= 1.0,
        "the new user waits for central"
    );
    assert!(
        one(
            m,
            "sitegate_outbox_oldest_age_seconds",
            "sitegate_outbox_oldest_age_seconds",
            &[]
        ) >= 0.0
    );
    assert!(one(m, "sitegate_store_size_bytes", "sitegate_store_size_bytes", &[]) > 0.0);
    assert!(
        one(
            m,
            "sitegate_store_commit_duration_seconds",
            "sitegate_store_commit_duration_seconds_count",
            &[]
        ) >= 3.0,
        "commits were timed"
    );
    assert_eq!(
        one(
            m,
            "sitegate_mdns_state",
            "sitegate_mdns_state",
            &[("state", "disabled")]
        ),
        1.0
    );
    assert_eq!(
        one(m, "sitegate_mdns_interfaces", "sitegate_mdns_interfaces", &[]),
        0.0
    );
    assert_eq!(
        one(
            m,
            "sitegate_sync_state",
            "sitegate_sync_state",
            &[("state", "standalone")]
        ),
        1.0
    );
    assert_eq!(one(m, "sitegate_tasks_dead", "sitegate_tasks_dead", &[]), 0.0);
    assert_eq!(
        one(
            m,
            "sitegate_build_info",
            "sitegate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    gw.stop().await;
}
