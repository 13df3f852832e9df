//! sitegate: the on-site gateway of a VR safety-training platform. The library holds everything; the binary is a thin shell.

pub mod admin_socket;
pub mod cli;
pub mod clock;
pub mod config;
pub mod discovery;
pub mod domain;
pub mod headset_client;
pub mod http;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod printer;
pub mod service;
pub mod store;
pub mod sync;
pub mod tasks;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::domain::staff::SessionPolicy;
use crate::http::extract::ListenerKind;
use crate::service::{Services, SiteSettings};
use crate::store::Store;
use crate::tasks::Tasks;

/// The database file's name inside the state directory.
pub const DB_FILE: &str = "sitegate.redb";
/// How often the security clock's mark is saved while nothing else moves it.
const SECURITY_TICK: Duration = Duration::from_secs(15);
/// How long open requests may take to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Why the gateway could not start or keep running. Each is one line for the technician.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}; choose another with {flag} (config: {key})")]
    Bind {
        addr: SocketAddr,
        /// The flag that sets this listener's address, e.g. `--listen`.
        flag: &'static str,
        /// Its config key, e.g. `server.listen`.
        key: &'static str,
        source: std::io::Error,
    },
    #[error(
        "--kiosk-listen {0} is not a loopback address; the plain-HTTP kiosk listener must be 127.0.0.0/8 or ::1"
    )]
    KioskNotLoopback(SocketAddr),
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Keys(#[from] keys::KeyError),
    #[error("{0}")]
    Tls(#[from] http::tls::TlsError),
    #[error("cannot open the technician socket in {path}: {source}")]
    Socket {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Printing(#[from] printer::SetupError),
    #[error("seeding demo data failed: {0}")]
    Demo(service::ServiceError),
    #[error("cannot read central.ca_file {path}: {source}")]
    CentralCa {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the {0} listener stopped: {1}")]
    Serve(&'static str, std::io::Error),
}

impl StartError {
    /// Exit code for the CLI: 2 for what the technician must fix in usage or config, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartError::Bind { .. }
            | StartError::StateDir { .. }
            | StartError::KioskNotLoopback(_)
            | StartError::Tls(_)
            | StartError::Printing(_)
            | StartError::CentralCa { .. }
            | StartError::Store(store::StoreError::InUse(_)) => 2,
            _ => 1,
        }
    }
}

/// The sockets the gateway serves on, bound before `run` (tests bind port 0).
#[derive(Debug)]
pub struct Listeners {
    pub https: TcpListener,
    pub kiosk: Option<TcpListener>,
}

impl Listeners {
    /// Bind the configured addresses.
    pub async fn bind(config: &Config) -> Result<Listeners, StartError> {
        let bind = |addr: SocketAddr, flag: &'static str, key: &'static str| async move {
            TcpListener::bind(addr).await.map_err(|source| StartError::Bind {
                addr,
                flag,
                key,
                source,
            })
        };
        if let Some(k) = config.server.kiosk_listen
            && !k.ip().is_loopback()
        {
            return Err(StartError::KioskNotLoopback(k));
        }
        let https = bind(config.server.listen, "--listen", "server.listen").await?;
        let kiosk = match config.server.kiosk_listen {
            Some(addr) => Some(bind(addr, "--kiosk-listen", "server.kiosk_listen").await?),
            None => None,
        };
        Ok(Listeners { https, kiosk })
    }
}

/// Options of one run beyond the configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Seed demo data into an empty database.
    pub demo: bool,
    /// A clock to use instead of the system's (tests).
    pub clock: Option<SharedClock>,
}

/// Open the store in the state directory.
pub fn open_store(state_dir: &Path) -> Result<Store, store::StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let path = state_dir.join(DB_FILE);
    let store = Store::open(&path)?;
    // The file holds names, contacts and credential tags: owner only, whatever the umask.
    if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(error = %e, path = %path.display(), "cannot make the database private");
    }
    Ok(store)
}

