//! Test harness: starts the real gateway through `sitegate::run` on 127.0.0.1:0 and talks HTTPS to it.
#![allow(dead_code)]

pub mod printer;
pub mod skip;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::config::Config;
use sitegate::{Listeners, RunOptions, StartError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Gateway {
    pub https: SocketAddr,
    pub kiosk: SocketAddr,
    pub config: Config,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), StartError>>>,
}

pub fn test_config(state_dir: PathBuf) -> Config {
    let mut config = Config {
        state_dir: Some(state_dir),
        ..Default::default()
    };
    config.discovery.enabled = false;
    config.site.name = "Test site".into();
    config
}

/// A reqwest client that trusts the gateway's self-signed certificate.
pub fn client() -> reqwest::Client {
    sitegate::http::tls::install_crypto_provider();
    reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

impl Gateway {
    pub async fn start() -> Gateway {
        Gateway::start_with(|_| {}, RunOptions::default()).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config), options: RunOptions) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        Gateway::start_in(dir, adjust, options).await
    }

    /// Start on an existing state directory (restarts).
    pub async fn start_in(
        dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut Config),
        options: RunOptions,
    ) -> Gateway {
        sitegate::http::tls::install_crypto_provider();
        let mut config = test_config(dir.path().join("state"));
        adjust(&mut config);
        let https = TcpListener::bind("127.0.0.1:0").await.expect("bind https");
        let kiosk = TcpListener::bind("127.0.0.1:0").await.expect("bind kiosk");
        let (https_addr, kiosk_addr) = (https.local_addr().unwrap(), kiosk.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let run_config = config.clone();
        #[allow(clippy::disallowed_methods)]
        let handle = tokio::spawn(async move {
            sitegate::run(
                run_config,
                Listeners {
                    https,
                    kiosk: Some(kiosk),
                },
                options,
                async move {
                    let _ = stopped.await;
                },
            )
            .await
        });
        let gw = Gateway {
            https: https_addr,
            kiosk: kiosk_addr,
            config,
            dir,
            client: client(),
            stop: Some(stop),
            handle: Some(handle),
        };
        gw.wait_ready().await;
        gw
    }

    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("gateway did not become ready");
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{}", self.https, path)
    }

    pub fn kiosk_url(&self, path: &str) -> String {
        format!("http://{}{}", self.kiosk, path)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.config.state_dir()
    }

    /// Stop the gateway and wait for it; returns the state directory for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(30), h)
                .await
                .expect("gateway stops in time")
                .expect("join")
                .expect("run ended cleanly");
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Run a technician command the way the CLI does (through the running gateway's socket).
    pub async fn admin(
        &self,
        req: sitegate::service::admin::AdminRequest,
    ) -> sitegate::service::admin::AdminResponse {
        sitegate::cli::admin(&self.config, req)
            .await
            .expect("admin command")
    }

    /// Make the first admin with `init`, redeem the code, sign in; returns (user id, PIN, bearer token).
    pub async fn admin_session(&self) -> (String, String, String) {
        use sitegate::domain::user::NewUserInput;
        use sitegate::service::admin::{AdminRequest, AdminResponse};
        let resp = self
            .admin(AdminRequest::Init {
                input: NewUserInput {
                    given_name: "Ada".into(),
                    family_name: "Admin".into(),
                    ..Default::default()
                },
            })
            .await;
        let AdminResponse::Bootstrap(b) = resp else {
            panic!("init answered {resp:?}")
        };
        let id = b.user.id.to_string();
        let (s, body) = self
            .post(
                "/api/auth/bootstrap",
                None,
                json!({"user_id": id, "code": b.code}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let pin = body["pin"].as_str().expect("pin").to_string();
        let token = self.sign_in(&id, &pin).await;
        (id, pin, token)
    }

    pub async fn sign_in(&self, id: &str, pin: &str) -> String {
        let (s, body) = self
            .post("/api/auth/sign-in", None, json!({"user_id": id, "pin": pin}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token for a script").to_string()
    }

    /// Create a user through the API as a manager; returns the body.
    pub async fn create_user(&self, token: &str, body: Value) -> Value {
        let (s, out) = self.post("/api/users", Some(token), body).await;
        assert_eq!(s, StatusCode::CREATED, "{out}");
        out
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Assert a problem+json answer with a code.
pub fn assert_problem(status: StatusCode, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status.as_u16(), want_status, "body: {body}");
    assert_eq!(body["code"], want_code, "body: {body}");
    assert_eq!(body["status"], want_status, "body: {body}");
}

/// Split RFC 4180 text into rows of cells.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "rows end in CRLF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(cell.is_empty() && row.is_empty(), "the last row ends in CRLF");
    rows
}

/// Plant dead letters in the store of `state_dir` before a gateway starts there, the way a push
/// leaves one: an outbox event numbered as usual, taken out of the outbox, kept with the central
/// system's reason, all at `at`. Returns their sequence numbers.
pub fn plant_dead_letters(
    state_dir: &std::path::Path,
    at: time::OffsetDateTime,
    letters: &[(&str, &str)],
) -> Vec<u64> {
    use sitegate::store::{StoreError, outbox, sync};
    sitegate::make_state_dir(state_dir).expect("state dir");
    let store = sitegate::open_store(state_dir).expect("store");
    let letters: Vec<(String, String)> = letters
        .iter()
        .map(|(k, r)| (k.to_string(), r.to_string()))
        .collect();
    store
        .write_blocking(move |tx| {
            let now = at;
            let mut seqs = Vec::new();
            for (kind, reason) in &letters {
                let payload = json!({"user": {"id": "ABCDEFGHJK", "given_name": "Planted"}});
                let seq = outbox::append_event(tx, kind, payload, now)?;
                let event = outbox::get_event(tx, seq)?.expect("just written");
                outbox::remove_event(tx, seq)?;
                sync::put_dead_letter(
                    tx,
                    &sync::DeadLetter {
                        event,
                        reason: reason.clone(),
                        at: now,
                    },
                )?;
                seqs.push(seq);
            }
            Ok::<_, StoreError>(seqs)
        })
        .expect("plant dead letters")
}

/// The central site a planted joined state names.
pub const PLANTED_CENTRAL_URL: &str = "https://central.example.test";
pub const PLANTED_SITE_NAME: &str = "Northgate HQ";

/// Plant in the store of `state_dir`, before a gateway starts there, the sync's state as a join
/// and a few cycles leave it: joined to [`PLANTED_SITE_NAME`] (no credential file, so nothing
/// is fetched), then `adjust` sets the results (last pull and push, the last fault, the clock
/// offset, a refused credential). With `leased`, a capped central link of that name holding a
/// lease (granted, used) is planted too; its id is returned.
pub fn plant_joined_sync(
    state_dir: &std::path::Path,
    at: time::OffsetDateTime,
    adjust: impl FnOnce(&mut sitegate::store::sync::SyncState),
    leased: Option<(&str, u32, u32)>,
) -> Option<uuid::Uuid> {
    use sitegate::domain::link::{AccessLink, LinkInput};
    use sitegate::store::sync::{CentralEntry, JoinedSite, Lease};
    use sitegate::store::{StoreError, links, sync};
    sitegate::make_state_dir(state_dir).expect("state dir");
    let store = sitegate::open_store(state_dir).expect("store");
    let leased = leased.map(|(name, granted, used)| (name.to_string(), granted, used));
    store
        .write_blocking(move |tx| {
            let mut state = sync::get_state(tx)?;
            state.joined = Some(JoinedSite {
                url: PLANTED_CENTRAL_URL.into(),
                site_id: uuid::Uuid::now_v7(),
                site_name: PLANTED_SITE_NAME.into(),
                central_public_key: sitegate::sync::seal::KeyPair::generate().public_b64(),
                joined_at: at - time::Duration::days(3),
            });
            state.epoch = Some("planted-epoch".into());
            adjust(&mut state);
            sync::put_state(tx, &state)?;
            let Some((name, granted, used)) = leased else {
                return Ok::<_, StoreError>(None);
            };
            let id = uuid::Uuid::now_v7();
            let link = AccessLink::new(
                id,
                // 32 bytes, base64url: the shape of a real link token.
                "UGxhbnRlZENlbnRyYWxMaW5rVG9rZW4wMDAwMDAwMDA".into(),
                LinkInput {
                    name,
                    cap: Some(granted.max(1) * 4),
                    ..Default::default()
                },
                at - time::Duration::days(3),
            )
            .expect("a valid link");
            links::put_link(tx, &link)?;
            sync::put_central(
                tx,
                "link",
                &id.to_string(),
                &CentralEntry {
                    local: id.to_string(),
                    version: 1,
                    generation: state.generation,
                    deleted: false,
                },
            )?;
            sync::put_lease(
                tx,
                id,
                &Lease {
                    granted,
                    consumed: used,
                },
            )?;
            Ok(Some(id))
        })
        .expect("plant the sync's state")
}

/// Plant one event waiting in the outbox, made at `at`, before a gateway starts there.
pub fn plant_pending_event(state_dir: &std::path::Path, at: time::OffsetDateTime) -> u64 {
    use sitegate::store::{StoreError, outbox};
    sitegate::make_state_dir(state_dir).expect("state dir");
    let store = sitegate::open_store(state_dir).expect("store");
    store
        .write_blocking(move |tx| -> Result<u64, StoreError> {
            let payload = json!({"user": {"id": "ABCDEFGHJM", "given_name": "Waiting"}});
            outbox::append_event(tx, "user.updated", payload, at)
        })
        .expect("plant an outbox event")
}
