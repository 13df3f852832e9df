//! Store and start-up benchmarks of sitegate, each figure beside the machine's own limit measured
//! the same way: a raw redb get beside `get_user`, a raw `write + fsync` and a raw redb commit beside
//! `Services::create_user`, a raw redb open beside the gateway's start.
//!
//! `cargo bench --bench store` runs everything (a few minutes on 2 cores); `scripts/bench-store` also
//! measures the idle RSS of the release binary. `cargo test --benches` (no `--bench` flag) runs a
//! small smoke version instead. docs/benchmarks.md explains the figures.
//!
//! Everything is written under `<target>/tmp/sitegate-bench/` (a real disk, never tmpfs):
//! `state/` is the 100k-user state directory the start-up benchmarks and `scripts/bench-store` use, and
//! `summary.md` is the table printed at the end.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods // tokio::spawn of `sitegate::run`, as tests/common does
)]

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::hint::black_box;
use std::net::TcpListener as StdListener;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode};
use rand::seq::SliceRandom;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TypeName, Value};
use sitegate::clock::SystemClock;
use sitegate::config::Config;
use sitegate::domain::ids::UserId;
use sitegate::domain::user::NewUserInput;
use sitegate::keys::Keys;
use sitegate::service::{Actor, Services};
use sitegate::store::{self, Store};
use sitegate::{DB_FILE, Listeners, RunOptions};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// Goals from the product brief.
const GOAL_IMPORT_SECS: f64 = 5.0;
const GOAL_START_MS: f64 = 300.0;

/// How big a run is: the real one, or the smoke check `cargo test --benches` runs.
struct Scale {
    users: usize,
    batch: usize,
    import_runs: usize,
    start_runs: usize,
    root: PathBuf,
}

