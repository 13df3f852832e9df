//! Sitegate's settings: the structs with their defaults, and the entry points to load and check
//! them. Precedence: defaults < one TOML file < `SITEGATE_*` environment variables < flags.

mod error;
mod example;
mod load;
mod secret;
mod spans;
mod validate;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::enrollment::ContactRule;

pub use error::{ConfigError, Origin};
pub use example::example;
pub use load::{Overrides, Sources, check_file};
pub use secret::Secret;

/// State directory when neither the configuration nor systemd's `$STATE_DIRECTORY` names one.
pub const DEFAULT_STATE_DIR: &str = "./sitegate-data";
/// Key file path, relative to the state directory, when `security.key_file` is not set.
pub const DEFAULT_KEY_FILE: &str = "keys/sitegate.key";

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8443);
pub const DEFAULT_KIOSK_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

pub const BODY_LIMIT_RANGE: RangeInclusive<usize> = 1024..=64 * 1024 * 1024;
pub const REQUEST_TIMEOUT_RANGE: RangeInclusive<u64> = 1..=600;
pub const PIN_LENGTH_RANGE: RangeInclusive<u8> = 6..=10;
pub const STAFF_IDLE_KIOSK_RANGE: RangeInclusive<u64> = 10..=3600;
pub const STAFF_IDLE_LAPTOP_RANGE: RangeInclusive<u64> = 60..=86_400;
pub const STAFF_ABSOLUTE_RANGE: RangeInclusive<u64> = 600..=604_800;
pub const OTP_VALID_RANGE: RangeInclusive<u64> = 60..=86_400;
pub const OTP_MAX_OUTSTANDING_RANGE: RangeInclusive<u32> = 1..=1000;
pub const FAILURES_RANGE: RangeInclusive<u32> = 1..=100_000;
pub const DELAY_RANGE: RangeInclusive<u64> = 1..=86_400;
pub const HEADSET_IDLE_RANGE: RangeInclusive<u64> = 60..=86_400;
pub const HEADSET_ABSOLUTE_RANGE: RangeInclusive<u64> = 600..=604_800;
pub const PAIRING_PENDING_RANGE: RangeInclusive<u32> = 1..=1000;
pub const KIOSK_IDLE_RANGE: RangeInclusive<u32> = 10..=3600;
/// Longest terms version label, in characters.
pub const TERMS_VERSION_MAX_CHARS: usize = 64;
/// Longest terms text, in characters.
pub const TERMS_TEXT_MAX_CHARS: usize = 20_000;
pub const PRINT_ATTEMPTS_RANGE: RangeInclusive<u32> = 1..=100;
pub const PRINT_RETRY_SECS_RANGE: RangeInclusive<u64> = 1..=86_400;
pub const PRINT_TIMEOUT_SECS_RANGE: RangeInclusive<u64> = 1..=600;
pub const PRINT_STATUS_MS_RANGE: RangeInclusive<u64> = 50..=60_000;