/// Settings the services take from configuration.
pub fn site_settings(config: &Config) -> SiteSettings {
    let secs = |s: u64| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
    SiteSettings {
        site_name: config.site.name.clone(),
        pin_length: config.security.pin_length,
        sessions: SessionPolicy {
            idle_kiosk: secs(config.security.staff_idle_kiosk_secs),
            idle_laptop: secs(config.security.staff_idle_laptop_secs),
            absolute: secs(config.security.staff_absolute_secs),
        },
        enrollment: service::enrollment::EnrollmentSettings {
            terms_version: config.enrollment.terms_version.clone(),
            terms_text: config.enrollment.terms_text.clone(),
            contact_required: config.enrollment.contact_required,
        },
        kiosk_idle_seconds: config.kiosk.idle_seconds,
        credentials: credential_settings(config),
        classroom: classroom_settings(config),
    }
}

/// The sync task's settings from configuration: where the credential lives, the long poll, and
/// the join at start when `[central]` names a URL and a site token.
pub fn sync_settings(
    config: &Config,
    state_dir: &Path,
) -> Result<service::sync::worker::SyncSettings, StartError> {
    let mut s = service::sync::worker::SyncSettings::new(state_dir.to_path_buf());
    let c = &config.central;
    if let Some(w) = c.poll_wait_secs {
        s.poll_wait = w.min(sync::wire::WAIT_SECS_MAX);
    }
    let trust = sync::credential::Trust {
        ca_pem: match &c.ca_file {
            Some(path) => Some(
                std::fs::read_to_string(path).map_err(|source| StartError::CentralCa {
                    path: path.clone(),
                    source,
                })?,
            ),
            None => None,
        },
        fingerprint: c.fingerprint.clone(),
    };
    if let (Some(url), Some(token)) = (&c.url, &c.api_token) {
        s.join_at_start = Some(service::sync::join::JoinInput {
            url: url.clone(),
            site_token: token.expose().to_string(),
            trust,
        });
    }
    Ok(s)
}

/// Classroom settings (auto check-out) from configuration, which validation has checked.
pub fn classroom_settings(config: &Config) -> service::ClassroomSettings {
    let c = &config.classroom;
    service::ClassroomSettings {
        auto_checkout: crate::domain::classroom::AutoCheckout {
            daily_at: c.cutoff().ok().flatten(),
            offset: c.offset().ok(),
            after: (c.auto_checkout_after_hours > 0)
                .then(|| time::Duration::hours(i64::from(c.auto_checkout_after_hours))),
        },
        auto_checkout_every: Duration::from_secs(c.auto_checkout_check_secs.max(1)),
    }
}

/// Credential, throttling, device and headset settings from configuration.
pub fn credential_settings(config: &Config) -> service::CredentialSettings {
    use crate::domain::device::HeadsetSessionPolicy;
    use crate::domain::throttle::ThrottleLimits;
    let secs = |s: u64| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
    let s = &config.security;
    service::CredentialSettings {
        throttle: ThrottleLimits {
            account_free_failures: s.throttle_account_free_failures,
            account_base_delay: secs(s.throttle_account_base_delay_secs),
            account_max_delay: secs(s.throttle_account_max_delay_secs),
            device_failures: s.throttle_device_failures,
            kiosk_failures: s.throttle_kiosk_failures,
            site_failures: s.throttle_site_failures,
            window: time::Duration::hours(24),
        },
        pin_only_login: s.pin_only_login,
        otp_valid: secs(s.otp_valid_secs),
        otp_max_outstanding: s.otp_max_outstanding,
        totp_issuer: crate::domain::credentials::totp_issuer(&config.site.name, s.totp_issuer.as_deref()),
        headset: HeadsetSessionPolicy {
            idle: secs(s.headset_idle_secs),
            absolute: secs(s.headset_absolute_secs),
        },
        pairing_max_pending: s.pairing_max_pending,
    }
}

/// Where phones on the site LAN open a gateway whose HTTPS listener is on `listen`: the first of
/// `server.public_hostnames`, else the LAN address discovery chooses (read anew each time).
pub fn public_url(config: &Config, listen: SocketAddr) -> service::PublicUrl {
    let interfaces = config.discovery.interfaces.clone();
    let hostnames = config.server.public_hostnames.clone();
    service::PublicUrl::new(move || {
        let links = discovery::interfaces::read_links().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot list network interfaces");
            Vec::new()
        });
        discovery::setup::phone_url(&links, listen, &interfaces, &hostnames)
    })
}

