//! Shared helpers of the test central's own tests: start one, a client that trusts its certificate, a gateway identity that joins it.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use sitegate::sync::seal::KeyPair;
use sitegate::sync::test_central::{TestCentral, TestCentralOptions};
use uuid::Uuid;

pub async fn central() -> TestCentral {
    TestCentral::start(TestCentralOptions::default())
        .await
        .expect("start the test central")
}

/// A client that trusts only the central's own certificate (as a CA pin).
pub fn client_for(central: &TestCentral) -> reqwest::Client {
    let pem = central.cert_pem().expect("TLS");
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("PEM"))
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(40))
        .tls_info(true)
        .build()
        .expect("client")
}

/// A gateway as the central system sees it: an ID, a key pair, and once joined a credential.
pub struct Gw {
    pub id: Uuid,
    pub keys: KeyPair,
    pub credential: String,
    pub http: reqwest::Client,
    pub url: String,
}

impl Gw {
    pub async fn join(central: &TestCentral) -> Gw {
        let http = client_for(central);
        let id = Uuid::now_v7();
        let keys = KeyPair::generate();
        let answer: Value = http
            .post(format!("{}/v1/gateways/join", central.url()))
            .json(&join_body(&central.site_token(), id, &keys))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        Gw {
            id,
            keys,
            credential: answer["credential"].as_str().unwrap().to_string(),
            http,
            url: central.url(),
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.credential)
    }

    pub fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.credential)
            .json(body)
    }

    /// `GET /v1/changes` with a query; (status, body).
    pub async fn changes(&self, query: &str) -> (u16, Value) {
        let r = self.get(&format!("/v1/changes?{query}")).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// Every change from no cursor to the end, page by page; (changes, last page).
    pub async fn pull_all(&self, limit: u32) -> (Vec<Value>, Value) {
        let mut all = Vec::new();
        let (status, mut page) = self.changes(&format!("limit={limit}")).await;
        assert_eq!(status, 200, "{page}");
        loop {
            all.extend(page["changes"].as_array().unwrap().iter().cloned());
            if !page["has_more"].as_bool().unwrap() {
                return (all, page);
            }
            let q = format!(
                "limit={limit}&cursor={}&epoch={}",
                page["cursor"].as_str().unwrap(),
                page["epoch"].as_str().unwrap()
            );
            let (status, next) = self.changes(&q).await;
            assert_eq!(status, 200, "{next}");
            page = next;
        }
    }

    pub async fn push(&self, events: Vec<Value>) -> (u16, Value) {
        let r = self
            .post("/v1/events", &json!({ "gateway_id": self.id, "events": events }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn lease(&self, link: &str, consumed: u32, want_free: u32) -> (u16, Value) {
        let r = self
            .post(
                "/v1/leases",
                &json!({ "link_id": link, "consumed": consumed, "want_free": want_free }),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

pub fn join_body(token: &str, id: Uuid, keys: &KeyPair) -> Value {
    json!({
        "site_token": token, "gateway_id": id, "gateway_name": "Box 1 — Søren's site",
        "public_key": keys.public_b64(), "software": "0.1.0",
    })
}

/// A site event as a gateway's outbox sends it.
pub fn event(seq: u64, kind: &str, data: Value) -> Value {
    json!({ "seq": seq, "event_id": Uuid::now_v7(), "kind": kind, "occurred_at": "2026-03-01T10:00:00Z", "data": data })
}

/// `user.created` as `service::users` writes it (`data.user` is the site's user record).
pub fn user_created(seq: u64, site_id: &str, given: &str) -> Value {
    event(
        seq,
        "user.created",
        json!({ "user": {
            "id": site_id, "name": { "given": given, "family": "Ødegård" }, "email": "ana@example.com",
            "phone": null, "employer": null, "language": "pt", "role": "trainee", "access_level": "full",
            "status": "active", "groups": [], "sites": [], "regions": [], "terms": null,
            "created_via": "kiosk", "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T10:00:00Z",
            "central_version": null,
        }}),
    )
}

pub fn group(name: &str) -> Value {
    json!({ "name": name })
}

pub fn link(cap: Option<u32>) -> Value {
    json!({ "token": "tok-AAAAAAAAAAAAAAAAAAAAAA", "name": "Spring intake", "cap": cap, "active": true,
            "created_at": "2026-03-01T10:00:00Z" })
}

pub fn uuid() -> String {
    Uuid::now_v7().to_string()
}