/// The whole configuration. Build one with [`Config::load`]; `Config::default()` is what an empty
/// file gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub site: SiteConfig,
    pub server: ServerConfig,
    /// `None`: see [`Config::state_dir`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    pub security: SecurityConfig,
    pub log: LogConfig,
    pub discovery: DiscoveryConfig,
    pub central: CentralConfig,
    pub enrollment: EnrollmentConfig,
    pub kiosk: KioskConfig,
    pub classroom: ClassroomConfig,
    pub printing: PrintingConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// Shown on the kiosk, staff screens and badges.
    pub name: String,
    /// The name the gateway goes by on the site's network (mDNS, `sitegate info`,
    /// `/api/status`); `None`: the database's generated gateway ID. Sync always uses the
    /// generated ID, never this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            name: "Demo site".to_owned(),
            id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTPS listener.
    pub listen: SocketAddr,
    /// Plain-HTTP listener for the kiosk browser on the box; loopback only. `None` (written
    /// `"off"` in TOML) turns it off.
    #[serde(with = "kiosk_listen_serde")]
    pub kiosk_listen: Option<SocketAddr>,
    /// PEM certificate chain; with `tls_key_file`. Neither: a self-signed certificate is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key_file: Option<PathBuf>,
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// Extra names for the self-signed certificate.
    pub public_hostnames: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN,
            kiosk_listen: Some(DEFAULT_KIOSK_LISTEN),
            tls_cert_file: None,
            tls_key_file: None,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            public_hostnames: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    pub pin_length: u8,
    pub staff_idle_kiosk_secs: u64,
    pub staff_idle_laptop_secs: u64,
    pub staff_absolute_secs: u64,
    /// Key that peppers PIN tags; lives outside the database. `None`: see [`Config::key_file`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Let headsets log in with a PIN alone (no user named). Off: each guess then hits one account.
    pub pin_only_login: bool,
    pub otp_valid_secs: u64,
    /// One-time passwords outstanding at once, site-wide.
    pub otp_max_outstanding: u32,
    /// Issuer shown in authenticator apps. `None`: `sitegate <site name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_issuer: Option<String>,
    pub throttle_account_free_failures: u32,
    pub throttle_account_base_delay_secs: u64,
    pub throttle_account_max_delay_secs: u64,
    pub throttle_device_failures: u32,
    pub throttle_kiosk_failures: u32,
    pub throttle_site_failures: u32,
    pub headset_idle_secs: u64,
    pub headset_absolute_secs: u64,
    /// Pairing requests waiting for staff at once (a flood is refused beyond it).
    pub pairing_max_pending: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            pin_length: 6,
            staff_idle_kiosk_secs: 120,
            staff_idle_laptop_secs: 900,
            staff_absolute_secs: 43_200,
            key_file: None,
            pin_only_login: false,
            otp_valid_secs: 900,
            otp_max_outstanding: 30,
            totp_issuer: None,
            throttle_account_free_failures: 5,
            throttle_account_base_delay_secs: 30,
            throttle_account_max_delay_secs: 3600,
            throttle_device_failures: 20,
            throttle_kiosk_failures: 100,
            throttle_site_failures: 300,
            headset_idle_secs: 1800,
            headset_absolute_secs: 28_800,
            pairing_max_pending: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing_subscriber::EnvFilter` syntax.
    pub filter: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info,sitegate=info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Plain lines; for journald (no colours, no timestamps: the journal adds them) when stderr
    /// is the journal, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per line, for shipping logs elsewhere.
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }

    /// `text` or `json`, as `--log-format` takes it.
    pub fn parse(s: &str) -> Result<LogFormat, String> {
        match s.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?} is not a log format (text or json)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    pub enabled: bool,
    /// Interface names to announce on; empty = real LAN interfaces, chosen automatically.
    pub interfaces: Vec<String>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            enabled: true,
            interfaces: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CentralConfig {
    /// `None`: standalone, sitegate is the system of record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The one-time site token to join with at start (when not joined yet). After
    /// [`Config::load`], holds the token however it was given (inline or from `api_token_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Secret>,
    /// Read at load into `api_token`, after which this is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token_file: Option<PathBuf>,
    /// A PEM CA (or certificate) to trust for the central system instead of the system roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The central certificate's SHA-256 (base64url or colon hex): only it is trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Long-poll seconds (0 to 30); default 25.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_wait_secs: Option<u32>,
}

/// Self-enrollment through access links: the site's terms and how workers must be reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrollmentConfig {
    /// Label of the current terms; a worker must accept this version. Change it when the text changes.
    pub terms_version: String,
    /// The terms a worker accepts when enrolling, shown on the kiosk.
    pub terms_text: String,
    /// `email_or_phone`, `email`, `phone` or `none`.
    pub contact_required: ContactRule,
}

impl Default for EnrollmentConfig {
    fn default() -> Self {
        EnrollmentConfig {
            terms_version: "1".to_owned(),
            terms_text: DEFAULT_TERMS.to_owned(),
            contact_required: ContactRule::EmailOrPhone,
        }
    }
}

/// The terms shown when a site has not written its own.
pub const DEFAULT_TERMS: &str = "I agree that this site keeps my name, contact details and training records to organise my safety training, and shares them with the training provider. I will follow the safety rules of the site while training.";

/// The touch kiosk's behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Seconds untouched after which the kiosk returns to its start screen and forgets what was typed.
    pub idle_seconds: u32,
    /// Serve the kiosk UI from this folder instead of the copy built into the binary
    /// (development: edit, reload). `None`: the embedded copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_dir: Option<PathBuf>,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            idle_seconds: 60,
            ui_dir: None,
        }
    }
}

/// Classroom sessions: automatic check-out of people still checked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassroomConfig {
    /// Daily cut-off "HH:MM" (site time, see `utc_offset`) at which everyone still checked in
    /// is checked out, flagged auto; "off" for none.
    pub auto_checkout_at: String,
    /// Check people out this many hours after their check-in (1 to 24); 0 for never. With a
    /// cut-off too, whichever comes first.
    pub auto_checkout_after_hours: u32,
    /// The site's offset from UTC, "+HH:MM" or "-HH:MM": the cut-off and "today's classes".
    pub utc_offset: String,
    /// How often the gateway looks for people to check out, in seconds: 1 to 3600.
    pub auto_checkout_check_secs: u64,
}

impl Default for ClassroomConfig {
    fn default() -> Self {
        ClassroomConfig {
            auto_checkout_at: "22:00".into(),
            auto_checkout_after_hours: 0,
            utc_offset: "+00:00".into(),
            auto_checkout_check_secs: 60,
        }
    }
}

