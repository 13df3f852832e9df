//! The annotated example configuration printed by `sitegate config example`: every key with its
//! default, what it does and the values allowed. A test keeps it equal to `Config::default()`.

/// A complete, commented `sitegate.toml`. Loading it gives `Config::default()`; keys without a
/// default are shown commented out.
pub fn example() -> String {
    EXAMPLE.to_owned()
}

const EXAMPLE: &str = r#"# sitegate configuration.
#
# Precedence: built-in defaults < this file < environment variables < command-line flags.
# Every key can also be set from the environment as SITEGATE_<SECTION>__<KEY> (double underscore
# between section and key), e.g. SITEGATE_SERVER__LISTEN=0.0.0.0:8443, or SITEGATE_<KEY> for the
# top-level keys, e.g. SITEGATE_STATE_DIR=/var/lib/sitegate. Lists are comma-separated:
# SITEGATE_DISCOVERY__INTERFACES=eth0,wlan0.
# Check a file with: sitegate config check /etc/sitegate/sitegate.toml

# Where the database, the keys and the self-signed certificate live.
# Default: $STATE_DIRECTORY when run by systemd (StateDirectory=), else ./sitegate-data.
# state_dir = "/var/lib/sitegate"

[site]
# Name of the site, shown on the kiosk, staff screens and badges. Must not be empty.
name = "Demo site"
# The name this gateway goes by on the site's network: its mDNS host
# (sitegate-<id>.local.), `sitegate info` and /api/status. Default: the gateway ID generated
# on first start and kept in the database. Sync does not use this: the central system always
# knows the gateway by that generated ID (gw- and 12 symbols).
# id = "gw-plant-north"

[server]
# HTTPS listener for headsets, staff laptops and the API (address:port).
listen = "0.0.0.0:8443"
# Plain-HTTP listener for the kiosk browser on this machine. Must be a loopback address
# (127.0.0.0/8 or ::1); "off" turns it off.
kiosk_listen = "127.0.0.1:8080"
# PEM certificate chain and private key for HTTPS; give both or neither. Default: a
# self-signed certificate generated in the state directory.
# tls_cert_file = "/etc/sitegate/tls/cert.pem"
# tls_key_file = "/etc/sitegate/tls/key.pem"
# Largest request body accepted, in bytes: 1024 to 67108864 (64 MiB).
body_limit_bytes = 1048576
# Time allowed for one request, in seconds: 1 to 600.
request_timeout_secs = 30
# Host names phones on the site LAN use for this gateway, e.g. ["sitegate.plant.example"]: added
# to the self-signed certificate; the first makes access links' URLs and posters (without one,
# the LAN address discovery chose is used).
public_hostnames = []

[security]
# Number of digits in a VR PIN: 6 to 10.
pin_length = 6
# A staff session on the kiosk (a shared screen) ends after this many idle seconds: 10 to 3600.
staff_idle_kiosk_secs = 120
# A staff session on a laptop ends after this many idle seconds: 60 to 86400.
staff_idle_laptop_secs = 900
# Any staff session ends this many seconds after sign-in: 600 to 604800 (7 days); not less
# than either idle time.
staff_absolute_secs = 43200
# Key that peppers PIN tags and encrypts TOTP secrets; kept outside the database. Back it up
# apart from the database. Default: <state_dir>/keys/sitegate.key.
# key_file = "/etc/sitegate/sitegate.key"
# Let headsets log in with a PIN alone, without naming the user first. Off by default: with it
# on, one guess is tried against every active user at once (the staff screen shows the odds).
pin_only_login = false
# How long a one-time password from staff stays good, in seconds: 60 to 86400.
otp_valid_secs = 900
# One-time passwords outstanding at once over the whole site: 1 to 1000.
otp_max_outstanding = 30
# Issuer shown in authenticator apps. Default: "sitegate <site name>".
# totp_issuer = "ACME Plant North"
# Throttling of failed logins (PIN, one-time password, authenticator code). Per account: after
# this many consecutive failures each further try waits a delay that doubles from the base up
# to the maximum (seconds); a success resets it. Never a lockout.
throttle_account_free_failures = 5
throttle_account_base_delay_secs = 30
throttle_account_max_delay_secs = 3600
# Failures per rolling 24 hours for one headset or laptop address, and for a kiosk; past it that
# device's logins are refused until staff clear it or the window rolls.
throttle_device_failures = 20
throttle_kiosk_failures = 100
# Failures per rolling 24 hours over the whole site; past it logins from headsets and laptops are
# suspended and staff are alerted (the kiosk on this box keeps working).
throttle_site_failures = 300
# A headset session ends after this many idle seconds (60 to 86400), and this many seconds after
# login whatever happens (600 to 604800).
headset_idle_secs = 1800
headset_absolute_secs = 28800
# Pairing requests waiting for staff at once: 1 to 1000. More are refused (a flood is bounded).
pairing_max_pending = 20