impl Scale {
    fn new(full: bool) -> Scale {
        let env = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        if full {
            Scale {
                users: env("BENCH_USERS", 100_000),
                batch: env("BENCH_BATCH", 1_000).max(1),
                import_runs: env("BENCH_IMPORT_RUNS", 2).max(1),
                start_runs: env("BENCH_START_RUNS", 10).max(1),
                root: tmp.join("sitegate-bench"),
            }
        } else {
            Scale {
                users: 600,
                batch: 200,
                import_runs: 1,
                start_runs: 1,
                root: tmp.join("sitegate-bench-smoke"),
            }
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// The USERS table read as raw bytes: same table, same key, no copy and no JSON decode. The type
/// name must match sitegate's `Versioned<User>` for redb to open the table.
#[derive(Debug)]
struct RawUser;

impl Value for RawUser {
    type SelfType<'a> = &'a [u8];
    type AsBytes<'a> = &'a [u8];

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
    where
        Self: 'a,
    {
        data
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> &'a [u8]
    where
        Self: 'b,
    {
        value
    }

    fn type_name() -> TypeName {
        TypeName::new("sitegate::user")
    }
}

const RAW_USERS: TableDefinition<&str, RawUser> = TableDefinition::new("users");
const RAW_BLOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("blobs");

fn services(store: Store) -> Services {
    let settings = sitegate::site_settings(&Config::default());
    Services::new(
        store,
        Arc::new(SystemClock),
        Arc::new(Keys::for_tests()),
        settings,
    )
}

/// A plausible trainee: names, a unique email, a phone for every other one, employer, language.
fn person(i: usize) -> NewUserInput {
    const GIVEN: [&str; 8] = [
        "Ada", "Bartosz", "Chiara", "Dmitri", "Esra", "Fatima", "Gonçalo", "Hana",
    ];
    const FAMILY: [&str; 8] = [
        "Okafor", "Nowak", "Rossi", "Ivanov", "Yılmaz", "Haddad", "Pereira", "Sato",
    ];
    const LANGS: [&str; 4] = ["en", "pl", "pt-br", "es"];
    NewUserInput {
        given_name: GIVEN[i % 8].into(),
        family_name: format!("{}-{}", FAMILY[(i / 8) % 8], i),
        email: Some(format!("trainee{i}@contractor{}.example.com", i % 50)),
        phone: i.is_multiple_of(2).then(|| format!("+1 {i:010}")),
        employer: Some(format!("Contractor {} Scaffolding Ltd", i % 50)),
        language: Some(LANGS[i % 4].into()),
        role: None,
        access_level: None,
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn fresh_dir(dir: &Path) {
    if dir.exists() {
        fs::remove_dir_all(dir).unwrap();
    }
    fs::create_dir_all(dir).unwrap();
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn min_med_max(v: &[Duration]) -> (Duration, Duration, Duration) {
    let mut s = v.to_vec();
    s.sort();
    (s[0], s[s.len() / 2], s[s.len() - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Write back, then drop the file's pages from the page cache (posix_fadvise DONTNEED through
/// GNU dd), so the next open reads from the disk. Returns whether both steps worked.
fn evict_from_page_cache(path: &Path) -> bool {
    let synced = Command::new("sync").arg(path).status().is_ok_and(|s| s.success());
    let dropped = Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["iflag=nocache", "count=0", "status=none"])
        .status()
        .is_ok_and(|s| s.success());
    synced && dropped
}

/// Resident share of a file in the page cache, from util-linux `fincore`, for the report.
fn resident_share(path: &Path) -> Option<String> {
    let out = Command::new("fincore")
        .args(["--bytes", "--noheadings", "-o", "RES,SIZE"])
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    let (res, size) = (it.next()??, it.next()??);
    Some(format!("{:.0} %", 100.0 * res / size.max(1.0)))
}

/// CPU time (user + system) this process has used so far, from /proc/self/stat (clock ticks of
/// 10 ms on Linux): beside wall time it shows whether a run waited (disk, or other processes).
fn cpu_time() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_comm
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based, as in proc(5)).
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The 1-minute load average, to show how busy the machine was.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn https_client() -> reqwest::Client {
    sitegate::http::tls::install_crypto_provider();
    reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(0) // no idle connection may hold up the graceful stop
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Ask `/readyz` until it answers 200. A request sent before the listener serves either waits
/// in the accept queue (bound listener) or is refused and retried 1 ms later (process not bound yet).
async fn wait_ready(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status() == reqwest::StatusCode::OK
        {
            return;
        }
        assert!(Instant::now() < deadline, "gateway not ready at {url} after 60 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Import

struct ImportRun {
    total: Duration,
    cpu: Duration,
    batches: Vec<Duration>,
}

/// Import `scale.users` users into a new database in `state_dir` (in memory when `None`),
/// `scale.batch` per `import_users` call. Times only the imports (inputs are made first).
fn import_into(rt: &Runtime, scale: &Scale, state_dir: Option<&Path>) -> ImportRun {
    let store = match state_dir {
        Some(dir) => {
            fresh_dir(dir);
            sitegate::open_store(dir).unwrap()
        }
        None => Store::open_in_memory().unwrap(),
    };
    let svc = services(store);
    let mut pending: Vec<Vec<NewUserInput>> = (0..scale.users)
        .collect::<Vec<_>>()
        .chunks(scale.batch)
        .map(|chunk| chunk.iter().map(|&i| person(i)).collect())
        .collect();
    pending.reverse();
    let mut batches = Vec::with_capacity(pending.len());
    let cpu_start = cpu_time();
    let start = Instant::now();
    while let Some(batch) = pending.pop() {
        let n = batch.len();
        let t = Instant::now();
        let created = rt.block_on(svc.import_users(Actor::Cli, batch)).unwrap();
        batches.push(t.elapsed());
        assert_eq!(created.len(), n);
    }
    let total = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_start);
    let count = svc.store.read_blocking(store::users::count_users).unwrap();
    assert_eq!(count, scale.users as u64);
    ImportRun { total, cpu, batches }
}

// ---------------------------------------------------------------------------------------------
// Start-up

#[derive(Default, Clone, Copy)]
struct Phases {
    open: Duration,
    first_read: Duration,
    keys: Duration,
    tls: Duration,
    raw_open_get: Duration,
}

impl Phases {
    fn total(&self) -> Duration {
        self.open + self.first_read + self.keys + self.tls
    }
}

/// The blocking part of `sitegate::run` phase by phase, and a raw redb open + get of the same file.
fn start_phases(state_dir: &Path, some_id: &UserId, evict: bool) -> Phases {
    let db_path = state_dir.join(DB_FILE);
    let config = Config {
        state_dir: Some(state_dir.to_path_buf()),
        ..Config::default()
    };
    sitegate::http::tls::install_crypto_provider();
    let mut p = Phases::default();

    if evict {
        evict_from_page_cache(&db_path);
    }
    let t = Instant::now();
    {
        let db = redb::Database::open(&db_path).unwrap();
        let tx = db.begin_read().unwrap();
        let table = tx.open_table(RAW_USERS).unwrap();
        let len = table.get(some_id.as_str()).unwrap().map(|g| g.value().len());
        black_box(len.unwrap());
    }
    p.raw_open_get = t.elapsed();

    if evict {
        evict_from_page_cache(&db_path);
    }
    let t = Instant::now();
    let store = sitegate::open_store(state_dir).unwrap();
    p.open = t.elapsed();
    let t = Instant::now();
    let gw = store.gateway_id().unwrap();
    let n = store.read_blocking(store::users::count_users).unwrap();
    let user = store
        .read_blocking(|tx| store::users::get_user(tx, some_id))
        .unwrap();
    p.first_read = t.elapsed();
    black_box((gw, n, user.unwrap()));
    let t = Instant::now();
    let keys = Keys::load_or_create(&config.key_file()).unwrap();
    p.keys = t.elapsed();
    let t = Instant::now();
    let tls = sitegate::http::tls::load_or_create(None, None, state_dir, &[]).unwrap();
    p.tls = t.elapsed();
    black_box((keys, tls.fingerprint.base64url()));
    drop(store);
    p
}

/// One in-process start: `sitegate::run` on listeners bound to 127.0.0.1:0 (discovery off, as in
/// the tests), timed from the call to the first `/readyz` 200, then a clean stop (not timed).
async fn run_to_ready(state_dir: &Path, client: &reqwest::Client) -> Duration {
    let mut config = Config {
        state_dir: Some(state_dir.to_path_buf()),
        ..Config::default()
    };
    config.discovery.enabled = false;
    let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let kiosk = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/readyz", https.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listeners = Listeners {
        https,
        kiosk: Some(kiosk),
    };
    let start = Instant::now();
    let handle = tokio::spawn(Box::pin(sitegate::run(
        config,
        listeners,
        RunOptions::default(),
        async move {
            let _ = stopped.await;
        },
    )));
    wait_ready(client, &url).await;
    let elapsed = start.elapsed();
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("gateway stops within 30 s")
        .expect("run task joined")
        .expect("run ended cleanly");
    elapsed
}

/// One start of the release binary: `sitegate serve` (default configuration but for the
/// addresses) from spawn to the first `/readyz` 200, then SIGTERM: a clean stop, so the database
/// needs no repair at the next start.
async fn binary_to_ready(state_dir: &Path, client: &reqwest::Client, log: &Path) -> Duration {
    binary_start(state_dir, client, log, false).await
}

/// Start the release binary, wait until ready, then stop it: SIGTERM (clean), or SIGKILL (a power
/// cut as far as the database is concerned). Returns the time from spawn to ready.
async fn binary_start(state_dir: &Path, client: &reqwest::Client, log: &Path, crash: bool) -> Duration {
    // A free port found by binding :0 can be taken by another process before sitegate binds it
    // (the machine runs other test suites); such a start exits at once and is tried again.
    let mut attempt = 0;
    let (mut child, elapsed) = loop {
        attempt += 1;
        let (https, kiosk) = (free_port(), free_port());
        let url = format!("https://127.0.0.1:{https}/readyz");
        let log = OpenOptions::new().create(true).append(true).open(log).unwrap();
        let start = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sitegate"))
            .arg("--state-dir")
            .arg(state_dir)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{https}"),
                "--kiosk-listen",
            ])
            .arg(format!("127.0.0.1:{kiosk}"))
            .env_remove("SITEGATE_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = loop {
            if let Ok(r) = client.get(&url).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                break true;
            }
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    attempt < 5,
                    "sitegate serve exited before ready ({status}), 5 times"
                );
                break false;
            }
            assert!(
                Instant::now() < deadline,
                "sitegate serve not ready at {url} after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        if ready {
            break (child, start.elapsed());
        }
    };
    let signal = if crash { "-KILL" } else { "-TERM" };
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(crash || status.success(), "sitegate serve exited with {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sitegate serve did not stop within 30 s of {signal}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    elapsed
}

// ---------------------------------------------------------------------------------------------
// Criterion results

fn criterion_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("..")
        .join("criterion")
}

/// Median and mean (ns) of a criterion benchmark, from its `estimates.json`.
fn estimate(group: &str, id: &str) -> Option<(f64, f64)> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    Some((
        v["median"]["point_estimate"].as_f64()?,
        v["mean"]["point_estimate"].as_f64()?,
    ))
}

fn criterion(sample_size: usize, warm_up: Duration, measure: Duration) -> Criterion {
    Criterion::default()
        .output_directory(&criterion_dir())
        .without_plots()
        .sample_size(sample_size)
        .warm_up_time(warm_up)
        .measurement_time(measure)
        .nresamples(20_000)
        .configure_from_args()
}

// ---------------------------------------------------------------------------------------------

/// VmRSS of this process, KiB.
fn own_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Child-process probe: open the database as `Store::open` does (redb's default cache) or with
/// the given cache size in MiB, read every user once, and print the RSS before and after (KiB).
fn rss_probe(db: &Path, cache_mib: Option<usize>) {
    let before = own_rss_kib();
    let mut builder = redb::Database::builder();
    if let Some(m) = cache_mib {
        builder.set_cache_size(m * 1024 * 1024);
    }
    let db = builder.open(db).unwrap();
    let opened = own_rss_kib();
    let tx = db.begin_read().unwrap();
    let table = tx.open_table(RAW_USERS).unwrap();
    let mut bytes = 0usize;
    for row in table.iter().unwrap() {
        bytes += row.unwrap().1.value().len();
    }
    black_box(bytes);
    drop(table);
    drop(tx);
    println!("{before} {opened} {}", own_rss_kib());
}

/// Run [`rss_probe`] in a fresh copy of this executable; returns (before, opened, after) KiB.
fn rss_probe_child(db: &Path, cache_mib: Option<usize>) -> Option<(u64, u64, u64)> {
    let exe = std::env::current_exe().ok()?;
    let cache = cache_mib.map_or("default".to_string(), |m| m.to_string());
    let out = Command::new(exe)
        .arg("--rss-probe")
        .arg(db)
        .arg(cache)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let v: Vec<u64> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    (v.len() == 3).then(|| (v[0], v[1], v[2]))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-probe") {
        let db = PathBuf::from(&args[i + 1]);
        rss_probe(&db, args.get(i + 2).and_then(|c| c.parse().ok()));
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let test = args.iter().any(|a| a == "--test");
    if !bench || test {
        // `cargo test --benches` (perhaps with libtest flags criterion does not know): a quick smoke run.
        smoke();
        return;
    }
    full();
}

/// A small run of every part, checking they work; no criterion, no figures kept.
fn smoke() {
    let scale = Scale::new(false);
    let rt = runtime();
    fresh_dir(&scale.root);
    let run = import_into(&rt, &scale, Some(&scale.state_dir()));
    import_into(&rt, &scale, None);
    assert_eq!(run.batches.len(), scale.users.div_ceil(scale.batch));
    let id = {
        let store = sitegate::open_store(&scale.state_dir()).unwrap();
        let svc = services(store.clone());
        let ids = store
            .read_blocking(|tx| store::users::list_users(tx, None, 1))
            .unwrap();
        let user = rt
            .block_on(svc.create_user(Actor::Cli, person(scale.users + 1), Vec::new()))
            .unwrap();
        assert!(
            store
                .read_blocking(|tx| store::users::get_user(tx, &user.id))
                .unwrap()
                .is_some()
        );
        ids[0].id.clone()
    };
    let phases = start_phases(&scale.state_dir(), &id, false);
    assert!(phases.total() > Duration::ZERO);
    let client = https_client();
    rt.block_on(run_to_ready(&scale.state_dir(), &client));
    fs::remove_dir_all(&scale.root).unwrap();
    println!("benches/store: smoke run passed (run `cargo bench --bench store` for figures)");
}

fn full() {
    let scale = Scale::new(true);
    let rt = runtime();
    let t_all = Instant::now();
    let load_before = load_average();
    fresh_dir(&scale.root);
    let state = scale.state_dir();
    let db_path = state.join(DB_FILE);
    let mut summary = String::new();
    println!(
        "sitegate benchmarks: {} users, batches of {}, {} import run(s), {} start run(s); files in {}",
        scale.users,
        scale.batch,
        scale.import_runs,
        scale.start_runs,
        scale.root.display()
    );

    // ---- Import: the first run builds the state directory every other benchmark uses.
    let mut imports = Vec::new();
    for run in 0..scale.import_runs {
        let dir = if run == 0 {
            state.clone()
        } else {
            scale.root.join("scratch-import")
        };
        let r = import_into(&rt, &scale, Some(&dir));
        println!(
            "import run {}: {} users in {:.2} s (CPU {:.2} s; {:.0} users/s); batch median {:.1} ms, first {:.1} ms, last {:.1} ms",
            run + 1,
            scale.users,
            r.total.as_secs_f64(),
            r.cpu.as_secs_f64(),
            scale.users as f64 / r.total.as_secs_f64(),
            ms(median(&r.batches)),
            ms(r.batches[0]),
            ms(*r.batches.last().unwrap())
        );
        if run > 0 {
            fs::remove_dir_all(&dir).unwrap();
        }
        imports.push(r);
    }
    // The same import into an in-memory redb: no file, no fsync. What remains is CPU.
    let in_memory = import_into(&rt, &scale, None);
    println!(
        "import into an in-memory store: {:.2} s (CPU {:.2} s)",
        in_memory.total.as_secs_f64(),
        in_memory.cpu.as_secs_f64()
    );
    if std::env::var("BENCH_ONLY").is_ok_and(|v| v == "import") {
        return;
    }
    let db_size = fs::metadata(&db_path).unwrap().len();
    println!("database with {} users: {:.1} MiB", scale.users, mib(db_size));

    // ---- Lookups.
    let store = sitegate::open_store(&state).unwrap();
    let mut ids: Vec<UserId> = store
        .read_blocking(|tx| {
            let t = tx.open_table(RAW_USERS)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                out.push(UserId::from_canonical(row?.0.value().to_string()));
            }
            Ok(out)
        })
        .unwrap();
    assert_eq!(ids.len(), scale.users);
    ids.shuffle(&mut rand::rng());
    let some_id = ids[0].clone();
    {
        let mut c = criterion(30, Duration::from_secs(1), Duration::from_secs(2));
        let mut g = c.benchmark_group("lookup_100k");
        let mut i = 0usize;
        let mut next = || {
            i = (i + 1) % ids.len();
            &ids[i]
        };
        g.bench_function("get_user", |b| {
            b.iter(|| {
                let id = next();
                store
                    .read_blocking(|tx| store::users::get_user(tx, id))
                    .unwrap()
                    .unwrap()
            })
        });
        g.bench_function("raw_redb_get", |b| {
            b.iter(|| {
                let id = next();
                let tx = store.database().begin_read().unwrap();
                let t = tx.open_table(RAW_USERS).unwrap();
                let len = t.get(id.as_str()).unwrap().map(|g| g.value().len());
                len.unwrap()
            })
        });
        g.bench_function("get_user_async", |b| {
            b.iter(|| {
                let id = next().clone();
                rt.block_on(store.read(move |tx| store::users::get_user(tx, &id)))
                    .unwrap()
                    .unwrap()
            })
        });
        g.finish();
    }
    drop(store);

    // ---- Durable writes, on a copy of the 100k store (the fixture stays at exactly 100k users).
    let write_dir = scale.root.join("scratch-write");
    fresh_dir(&write_dir);
    fs::copy(&db_path, write_dir.join(DB_FILE)).unwrap();
    {
        let store = sitegate::open_store(&write_dir).unwrap();
        let svc = services(store);
        let raw_db = redb::Database::create(write_dir.join("raw.redb")).unwrap();
        let payload = vec![0x5au8; 1536];
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(write_dir.join("fsync.bin"))
            .unwrap();
        let block = vec![0xa5u8; 4096];
        file.write_all_at(&block, 0).unwrap();
        file.sync_all().unwrap();

        let mut c = criterion(20, Duration::from_secs(1), Duration::from_secs(3));
        let mut g = c.benchmark_group("durable_write");
        g.sampling_mode(SamplingMode::Flat);
        let mut k = 10 * scale.users;
        g.bench_function("create_user", |b| {
            b.iter_batched(
                || {
                    k += 1;
                    person(k)
                },
                |input| {
                    rt.block_on(svc.create_user(Actor::Cli, input, Vec::new()))
                        .unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        let mut seq = 0u64;
        g.bench_function("raw_redb_commit", |b| {
            b.iter(|| {
                seq += 1;
                let tx = raw_db.begin_write().unwrap();
                tx.open_table(RAW_BLOBS)
                    .unwrap()
                    .insert(seq, payload.as_slice())
                    .unwrap();
                tx.commit().unwrap();
            })
        });
        g.bench_function("raw_write_fsync", |b| {
            b.iter(|| {
                file.write_all_at(&block, 0).unwrap();
                file.sync_all().unwrap();
            })
        });
        g.bench_function("raw_write_fdatasync", |b| {
            b.iter(|| {
                file.write_all_at(&block, 0).unwrap();
                file.sync_data().unwrap();
            })
        });
        g.finish();
    }
    fs::remove_dir_all(&write_dir).unwrap();

    // ---- Start-up. The first start ever creates the key file and the self-signed certificate.
    let client = https_client();
    let first_start = rt.block_on(run_to_ready(&state, &client));
    println!(
        "first start (creates key file and certificate): {:.1} ms",
        ms(first_start)
    );
    let mut warm = Vec::new();
    let mut cold = Vec::new();
    for _ in 0..scale.start_runs {
        warm.push(start_phases(&state, &some_id, false));
        cold.push(start_phases(&state, &some_id, true));
    }
    let cold_resident = {
        evict_from_page_cache(&db_path);
        resident_share(&db_path)
    };
    {
        let mut c = criterion(10, Duration::from_millis(500), Duration::from_secs(3));
        let mut g = c.benchmark_group("startup");
        g.sampling_mode(SamplingMode::Flat);
        g.bench_function("run_to_ready", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rt.block_on(run_to_ready(&state, &client));
                }
                total
            })
        });
        g.finish();
    }
    let mut run_cold = Vec::new();
    for _ in 0..scale.start_runs {
        evict_from_page_cache(&db_path);
        run_cold.push(rt.block_on(run_to_ready(&state, &client)));
    }
    let log = scale.root.join("serve.log");
    let mut bin_warm = Vec::new();
    let mut bin_cold = Vec::new();
    for _ in 0..scale.start_runs {
        bin_warm.push(rt.block_on(binary_to_ready(&state, &client, &log)));
        evict_from_page_cache(&db_path);
        bin_cold.push(rt.block_on(binary_to_ready(&state, &client, &log)));
    }

    // ---- Start after an unclean stop: SIGKILL leaves the database marked as needing recovery,
    // and the next open repairs it before anything can be served.
    let crash_dir = scale.root.join("scratch-crash");
    fresh_dir(&crash_dir);
    fs::copy(&db_path, crash_dir.join(DB_FILE)).unwrap();
    rt.block_on(binary_start(&crash_dir, &client, &log, true));
    let t = Instant::now();
    let repaired = sitegate::open_store(&crash_dir).unwrap();
    let repair_open = t.elapsed();
    drop(repaired);
    let t = Instant::now();
    let reopened = sitegate::open_store(&crash_dir).unwrap();
    let clean_reopen = t.elapsed();
    drop(reopened);
    rt.block_on(binary_start(&crash_dir, &client, &log, true));
    let repair_to_ready = rt.block_on(run_to_ready(&crash_dir, &client));
    fs::remove_dir_all(&crash_dir).unwrap();
    println!(
        "after SIGKILL: open_store {:.1} ms (clean reopen {:.1} ms); in-process start to ready {:.1} ms",
        ms(repair_open),
        ms(clean_reopen),
        ms(repair_to_ready)
    );

    // ---- Memory of reading every user once: redb's default read cache vs a bounded one.
    let probe_default = rss_probe_child(&db_path, None);
    let probe_bounded = rss_probe_child(&db_path, Some(16));

    // ---- Summary.
    let get = estimate("lookup_100k", "get_user");
    let raw_get = estimate("lookup_100k", "raw_redb_get");
    let get_async = estimate("lookup_100k", "get_user_async");
    let create = estimate("durable_write", "create_user");
    let raw_commit = estimate("durable_write", "raw_redb_commit");
    let fsync = estimate("durable_write", "raw_write_fsync");
    let fdatasync = estimate("durable_write", "raw_write_fdatasync");
    let run_warm = estimate("startup", "run_to_ready");
    let ns = |e: Option<(f64, f64)>, unit: f64, prec: usize| {
        e.map_or_else(
            || "n/a".to_string(),
            |(med, _)| format!("{:.*}", prec, med / unit),
        )
    };
    let (imp_min, imp_med, imp_max) = min_med_max(&imports.iter().map(|r| r.total).collect::<Vec<_>>());
    let all_batches: Vec<Duration> = imports.iter().flat_map(|r| r.batches.iter().copied()).collect();
    let n_batches = scale.users.div_ceil(scale.batch);
    let commit_floor_s = raw_commit.map(|(m, _)| m * n_batches as f64 / 1e9);
    let per_user_us = us(imp_med) / scale.users as f64;
    let imp_cpu = median(&imports.iter().map(|r| r.cpu).collect::<Vec<_>>());
    let met = |ok: bool| if ok { "yes" } else { "**no**" };
    let stat = |v: &[Duration]| {
        let (a, b, c) = min_med_max(v);
        format!("{:.1} / {:.1} / {:.1}", ms(a), ms(b), ms(c))
    };
    let phase_line = |name: &str, v: &[Phases], f: &dyn Fn(&Phases) -> Duration| {
        let d: Vec<Duration> = v.iter().map(f).collect();
        format!("| {name} | {} |\n", stat(&d))
    };

    let _ = writeln!(summary, "### Figures ({} users)\n", scale.users);
    let _ = writeln!(
        summary,
        "| Benchmark | sitegate (median) | Machine limit, same method (median) | Goal | Met |"
    );
    let _ = writeln!(summary, "|---|---|---|---|---|");
    let _ = writeln!(
        summary,
        "| User lookup by ID, read tx + `get_user` | {} µs (via `Store::read` on the blocking pool: {} µs) | raw redb get, read tx + same key, no decode: {} µs | — | — |",
        ns(get, 1e3, 2),
        ns(get_async, 1e3, 2),
        ns(raw_get, 1e3, 2)
    );
    let _ = writeln!(
        summary,
        "| One durable write, `Services::create_user` | {} ms | raw redb 1-row commit: {} ms; 4 KiB write + `sync_all`: {} ms; + `sync_data`: {} ms | — | — |",
        ns(create, 1e6, 2),
        ns(raw_commit, 1e6, 2),
        ns(fsync, 1e6, 2),
        ns(fdatasync, 1e6, 2)
    );
    let _ = writeln!(
        summary,
        "| Import {} users, {} per `import_users` ({} commits) | {:.2} s (min {:.2}, max {:.2}, {} run(s)); process CPU {:.2} s; {:.1} µs/user; batch median {:.1} ms | {} commits × raw redb commit = {} s; the same import into an in-memory redb (no disk at all): {:.2} s, CPU {:.2} s | < {GOAL_IMPORT_SECS} s | {} |",
        scale.users,
        scale.batch,
        n_batches,
        imp_med.as_secs_f64(),
        imp_min.as_secs_f64(),
        imp_max.as_secs_f64(),
        imports.len(),
        imp_cpu.as_secs_f64(),
        per_user_us,
        ms(median(&all_batches)),
        n_batches,
        commit_floor_s.map_or("n/a".into(), |s| format!("{s:.2}")),
        in_memory.total.as_secs_f64(),
        in_memory.cpu.as_secs_f64(),
        met(imp_med.as_secs_f64() < GOAL_IMPORT_SECS)
    );
    let run_warm_ms = run_warm.map(|(m, _)| m / 1e6);
    let run_cold_ms = ms(median(&run_cold));
    let bin_warm_ms = ms(median(&bin_warm));
    let bin_cold_ms = ms(median(&bin_cold));
    let raw_open_warm = ms(median(&warm.iter().map(|p| p.raw_open_get).collect::<Vec<_>>()));
    let raw_open_cold = ms(median(&cold.iter().map(|p| p.raw_open_get).collect::<Vec<_>>()));
    let _ = writeln!(
        summary,
        "| Start to ready, in process (`sitegate::run` → `/readyz` 200), page cache warm | {} ms | raw redb open + 1 get of the same file: {:.2} ms | < {GOAL_START_MS} ms | {} |",
        run_warm_ms.map_or("n/a".into(), |m| format!("{m:.1}")),
        raw_open_warm,
        met(run_warm_ms.is_some_and(|m| m < GOAL_START_MS))
    );
    let _ = writeln!(
        summary,
        "| Start to ready, in process, database evicted from page cache | {:.1} ms | raw redb open + 1 get, evicted: {:.2} ms | < {GOAL_START_MS} ms | {} |",
        run_cold_ms,
        raw_open_cold,
        met(run_cold_ms < GOAL_START_MS)
    );
    let _ = writeln!(
        summary,
        "| Start to ready, release binary (`sitegate serve` spawn → `/readyz` 200), page cache warm | {:.1} ms | — | < {GOAL_START_MS} ms | {} |",
        bin_warm_ms,
        met(bin_warm_ms < GOAL_START_MS)
    );
    let _ = writeln!(
        summary,
        "| Start to ready, release binary, database evicted from page cache | {:.1} ms | — | < {GOAL_START_MS} ms | {} |",
        bin_cold_ms,
        met(bin_cold_ms < GOAL_START_MS)
    );
    let _ = writeln!(summary);
    let _ = writeln!(
        summary,
        "Database file: {:.1} MiB for {} users. First start ever (creates key file and self-signed certificate): {:.1} ms. \
         After eviction {} of the database file was still in the page cache.\n",
        mib(db_size),
        scale.users,
        ms(first_start),
        cold_resident.unwrap_or_else(|| "an unknown share".into())
    );
    let _ = writeln!(
        summary,
        "Start phases, min / median / max over {} runs, ms (page cache warm):\n",
        scale.start_runs
    );
    let _ = writeln!(summary, "| Phase | ms |\n|---|---|");
    summary += &phase_line("`open_store` (redb open + migration check)", &warm, &|p| p.open);
    summary += &phase_line("first reads (gateway ID, user count, one user)", &warm, &|p| {
        p.first_read
    });
    summary += &phase_line("`Keys::load_or_create`", &warm, &|p| p.keys);
    summary += &phase_line(
        "`tls::load_or_create` (reuse the self-signed pair)",
        &warm,
        &|p| p.tls,
    );
    summary += &phase_line("sum of the above", &warm, &|p| p.total());
    summary += &phase_line("raw redb `Database::open` + 1 get", &warm, &|p| p.raw_open_get);
    let _ = writeln!(
        summary,
        "\nThe same with the database evicted from the page cache before each open:\n"
    );
    let _ = writeln!(summary, "| Phase | ms |\n|---|---|");
    summary += &phase_line("`open_store`", &cold, &|p| p.open);
    summary += &phase_line("first reads", &cold, &|p| p.first_read);
    summary += &phase_line("sum of the four phases", &cold, &|p| p.total());
    summary += &phase_line("raw redb `Database::open` + 1 get", &cold, &|p| p.raw_open_get);
    let _ = writeln!(
        summary,
        "\nStart to ready, min / median / max ms: in process evicted {}; binary warm {}; binary evicted {}.",
        stat(&run_cold),
        stat(&bin_warm),
        stat(&bin_cold)
    );
    let _ = writeln!(
        summary,
        "\nAfter an unclean stop (`sitegate serve` killed with SIGKILL while ready): `open_store` {:.1} ms \
         (redb repairs the file; a clean reopen right after: {:.1} ms); in-process start to ready after another \
         SIGKILL: {:.1} ms (goal < {GOAL_START_MS} ms: {}).",
        ms(repair_open),
        ms(clean_reopen),
        ms(repair_to_ready),
        met(ms(repair_to_ready) < GOAL_START_MS)
    );
    let probe = |p: Option<(u64, u64, u64)>| {
        p.map_or("n/a".to_string(), |(b, o, a)| {
            format!(
                "{:.1} MiB after open, {:.1} MiB after reading every user ({b} KiB before open)",
                o as f64 / 1024.0,
                a as f64 / 1024.0
            )
        })
    };
    let _ = writeln!(
        summary,
        "\nRSS of a fresh process that opens the database and reads every user once (raw redb, no \
         sitegate code): with redb's default cache (what `Store::open` uses): {}; with \
         `set_cache_size(16 MiB)`: {}.",
        probe(probe_default),
        probe(probe_bounded)
    );
    let _ = writeln!(
        summary,
        "\nWhole `cargo bench --bench store` run: {:.0} s. 1-minute load average before / after: {} / {} (on {} cores).",
        t_all.elapsed().as_secs_f64(),
        load_before,
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    fs::write(scale.root.join("summary.md"), &summary).unwrap();
    println!("\n{summary}");
    println!(
        "state directory with {} users for the RSS check: {}",
        scale.users,
        state.display()
    );
}