/// One printer: a name people see, where it is, and which firmware profile drives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    pub name: String,
    /// `tcp://HOST[:PORT]`, `file:///dev/usb/lp0` or `spool://DIR`.
    pub url: String,
    /// A profile ID from `firmware-profiles/` or `profiles_dir`.
    #[serde(default = "default_profile")]
    pub profile: String,
}

fn default_profile() -> String {
    "generic-simple".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrintingConfig {
    /// Badge printers; the first is where badges go. Empty: one spool printer in the state
    /// directory (see [`Config::printers`]).
    pub printers: Vec<PrinterConfig>,
    /// The name of a second printer that takes a job when the first fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<String>,
    /// PNG drawn at the top of every badge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_file: Option<PathBuf>,
    /// TrueType/OpenType font for scripts the embedded DejaVu Sans lacks (e.g. CJK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub font_file: Option<PathBuf>,
    /// Folder of extra or overriding firmware profiles (`<id>.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles_dir: Option<PathBuf>,
    pub max_attempts: u32,
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    pub connect_timeout_secs: u64,
    pub write_timeout_secs: u64,
    pub status_timeout_ms: u64,
}

impl Default for PrintingConfig {
    fn default() -> Self {
        PrintingConfig {
            printers: Vec::new(),
            failover: None,
            logo_file: None,
            font_file: None,
            profiles_dir: None,
            max_attempts: 8,
            retry_base_secs: 5,
            retry_max_secs: 300,
            connect_timeout_secs: 5,
            write_timeout_secs: 30,
            status_timeout_ms: 1500,
        }
    }
}

/// Longest auto check-out delay, in hours.
pub const AUTO_CHECKOUT_HOURS_MAX: u32 = 24;
pub const AUTO_CHECKOUT_CHECK_RANGE: RangeInclusive<u64> = 1..=3600;

impl ClassroomConfig {
    /// The daily cut-off, `None` when "off". Errors name what is wrong.
    pub fn cutoff(&self) -> Result<Option<time::Time>, String> {
        let s = self.auto_checkout_at.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let fmt = time::macros::format_description!("[hour]:[minute]");
        time::Time::parse(s, &fmt)
            .map(Some)
            .map_err(|_| "must be \"HH:MM\" (24-hour clock) or \"off\"".to_string())
    }

    /// The site's offset from UTC.
    pub fn offset(&self) -> Result<time::UtcOffset, String> {
        let fmt = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
        time::UtcOffset::parse(self.utc_offset.trim(), &fmt)
            .map_err(|_| "must be \"+HH:MM\" or \"-HH:MM\", e.g. \"+01:00\"".to_string())
    }
}

impl Config {
    /// The badge printers: `printing.printers`, or when none is set one spool printer
    /// (`spool://<state_dir>/spool`, profile `generic-simple`), the demo's default.
    pub fn printers(&self) -> Vec<PrinterConfig> {
        if !self.printing.printers.is_empty() {
            return self.printing.printers.clone();
        }
        vec![PrinterConfig {
            name: "spool".to_owned(),
            url: format!("spool://{}", self.state_dir().join("spool").display()),
            profile: default_profile(),
        }]
    }

    /// Merges defaults, the file, `SITEGATE_*` variables and flags, reads `*_file` secrets and
    /// validates the result. Never writes a file or creates a directory.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        load::load(sources)
    }

    /// The state directory: `state_dir` if set (by the file, `SITEGATE_STATE_DIR`, `--state-dir`,
    /// or, at load, systemd's `$STATE_DIRECTORY`), else `./sitegate-data`.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
    }

    /// The PIN-pepper key file: `security.key_file`, else `<state_dir>/keys/sitegate.key`.
    pub fn key_file(&self) -> PathBuf {
        match &self.security.key_file {
            Some(path) => path.clone(),
            None => self.state_dir().join(Path::new(DEFAULT_KEY_FILE)),
        }
    }

    /// Ranges and rules between keys. Errors carry the dotted key but no source; `load` adds it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }
}

/// `kiosk_listen` is an address, or `"off"` for `None`, so that `None` survives a round trip
/// through TOML (a missing key would mean the default, which is on).
mod kiosk_listen_serde {
    use std::fmt;
    use std::net::SocketAddr;

    use serde::Serializer;
    use serde::de::{self, Deserializer, Visitor};

    pub const OFF: &str = "off";

    pub fn serialize<S: Serializer>(value: &Option<SocketAddr>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(addr) => serializer.collect_str(addr),
            None => serializer.serialize_str(OFF),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SocketAddr>, D::Error> {
        deserializer.deserialize_str(KioskListenVisitor)
    }

    struct KioskListenVisitor;

    impl Visitor<'_> for KioskListenVisitor {
        type Value = Option<SocketAddr>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a loopback socket address such as \"127.0.0.1:8080\", or \"off\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            let text = text.trim();
            if text.eq_ignore_ascii_case(OFF) {
                return Ok(None);
            }
            text.parse().map(Some).map_err(E::custom)
        }
    }
}
