//! The gateway's Prometheus metrics (prometheus-client): one registry per running gateway, the
//! counters and histograms the code moves as things happen (requests, logins, printer faults,
//! store commits), the gauges set from a snapshot at each scrape, and the text encoding.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;

/// The content type of [`Metrics::encode`]'s text: OpenMetrics 1.0, which Prometheus asks for
/// and which its text-format parsers read.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Seconds: from a fast cached answer to the request timeout.
const HTTP_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Seconds a writer waits for its commit to be durable (group commit + fsync).
pub const COMMIT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// One answered request: which listener, the method, the route *template* (`/api/users/{id}`,
/// never the raw path, so IDs do not make a series each) and the status code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub listener: &'static str,
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// One credential check: what was presented, where from, and how it ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    /// `pin`, `totp`, `otp`, `badge`.
    pub kind: &'static str,
    /// `kiosk`, `headset`, `address`, `kiosk_device`.
    pub source: String,
    /// `success`, `failure`, `throttled`, `totp_required`.
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FaultLabels {
    pub printer: String,
    pub fault: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PrinterLabels {
    pub printer: String,
    pub profile: String,
    pub status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

/// What a scrape reads from the store and the live parts of the gateway.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Print jobs per state (`queued`, `printing`, `printed`, `failed`).
    pub print_jobs: Vec<(String, u64)>,
    /// (printer, profile, last status).
    pub printers: Vec<(String, String, String)>,
    pub outbox_depth: u64,
    pub outbox_oldest_age_secs: Option<i64>,
    pub store_bytes: Option<u64>,
    pub throttle_site_failures: u64,
    pub throttle_site_limit: u64,
    pub throttle_suspended: bool,
    pub throttle_sources: u64,
    pub throttle_accounts: u64,
    /// The mDNS state (`advertising`, `disabled`, …) and how many interfaces it announces on.
    pub mdns_state: String,
    pub mdns_interfaces: u64,
    /// `standalone`, `online`, `offline`, …
    pub sync_state: String,
    pub tasks_dead: u64,
}

/// Every metric of one gateway. Cheap to share behind an `Arc`; each gateway (and each test's
/// gateway in one process) has its own registry, never a global one.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
    logins: Family<LoginLabels, Counter>,
    printer_faults: Family<FaultLabels, Counter>,
    print_jobs: Family<StateLabel, Gauge>,
    printers: Family<PrinterLabels, Gauge>,
    outbox_depth: Gauge,
    outbox_oldest_age: Gauge,
    store_bytes: Gauge,
    throttle_site_failures: Gauge,
    throttle_site_limit: Gauge,
    throttle_suspended: Gauge,
    throttle_sources: Gauge,
    throttle_accounts: Gauge,
    mdns_state: Family<StateLabel, Gauge>,
    mdns_interfaces: Gauge,
    sync_state: Family<StateLabel, Gauge>,
    tasks_dead: Gauge,
}

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

/// The git commit of a release build (`unknown` in debug builds and outside a git checkout).
pub fn build_commit() -> &'static str {
    option_env!("SITEGATE_GIT_COMMIT").unwrap_or("unknown")
}

/// A serde enum's snake_case name (`paper_out`), for a label value.
pub fn label_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

