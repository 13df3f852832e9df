//! The HTTP spine: health, readiness, the OpenAPI document, TLS certificate and fingerprint, headers, errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, assert_problem};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness_answer_on_both_listeners() {
    let gw = Gateway::start().await;
    let (s, body) = gw.get("/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (s, body) = gw.get("/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["status"], "ready");
    let kiosk = reqwest::get(gw.kiosk_url("/readyz")).await.unwrap();
    assert_eq!(kiosk.status(), StatusCode::OK);
    gw.stop().await;
}

#[tokio::test]
async fn self_signed_certificate_is_kept_and_its_fingerprint_served() {
    let gw = Gateway::start().await;
    let (id, pin, token) = gw.admin_session().await;
    let (s, status) = gw.get("/api/status", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    let fp = status["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fp.len(), 43);
    // The fingerprint is SHA-256 of the certificate kept in the state directory.
    let pem = std::fs::read(gw.state_dir().join("tls/cert.pem")).unwrap();
    let der = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(sitegate::http::tls::Fingerprint::of_der(&der).base64url(), fp);
    // A restart reuses the certificate, the key file and the stored PIN tag.
    let dir = gw.stop().await;
    let gw = Gateway::start_in(dir, |_| {}, Default::default()).await;
    let token = gw.sign_in(&id, &pin).await;
    let (_, again) = gw.get("/api/status", Some(&token)).await;
    assert_eq!(again["fingerprint"], fp);
    gw.stop().await;
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_api() {
    let gw = Gateway::start().await;
    let res = reqwest::get(format!("http://{}/healthz", gw.https)).await;
    assert!(res.is_err() || res.unwrap().status() != StatusCode::OK);
    gw.stop().await;
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_declares_problem_answers() {
    let gw = Gateway::start().await;
    let (s, doc) = gw.get("/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/api/auth/sign-in",
        "/api/auth/bootstrap",
        "/api/users",
        "/api/users/{id}",
        "/api/modules",
        "/api/assignments",
        "/api/units",
        "/api/status",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the document");
    }
    let problem_answers = paths
        .values()
        .flat_map(|ops| ops.as_object().unwrap().values())
        .flat_map(|op| op["responses"].as_object().unwrap().iter())
        .filter(|(code, _)| code.starts_with('4') || code.starts_with('5'))
        .collect::<Vec<_>>();
    assert!(!problem_answers.is_empty());
    for (code, resp) in problem_answers {
        assert!(
            resp["content"]["application/problem+json"].is_object(),
            "{code} is not problem+json: {resp}"
        );
    }
    // Two answer types with one schema name would leave one route documented with the other's
    // fields: each answer's schema must name the fields its route sends.
    let fields_of = |path: &str| {
        let schema = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        let name = schema["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: no $ref"))
            .rsplit('/')
            .next()
            .unwrap();
        let props = doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap()
            .clone();
        props.keys().cloned().collect::<Vec<_>>()
    };
    assert!(fields_of("/api/classes/{id}").contains(&"counts".to_string()));
    assert!(fields_of("/api/headset/roster").contains(&"participants".to_string()));
    gw.stop().await;
}

#[tokio::test]
async fn security_headers_and_unknown_paths() {
    let gw = Gateway::start().await;
    let res = gw.client.get(gw.url("/api/nothing-here")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/problem+json");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.contains_key("strict-transport-security"));
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let body: Value = res.json().await.unwrap();
    assert_problem(StatusCode::NOT_FOUND, &body, 404, "not_found");
    gw.stop().await;
}