[log]
# Which messages to log, in tracing's EnvFilter syntax (e.g. "debug" or "info,sitegate=debug").
filter = "info,sitegate=info"
# "text" for people, "json" for log collectors.
format = "text"

[discovery]
# Announce the gateway on the local network (mDNS) so that headsets find it.
enabled = true
# Interfaces to announce on, e.g. ["eth0", "wlan0"]. Empty: the real LAN interfaces, chosen
# automatically (docker bridges and the like are skipped).
interfaces = []

[central]
# Central system to synchronise with (https:// or http://). Default: none; sitegate then runs
# standalone and is the system of record.
# url = "https://central.example.com"
# The one-time site token the central system issued for this gateway. At start, a gateway that
# has not joined yet joins with it (like `sitegate central join`) and from then on uses its own
# credential, kept in the state directory (0600). Prefer api_token_file, so the token stays out
# of this file; set one or the other, not both.
# api_token = "..."
# File holding the token (a trailing newline is ignored), read at start.
# api_token_file = "/etc/sitegate/central-token"
# Trust the central system's TLS through the system roots (default), or a pinned CA file (PEM),
# or a pinned certificate fingerprint (SHA-256, base64url or colon hex).
# ca_file = "/etc/sitegate/central-ca.pem"
# fingerprint = "..."
# Seconds the central system may hold a pull open while nothing is new (long poll, 0 to 30).
# poll_wait_secs = 25

[enrollment]
# Label of the current terms (1 to 64 characters). A worker accepts this version when enrolling;
# change it whenever terms_text changes, so that nobody accepts a text they did not see.
terms_version = "1"
# The terms shown on the kiosk and the phone page (at most 20000 characters).
terms_text = "I agree that this site keeps my name, contact details and training records to organise my safety training, and shares them with the training provider. I will follow the safety rules of the site while training."
# How an enrolling worker must be reachable: "email_or_phone" (at least one), "email", "phone"
# or "none".
contact_required = "email_or_phone"

[kiosk]
# Seconds untouched after which the kiosk returns to its start screen and forgets what was
# typed: 10 to 3600.
idle_seconds = 60
# Serve the kiosk UI from this folder instead of the copy built into the binary, so that edits
# show on reload (development). Default: the built-in copy.
# ui_dir = "./kiosk-ui"

[classroom]
# Daily cut-off "HH:MM" (site time) at which everyone still checked in to a class is checked
# out, flagged "auto"; "off" for none.
auto_checkout_at = "22:00"
# Also check people out this many hours after their check-in (1 to 24); 0 for never. With a
# cut-off too, whichever comes first.
auto_checkout_after_hours = 0
# The site's offset from UTC ("+01:00", "-05:00"): for the cut-off and "today's classes".
utc_offset = "+00:00"
# How often the gateway looks for people to check out, in seconds: 1 to 3600.
auto_checkout_check_secs = 60
[printing]
# Badge printers, first one first: each has a name, a URL (tcp://HOST[:PORT] with port 9100 by
# default, file:///dev/usb/lp0, or spool://DIR, which keeps each job's bytes and PNG) and a
# profile ID from firmware-profiles/ (default "generic-simple"). Empty: one spool printer in
# <state_dir>/spool with generic-simple, for a site with no printer yet.
# For example: printers = [{ name = "gate", url = "tcp://192.0.2.10:9100", profile = "epson-tm-t20iii" },
#   { name = "office", url = "file:///dev/usb/lp0", profile = "zjiang-pos-5890" }]
printers = []
# Name of a second printer that takes a job when the first one fails.
# failover = "office"
# PNG logo drawn at the top of every badge.
# logo_file = "/etc/sitegate/logo.png"
# TrueType/OpenType font for scripts the embedded DejaVu Sans lacks (e.g. CJK).
# font_file = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# Folder of extra firmware profiles (<id>.toml); a file there with a shipped ID replaces it.
# profiles_dir = "/etc/sitegate/firmware-profiles"
# Tries per badge before the job is failed for good: 1 to 100.
max_attempts = 8
# Wait after the first failed try, doubling per try up to retry_max_secs: 1 to 86400.
retry_base_secs = 5
retry_max_secs = 300
# Time allowed to connect to a network printer, and for it to take each block: 1 to 600.
connect_timeout_secs = 5
write_timeout_secs = 30
# Time a printer has to answer a status request (many never do): 50 to 60000 ms.
status_timeout_ms = 1500
"#;