/// Make the state directory readable by its owner only (0700), creating it when missing: it holds
/// the database, the key file and the certificate's key.
pub fn make_state_dir(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let err = |source| StartError::StateDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err)?;
    let meta = std::fs::metadata(dir).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "it is not a directory",
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// Run the gateway on bound listeners until `shutdown` resolves, then stop cleanly.
pub async fn run(
    config: Config,
    listeners: Listeners,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    http::tls::install_crypto_provider();
    let state_dir = config.state_dir();
    // Configured certificate files are checked before anything is created, so a refused start
    // leaves a fresh box as it was.
    let hostnames = &config.server.public_hostnames;
    let (cert_file, key_file) = (
        config.server.tls_cert_file.as_deref(),
        config.server.tls_key_file.as_deref(),
    );
    let configured_tls = match (cert_file, key_file) {
        (Some(_), Some(_)) => Some(http::tls::load_or_create(
            cert_file, key_file, &state_dir, hostnames,
        )?),
        _ => None,
    };
    make_state_dir(&state_dir)?;
    let store = {
        let dir = state_dir.clone();
        tokio::task::spawn_blocking(move || open_store(&dir))
            .await
            .map_err(|_| StartError::Store(store::StoreError::Join))??
    };
    let keys = Arc::new(keys::Keys::load_or_create(&config.key_file())?);
    let tls = match configured_tls {
        Some(tls) => tls,
        None => http::tls::load_or_create(cert_file, key_file, &state_dir, hostnames)?,
    };
    let fingerprint = tls.fingerprint.base64url();
    let clock = options.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
    let printing = printer::Printing::from_config(&config)?;
    let https_addr = listeners
        .https
        .local_addr()
        .map_err(|e| StartError::Serve("https", e))?;
    let kiosk_addr = listeners.kiosk.as_ref().and_then(|k| k.local_addr().ok());
    let mut services = Services::new(store.clone(), clock, keys, site_settings(&config))
        .with_printing(printing.clone())
        .with_public_url(public_url(&config, https_addr))
        .with_listening(service::admin::Listening {
            https: https_addr,
            kiosk: kiosk_addr,
        });
    let sync = service::sync::worker::SyncHandle::for_state_dir(state_dir.clone());
    services.sync = sync.clone();
    let gateway_id = config.site.id.clone().map_or_else(|| store.gateway_id(), Ok)?;
    let setup = discovery::setup_context(&config, https_addr, &gateway_id, &tls.fingerprint);
    log_serving(&setup, https_addr, kiosk_addr).await;

    if options.demo {
        match services.seed_demo().await.map_err(StartError::Demo)? {
            service::demo::DemoSeed::Seeded(login) => {
                #[allow(clippy::print_stdout)] // the contract: the demo's staff login is printed on stdout
                {
                    println!("Demo staff sign-in: ID {}  PIN {}", login.user_id, login.pin);
                }
                tracing::info!(user_id = %login.user_id, pin = %login.pin, "demo data seeded; demo staff sign-in (a demo: this PIN is not secret)");
            }
            service::demo::DemoSeed::Present { staff_id: Some(id) } => {
                let state_flag = config
                    .state_dir
                    .as_ref()
                    .map(|d| format!(" --state-dir {}", d.display()))
                    .unwrap_or_default();
                #[allow(clippy::print_stdout)] // the demo's staff login is printed on stdout
                {
                    println!(
                        "Demo data already present. Demo staff ID {id}; its PIN was shown at the first start. \
                         A new PIN: sitegate{state_flag} user pin {id}"
                    );
                }
                tracing::info!(user_id = %id, "demo data already present; a new PIN for the demo staff: sitegate user pin {id}");
            }
            service::demo::DemoSeed::Present { staff_id: None } => {
                tracing::info!("demo data already present")
            }
        }
    }

    let tasks = Tasks::new();
    // Discovery starts first so that every part of the gateway (the technician socket's
    // `doctor`, the metrics) can see how announcing goes.
    let discovery = discovery::start(&config, &tasks, setup, &gateway_id, &tls.fingerprint);
    let services = services.with_live(service::LiveParts {
        discovery: discovery.clone(),
        tasks: tasks.health(),
    });
    let socket = admin_socket::bind(&state_dir).map_err(|source| StartError::Socket {
        path: state_dir.clone(),
        source,
    })?;
    tasks.spawn(
        "admin-socket",
        admin_socket::serve(socket, services.clone(), tasks.shutdown()),
    );

    tasks.spawn(
        "security-clock",
        service::security::tick_security_clock(services.clone(), SECURITY_TICK, tasks.shutdown()),
    );
    tasks.spawn(
        "print-queue",
        printer::queue::run(services.clone(), printing, tasks.shutdown()),
    );

    tasks.spawn(
        "auto-checkout",
        service::auto_checkout::run(services.clone(), tasks.shutdown()),
    );
    tasks.spawn(
        "session-sweep",
        service::sweep::run(services.clone(), tasks.shutdown()),
    );
    service::sync::worker::start(
        &tasks,
        services.clone(),
        sync_settings(&config, &state_dir)?,
        sync,
    );

    let state = http::AppState::new(services, tasks.health(), fingerprint, gateway_id)
        .with_discovery(discovery)
        .with_kiosk_ui(http::kiosk::UiSource::from_config(config.kiosk.ui_dir.as_deref()));
    if let Some(dir) = &config.kiosk.ui_dir {
        tracing::info!(dir = %dir.display(), "kiosk UI served from disk (development)");
    }
    let limits = http::Limits {
        body_bytes: config.server.body_limit_bytes,
        timeout: Duration::from_secs(config.server.request_timeout_secs),
    };
    let https_app = http::router(state.clone(), ListenerKind::Tls, limits);
    let https = http::serve::serve_tls(
        listeners.https,
        tls.server_config.clone(),
        https_app,
        tasks.shutdown().wait(),
        DRAIN,
    );
    let kiosk_app = http::router(state.clone(), ListenerKind::Kiosk, limits);
    let kiosk_stop = tasks.shutdown().wait();
    let kiosk = async move {
        match listeners.kiosk {
            Some(l) => http::serve::serve_plain(l, kiosk_app, kiosk_stop, DRAIN).await,
            None => Ok(()),
        }
    };
    let servers = async { tokio::join!(https, kiosk) };
    tokio::pin!(servers);
    tracing::info!("sitegate ready");
    let results = tokio::select! {
        _ = shutdown => {
            tracing::info!("shutting down");
            tasks.begin_shutdown();
            servers.await
        }
        results = &mut servers => results,
    };
    tasks.stop(DRAIN).await;
    drop(state);
    drop(store);
    results.0.map_err(|e| StartError::Serve("https", e))?;
    results.1.map_err(|e| StartError::Serve("kiosk", e))?;
    let _ = std::fs::remove_file(admin_socket::socket_path(&state_dir));
    tracing::info!("sitegate stopped");
    Ok(())
}

/// The start-up line: the URLs people can open (those of `sitegate info`), never the wildcard
/// address the listener is bound to, and the certificate fingerprint.
async fn log_serving(setup: &discovery::SetupContext, https: SocketAddr, kiosk: Option<SocketAddr>) {
    let links = tokio::task::spawn_blocking(discovery::interfaces::read_links)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let info = setup.info(&links);
    let kiosk = kiosk
        .map(|a| format!("http://{a}"))
        .unwrap_or_else(|| "off".into());
    let fingerprint = &info.fingerprint;
    if info.urls.is_empty() {
        tracing::warn!(
            listen = %https,
            kiosk = %kiosk,
            fingerprint = %fingerprint,
            fingerprint_hex = %info.fingerprint_hex,
            "sitegate serving HTTPS on {https}, but no URL is known (no LAN address): set server.public_hostnames or connect the site LAN; certificate fingerprint {fingerprint}"
        );
    } else {
        let urls = info.urls.join(" ");
        tracing::info!(
            urls = %urls,
            kiosk = %kiosk,
            fingerprint = %fingerprint,
            fingerprint_hex = %info.fingerprint_hex,
            "sitegate serving {urls} with certificate fingerprint {fingerprint}"
        );
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