impl Metrics {
    /// A registry with every metric; `commit_seconds` is the store's own histogram.
    pub fn new(commit_seconds: Histogram) -> Metrics {
        let mut r = Registry::with_prefix("sitegate");
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            durations: Family::new_with_constructor(http_histogram),
            logins: Family::default(),
            printer_faults: Family::default(),
            print_jobs: Family::default(),
            printers: Family::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            store_bytes: Gauge::default(),
            throttle_site_failures: Gauge::default(),
            throttle_site_limit: Gauge::default(),
            throttle_suspended: Gauge::default(),
            throttle_sources: Gauge::default(),
            throttle_accounts: Gauge::default(),
            mdns_state: Family::default(),
            mdns_interfaces: Gauge::default(),
            sync_state: Family::default(),
            tasks_dead: Gauge::default(),
        };
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                commit: build_commit(),
            })
            .set(1);
        r.register(
            "build_info",
            "The running build: version and git commit (value 1)",
            build,
        );
        r.register(
            "http_requests",
            "HTTP requests answered, by listener, method, route template and status",
            m.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the response head), by listener, method, route template and status",
            m.durations.clone(),
        );
        r.register(
            "logins",
            "Credential checks (staff sign-in, headset login, proofs at links and classes) by credential kind, source kind and outcome",
            m.logins.clone(),
        );
        r.register(
            "printer_faults",
            "Print attempts that failed, by printer and fault",
            m.printer_faults.clone(),
        );
        r.register(
            "print_jobs",
            "Print jobs held in the store, by state",
            m.print_jobs.clone(),
        );
        r.register(
            "printer_up",
            "Each configured printer with its profile and last known status (value 1)",
            m.printers.clone(),
        );
        r.register(
            "outbox_events",
            "Events waiting to be sent to the central system",
            m.outbox_depth.clone(),
        );
        r.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest event waiting for the central system (0 when none waits)",
            m.outbox_oldest_age.clone(),
        );
        r.register(
            "store_size_bytes",
            "Size of the database file",
            m.store_bytes.clone(),
        );
        r.register(
            "store_commit_duration_seconds",
            "Time a write waits until its commit is durable (group commit and fsync)",
            commit_seconds,
        );
        r.register(
            "throttle_site_failures",
            "Failed credential checks site-wide in the rolling 24 hours",
            m.throttle_site_failures.clone(),
        );
        r.register(
            "throttle_site_limit",
            "Site-wide failures allowed per 24 hours before headset and laptop logins are suspended",
            m.throttle_site_limit.clone(),
        );
        r.register(
            "throttle_suspended",
            "1 while credential logins from headsets and laptops are suspended site-wide",
            m.throttle_suspended.clone(),
        );
        r.register(
            "throttle_sources_blocked",
            "Sources (devices, addresses, the kiosk) whose logins are refused now",
            m.throttle_sources.clone(),
        );
        r.register(
            "throttle_accounts_backoff",
            "Accounts whose next try must wait now",
            m.throttle_accounts.clone(),
        );
        r.register(
            "mdns_state",
            "mDNS announcing: 1 for the current state",
            m.mdns_state.clone(),
        );
        r.register(
            "mdns_interfaces",
            "Interfaces mDNS announces on",
            m.mdns_interfaces.clone(),
        );
        r.register(
            "sync_state",
            "Sync with the central system: 1 for the current state",
            m.sync_state.clone(),
        );
        r.register(
            "tasks_dead",
            "Background tasks that stopped while they should run (makes /readyz fail)",
            m.tasks_dead.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// Count an answered request and its time.
    pub fn observe_request(&self, labels: RequestLabels, seconds: f64) {
        self.durations.get_or_create(&labels).observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    /// Count one credential check.
    pub fn login(&self, labels: LoginLabels) {
        self.logins.get_or_create(&labels).inc();
    }

    /// Count one failed print attempt.
    pub fn printer_fault(&self, printer: &str, fault: &str) {
        self.printer_faults
            .get_or_create(&FaultLabels {
                printer: printer.to_owned(),
                fault: fault.to_owned(),
            })
            .inc();
    }

    /// Set the gauges from `s`, then the whole exposition as text.
    pub fn encode(&self, s: &Snapshot) -> String {
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.print_jobs.clear();
        for (state, n) in &s.print_jobs {
            self.print_jobs
                .get_or_create(&StateLabel { state: state.clone() })
                .set(int(*n));
        }
        self.printers.clear();
        for (printer, profile, status) in &s.printers {
            self.printers
                .get_or_create(&PrinterLabels {
                    printer: printer.clone(),
                    profile: profile.clone(),
                    status: status.clone(),
                })
                .set(1);
        }
        self.outbox_depth.set(int(s.outbox_depth));
        self.outbox_oldest_age
            .set(s.outbox_oldest_age_secs.unwrap_or(0).max(0));
        self.store_bytes.set(int(s.store_bytes.unwrap_or(0)));
        self.throttle_site_failures.set(int(s.throttle_site_failures));
        self.throttle_site_limit.set(int(s.throttle_site_limit));
        self.throttle_suspended.set(i64::from(s.throttle_suspended));
        self.throttle_sources.set(int(s.throttle_sources));
        self.throttle_accounts.set(int(s.throttle_accounts));
        one_hot(&self.mdns_state, &s.mdns_state);
        self.mdns_interfaces.set(int(s.mdns_interfaces));
        one_hot(&self.sync_state, &s.sync_state);
        self.tasks_dead.set(int(s.tasks_dead));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

fn one_hot(family: &Family<StateLabel, Gauge>, state: &str) {
    family.clear();
    if !state.is_empty() {
        family
            .get_or_create(&StateLabel {
                state: state.to_owned(),
            })
            .set(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_the_build_show_in_the_text() {
        let m = Metrics::new(Histogram::new(COMMIT_BUCKETS));
        m.observe_request(
            RequestLabels {
                listener: "https",
                method: "GET".into(),
                route: "/api/users/{id}".into(),
                status: 200,
            },
            0.003,
        );
        let text = m.encode(&Snapshot {
            mdns_state: "disabled".into(),
            ..Default::default()
        });
        assert!(text.contains("sitegate_http_requests_total{listener=\"https\",method=\"GET\",route=\"/api/users/{id}\",status=\"200\"} 1"), "{text}");
        assert!(text.contains("sitegate_build_info{version=\""), "{text}");
        assert!(
            text.contains("sitegate_mdns_state{state=\"disabled\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
