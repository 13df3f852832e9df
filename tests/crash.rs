//! Crash safety: a gateway killed with SIGKILL in the middle of concurrent writes keeps every write it
//! acknowledged, and its outbox holds exactly one `user.created` event per stored user, numbered
//! without gaps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

const BIN: &str = env!("CARGO_BIN_EXE_sitegate");
/// Kill-and-restart rounds (at least 20).
const ROUNDS: usize = 30;
/// Concurrent writers per round.
const WRITERS: usize = 4;

/// The binary with an environment that holds no stray sitegate settings.
fn sitegate(config: &Path, state: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && (k.starts_with("SITEGATE_") || k == "STATE_DIRECTORY")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("SITEGATE_LOG", "warn")
        .stdin(Stdio::null())
        .arg("--config")
        .arg(config)
        .arg("--state-dir")
        .arg(state);
    cmd
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn client() -> reqwest::Client {
    sitegate::http::tls::install_crypto_provider();
    reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One `sitegate serve` child process.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Site {
    tmp: tempfile::TempDir,
    config: PathBuf,
    state: PathBuf,
    starts: usize,
}

impl Site {
    fn new() -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("sitegate.toml");
        std::fs::write(
            &config,
            "[site]\nname = \"Crash test\"\n\n[server]\nkiosk_listen = \"off\"\n\n[discovery]\nenabled = false\n",
        )
        .unwrap();
        let state = tmp.path().join("state");
        Site {
            tmp,
            config,
            state,
            starts: 0,
        }
    }

    /// Start serve on a fresh free port and wait for /readyz; retries when the port was taken meanwhile.
    async fn start(&mut self, http: &reqwest::Client) -> Server {
        for _ in 0..5 {
            self.starts += 1;
            let port = free_port();
            let log = self.tmp.path().join(format!("serve-{}.log", self.starts));
            let child = sitegate(&self.config, &self.state)
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .stdout(Stdio::null())
                .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
                .spawn()
                .unwrap();
            let mut server = Server {
                child,
                base: format!("https://127.0.0.1:{port}"),
                log,
            };
            let started = Instant::now();
            loop {
                if let Some(status) = server.child.try_wait().unwrap() {
                    let text = server.log_text();
                    if text.contains("cannot listen") {
                        break; // someone took the port: another one
                    }
                    panic!("serve exited with {status} before it was ready:\n{text}");
                }
                if let Ok(r) = http.get(server.url("/readyz")).send().await
                    && r.status() == StatusCode::OK
                {
                    return server;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "serve not ready within 30 s:\n{}",
                    server.log_text()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("could not start serve on a free port");
    }
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn sign_in(http: &reqwest::Client, server: &Server, id: &str, pin: &str) -> String {
    let (s, body) = post(
        http,
        server.url("/api/auth/sign-in"),
        None,
        json!({"user_id": id, "pin": pin}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// Every user ID the running gateway lists, page by page.
async fn listed_ids(http: &reqwest::Client, server: &Server, token: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = server.url("/api/users?limit=500");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let res = http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.unwrap();
        for u in page["users"].as_array().unwrap() {
            ids.insert(u["id"].as_str().unwrap().to_string());
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return ids,
        }
    }
}

#[derive(Default)]
struct Tally {
    acked: Vec<String>,
    /// HTTP answers other than 201 while the gateway was up (should be none).
    unexpected: Vec<(u16, String)>,
    /// Requests that broke before the kill began (should be none).
    early_breaks: Vec<String>,
    transport_errors: usize,
    unauthorized: bool,
}

/// POST users as fast as possible until the gateway dies under the requests.
async fn writer(
    http: reqwest::Client,
    url: String,
    token: String,
    killing: Arc<AtomicBool>,
    n: usize,
    round: usize,
) -> Tally {
    let mut tally = Tally::default();
    let mut i = 0usize;
    loop {
        i += 1;
        let body =
            json!({"given_name": format!("Crash{round}"), "family_name": format!("Writer {n} no {i}")});
        let res = match http.post(&url).bearer_auth(&token).json(&body).send().await {
            Ok(r) => r,
            Err(e) => {
                // The gateway died under us: nothing more to do this round.
                tally.transport_errors += 1;
                if !killing.load(Ordering::SeqCst) {
                    tally.early_breaks.push(e.to_string());
                }
                break;
            }
        };
        let status = res.status();
        let text = match res.text().await {
            Ok(t) => t,
            Err(e) => {
                // Headers came but the body did not: not an acknowledgement we can check.
                tally.transport_errors += 1;
                if !killing.load(Ordering::SeqCst) {
                    tally.early_breaks.push(e.to_string());
                }
                break;
            }
        };
        match status {
            StatusCode::CREATED => {
                let v: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("201 body {text:?}: {e}"));
                tally.acked.push(
                    v["id"]
                        .as_str()
                        .unwrap_or_else(|| panic!("201 without id: {text}"))
                        .to_string(),
                );
            }
            StatusCode::UNAUTHORIZED => {
                tally.unauthorized = true;
                break;
            }
            other => tally.unexpected.push((other.as_u16(), text)),
        }
    }
    tally
}

/// What the writers of all rounds saw.
#[derive(Default)]
struct Totals {
    acked: BTreeSet<String>,
    unexpected: Vec<(u16, String)>,
    early_breaks: Vec<String>,
    broken: usize,
}

/// Start the writers against `server`; the flag is to be set just before the gateway is stopped.
fn spawn_writers(server: &Server, token: &str, round: usize) -> (JoinSet<Tally>, Arc<AtomicBool>) {
    // Fresh connections to this round's gateway.
    let http = client();
    let stopping = Arc::new(AtomicBool::new(false));
    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        writers.spawn(writer(
            http.clone(),
            server.url("/api/users"),
            token.to_string(),
            stopping.clone(),
            n,
            round,
        ));
    }
    (writers, stopping)
}

/// Wait for the writers (they end when the gateway is gone) and add up what they saw. Returns
/// (writes acknowledged in this round, whether a writer got a 401).
async fn collect(mut writers: JoinSet<Tally>, totals: &mut Totals) -> (usize, bool) {
    let mut round_acked = 0;
    let mut unauthorized = false;
    let joined = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(t) = writers.join_next().await {
            let t = t.unwrap();
            round_acked += t.acked.len();
            totals.broken += t.transport_errors;
            totals.early_breaks.extend(t.early_breaks);
            totals.unexpected.extend(t.unexpected);
            unauthorized |= t.unauthorized;
            for id in t.acked {
                assert!(
                    totals.acked.insert(id.clone()),
                    "the same ID {id} was acknowledged twice"
                );
            }
        }
    })
    .await;
    assert!(joined.is_ok(), "writers did not finish after the gateway stopped");
    (round_acked, unauthorized)
}

/// SIGTERM, then the exit status and how long the stop took.
fn terminate(server: &mut Server) -> (ExitStatus, f64) {
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let stopping = Instant::now();
    let status = wait_timeout(&mut server.child, Duration::from_secs(20)).expect("serve stops on SIGTERM");
    (status, stopping.elapsed().as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_and_the_outbox_matches() {
    let started = Instant::now();
    let http = client();
    let mut site = Site::new();
    let mut server = site.start(&http).await;

    // A staff session, the way a technician makes one: init through the CLI (it reaches the socket).
    let out = sitegate(&site.config, &site.state)
        .args(["init", "--given-name", "Ada", "--family-name", "Admin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let admin_id = stdout.split_whitespace().nth(2).unwrap().to_string();
    let code = stdout
        .lines()
        .find_map(|l| l.strip_prefix("One-time bootstrap code: "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .trim()
        .to_string();
    let (s, body) = post(
        &http,
        server.url("/api/auth/bootstrap"),
        None,
        json!({"user_id": admin_id, "code": code}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let pin = body["pin"].as_str().unwrap().to_string();
    let mut token = sign_in(&http, &server, &admin_id, &pin).await;

    let mut totals = Totals::default();
    let mut sign_ins = 1usize;
    for round in 1..=ROUNDS {
        let (writers, stopping) = spawn_writers(&server, &token, round);
        let delay = rand::random_range(50..=300u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        stopping.store(true, Ordering::SeqCst);
        server.child.kill().unwrap(); // SIGKILL
        let status = server.child.wait().unwrap();
        assert!(!status.success(), "killed, not exited: {status}");
        let (_, unauthorized) = collect(writers, &mut totals).await;

        drop(std::mem::replace(&mut server, site.start(&http).await));
        let me = http
            .get(server.url("/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        if unauthorized || me == StatusCode::UNAUTHORIZED {
            token = sign_in(&http, &server, &admin_id, &pin).await;
            sign_ins += 1;
        } else {
            assert_eq!(me, StatusCode::OK, "the stored session survives a restart");
        }

        let present = listed_ids(&http, &server, &token).await;
        let lost: Vec<&String> = totals.acked.iter().filter(|id| !present.contains(*id)).collect();
        assert!(
            lost.is_empty(),
            "round {round} (killed after {delay} ms): {} acknowledged users are gone, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        // Spot-check a few records themselves.
        for id in totals.acked.iter().rev().take(3) {
            let res = http
                .get(server.url(&format!("/api/users/{id}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "GET /api/users/{id}");
        }
    }
    assert!(
        totals.acked.len() >= ROUNDS,
        "only {} writes acknowledged in {ROUNDS} rounds: is POST /api/users working?",
        totals.acked.len()
    );

    // Last, a clean stop (SIGTERM) under the same load: quick, exit 0, socket removed.
    let (writers, stopping) = spawn_writers(&server, &token, ROUNDS + 1);
    tokio::time::sleep(Duration::from_millis(rand::random_range(50..=300u64))).await;
    stopping.store(true, Ordering::SeqCst);
    let (status, stop_secs) = terminate(&mut server);
    let (last_acked, _) = collect(writers, &mut totals).await;
    assert!(
        status.success(),
        "SIGTERM is a clean stop: {status}\n{}",
        server.log_text()
    );
    assert!(stop_secs < 5.0, "SIGTERM under load took {stop_secs:.1} s");
    assert!(
        !site.state.join("sitegate.sock").exists(),
        "the socket is removed on a clean stop"
    );
    drop(server);
    assert!(
        totals.unexpected.is_empty(),
        "answers other than 201 while the gateway was up: {:?}",
        totals.unexpected
    );
    assert!(
        totals.early_breaks.is_empty(),
        "requests failed before any stop: {:?}",
        totals.early_breaks
    );
    let acked = &totals.acked;

    let store = sitegate::store::Store::open(&site.state.join("sitegate.redb")).unwrap();
    let events = store
        .read_blocking(|tx| sitegate::store::outbox::list_events(tx, 0, usize::MAX))
        .unwrap();
    let last_seq = store.read_blocking(sitegate::store::outbox::last_seq).unwrap();
    let users = store
        .read_blocking(|tx| sitegate::store::users::list_users(tx, None, usize::MAX))
        .unwrap();
    // The store and the outbox hold IDs in canonical form (`ABCDEFGHJK`); the API shows them grouped.
    let canonical = |shown: &str| {
        sitegate::domain::ids::UserId::parse(shown)
            .unwrap()
            .as_str()
            .to_string()
    };
    let stored: BTreeSet<String> = users.iter().map(|u| u.id.as_str().to_string()).collect();
    assert_eq!(stored.len(), users.len());

    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let want: Vec<u64> = (1..=events.len() as u64).collect();
    assert!(
        seqs == want,
        "outbox sequence numbers are not 1..={} without gaps",
        events.len()
    );
    assert_eq!(
        last_seq,
        events.len() as u64,
        "the recorded last sequence number matches the outbox"
    );

    let created: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "user.created")
        .map(|e| {
            e.payload["user"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{:?}", e.payload))
                .to_string()
        })
        .collect();
    let created_set: BTreeSet<String> = created.iter().cloned().collect();
    assert_eq!(
        created.len(),
        created_set.len(),
        "one user.created event per user, not more"
    );
    let without_event: Vec<&String> = stored.difference(&created_set).collect();
    let without_user: Vec<&String> = created_set.difference(&stored).collect();
    assert!(
        without_event.is_empty(),
        "stored users without a user.created event: {without_event:?}"
    );
    assert!(
        without_user.is_empty(),
        "user.created events for users not stored: {without_user:?}"
    );
    let acked_canonical: BTreeSet<String> = acked.iter().map(|id| canonical(id)).collect();
    assert_eq!(acked_canonical.len(), acked.len());
    let missing: Vec<&String> = acked_canonical.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "acknowledged users missing from the store: {missing:?}"
    );

    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "crash test: {ROUNDS} SIGKILL rounds, {} acknowledged writes, {} users stored ({} written but \
             unacknowledged), {} outbox events, {} sign-ins, {} broken requests; clean stop under load in {:.2} s \
             ({} writes acknowledged meanwhile); {:.1} s in all",
            acked.len(),
            stored.len(),
            stored.len().saturating_sub(acked.len() + 1),
            events.len(),
            sign_ins,
            totals.broken,
            stop_secs,
            last_acked,
            started.elapsed().as_secs_f64()
        );
    }
}
