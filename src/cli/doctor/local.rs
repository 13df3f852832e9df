//! The doctor's checks of what is on this box: the configuration, the state directory, the key
//! file and the certificate with their modes, the clock, the disk and the last backup.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{Check, ago, bytes};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Overrides, Sources};
use crate::keys::Keys;
use crate::printer::Printing;
use crate::service::doctor::DoctorFacts;
use crate::service::sync::status::CLOCK_WARN_SECS;

/// Below this the disk is a failure (the database cannot grow, backups fail)…
const DISK_FAIL_BYTES: u64 = 200 * 1024 * 1024;
/// …and below this a warning.
const DISK_WARN_BYTES: u64 = 1024 * 1024 * 1024;
/// The share of the disk left counts only while little is free: under 5 % fails below 2 GiB free,
/// under 10 % warns below 8 GiB. On a small card it is the early sign, but 20 GiB left on a large
/// disk is room enough.
const DISK_SHARE_FAILS_BELOW: u64 = 2 * 1024 * 1024 * 1024;
const DISK_SHARE_WARNS_BELOW: u64 = 8 * 1024 * 1024 * 1024;
/// A clock this far off the central system's breaks authenticator codes (±1 step of 30 s).
const CLOCK_TOTP_SECS: i64 = 30;
/// Slack against the last good time: the mark is saved every 15 s.
const CLOCK_SLACK_SECS: i64 = 60;

/// The configuration, and the check of it. A broken file is a failed check, and the other
/// checks go on with the defaults (and the environment and flags).
pub(super) fn config(file: Option<PathBuf>, overrides: impl Fn() -> Overrides) -> (Config, Check) {
    const NAME: &str = "config";
    let Some(path) = file else {
        let config = super::fallback(overrides());
        return (
            config,
            Check::ok(
                NAME,
                "no configuration file given (--config or SITEGATE_CONFIG): built-in defaults",
            ),
        );
    };
    match Config::load(&Sources::from_process(Some(path.clone()), overrides())) {
        Err(e) => (
            super::fallback(overrides()),
            Check::fail(NAME, format!("{e}; the checks below use the built-in defaults")),
        ),
        Ok(config) => {
            // What `serve` would refuse at start: the same loading `config check` does.
            let tls = match (&config.server.tls_cert_file, &config.server.tls_key_file) {
                (Some(cert), Some(key)) => {
                    crate::http::tls::install_crypto_provider();
                    crate::http::tls::load_or_create(Some(cert), Some(key), &config.state_dir(), &[])
                        .err()
                        .map(|e| e.to_string())
                }
                _ => None,
            };
            let printing = Printing::from_config(&config).err().map(|e| e.to_string());
            let check = match tls.or(printing) {
                Some(problem) => Check::fail(NAME, format!("{}: {problem}", path.display())),
                None => Check::ok(NAME, format!("{} is valid", path.display())),
            };
            (config, check)
        }
    }
}

fn mode(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// The state directory, the key file and the TLS certificate with its key.
pub(super) fn files(config: &Config, facts: Option<&DoctorFacts>) -> Vec<Check> {
    let state_dir = config.state_dir();
    let has_db = state_dir.join(crate::DB_FILE).exists();
    let mut out = Vec::new();
    out.push(match mode(&state_dir) {
        None => Check::fail(
            "state directory",
            format!(
                "{} does not exist (made when the gateway first starts)",
                state_dir.display()
            ),
        ),
        Some(m) if m & 0o077 != 0 => Check::fail(
            "state directory",
            format!(
                "{} is open to other users (mode {m:03o}); run: chmod 700 {}",
                state_dir.display(),
                state_dir.display()
            ),
        ),
        Some(m) => {
            let db = facts.and_then(|f| f.db_bytes).or_else(|| {
                std::fs::metadata(state_dir.join(crate::DB_FILE))
                    .ok()
                    .map(|m| m.len())
            });
            let db = match (db, facts) {
                (Some(n), Some(f)) => format!(
                    "; database {} (schema {}, {} users)",
                    bytes(n),
                    f.schema_version,
                    f.users
                ),
                (Some(n), None) => format!("; database {}", bytes(n)),
                (None, _) => "; no database yet".into(),
            };
            Check::ok(
                "state directory",
                format!("{} (mode {m:03o}){db}", state_dir.display()),
            )
        }
    });
    let key = config.key_file();
    out.push(match Keys::load_existing(&key) {
        Ok(Some(_)) => Check::ok(
            "key file",
            format!(
                "{} (mode {:03o}), kept apart from the database",
                key.display(),
                mode(&key).unwrap_or(0)
            ),
        ),
        Ok(None) if has_db => Check::fail(
            "key file",
            format!(
                "{} is missing: without it no PIN or one-time password can be checked and no badge verified; put back the copy kept with the backups",
                key.display()
            ),
        ),
        Ok(None) => Check::warn(
            "key file",
            format!(
                "{} not made yet (made when the gateway first starts)",
                key.display()
            ),
        ),
        Err(e) => Check::fail("key file", e.to_string()),
    });
    out.push(certificate(config));
    out
}

fn certificate(config: &Config) -> Check {
    const NAME: &str = "certificate";
    let tls_dir = config.state_dir().join("tls");
    let self_signed = config.server.tls_cert_file.is_none();
    let cert = config
        .server
        .tls_cert_file
        .clone()
        .unwrap_or_else(|| tls_dir.join("cert.pem"));
    let key = config
        .server
        .tls_key_file
        .clone()
        .unwrap_or_else(|| tls_dir.join("key.pem"));
    if self_signed && !cert.exists() && !key.exists() {
        return Check::warn(
            NAME,
            format!(
                "no certificate in {} yet (a self-signed one is made when the gateway first starts)",
                tls_dir.display()
            ),
        );
    }
    let fingerprint = match super::super::healthcheck::cert_fingerprint(config) {
        Ok(f) => crate::http::tls::Fingerprint(f).base64url(),
        Err(e) => return Check::fail(NAME, e),
    };
    if let Some(m) = mode(&cert)
        && m & 0o022 != 0
    {
        return Check::fail(
            NAME,
            format!(
                "{} can be changed by other users (mode {m:03o}); run: chmod 644 {}",
                cert.display(),
                cert.display()
            ),
        );
    }
    match mode(&key) {
        None => Check::fail(NAME, format!("its key {} is missing", key.display())),
        Some(m) if m & 0o077 != 0 => Check::fail(
            NAME,
            format!(
                "its key {} is readable by other users (mode {m:03o}); run: chmod 600 {}",
                key.display(),
                key.display()
            ),
        ),
        Some(m) => Check::ok(
            NAME,
            format!(
                "{} with key mode {m:03o}; fingerprint {fingerprint}",
                cert.display()
            ),
        ),
    }
}

/// The box's clock: against the central system when joined (the offset of its last answer),
/// else against the last good time the gateway recorded (the security clock's mark).
pub(super) fn clock(facts: Option<&DoctorFacts>) -> Check {
    const NAME: &str = "clock";
    let now = SystemClock.now();
    let shown = stamp(now);
    if now.year() < 2025 {
        return Check::fail(
            NAME,
            format!("the clock says {shown}: it was never set (no network time, no clock battery?)"),
        );
    }
    let Some(f) = facts else {
        return Check::warn(
            NAME,
            format!("{shown}; nothing to compare it with (no database yet)"),
        );
    };
    if f.sync.joined
        && let Some(offset) = f.sync.clock_offset_secs
    {
        let said = format!(
            "{} the central system's clock",
            if offset == 0 {
                "the same as".to_string()
            } else {
                format!(
                    "{} s {}",
                    offset.abs(),
                    if offset > 0 { "behind" } else { "ahead of" }
                )
            }
        );
        return if offset.abs() > CLOCK_WARN_SECS {
            Check::fail(
                NAME,
                format!("{said}: authenticator codes and expiry times are off; set up network time (NTP)"),
            )
        } else if offset.abs() > CLOCK_TOTP_SECS {
            Check::warn(
                NAME,
                format!("{said}: authenticator codes may be refused; check network time (NTP)"),
            )
        } else {
            Check::ok(NAME, format!("{shown}, {said}"))
        };
    }
    let Some(mark) = f.clock_mark else {
        return Check::ok(
            NAME,
            format!("{shown}; no earlier time recorded to compare it with"),
        );
    };
    let behind = (mark.wall - now).whole_seconds();
    if behind > CLOCK_SLACK_SECS {
        return Check::fail(
            NAME,
            format!(
                "the clock is {} behind the last good time the gateway recorded ({}): it was set back; check network time (NTP)",
                ago(behind),
                stamp(mark.wall)
            ),
        );
    }
    let ahead = (mark.at - mark.wall).whole_seconds();
    if ahead > CLOCK_SLACK_SECS {
        return Check::warn(
            NAME,
            format!(
                "{shown}; the clock was set back by {} at some time (the gateway's security clock kept going); check network time (NTP)",
                ago(ahead)
            ),
        );
    }
    let basis = if f.sync.joined {
        "after the last good time recorded (no answer from the central system yet)"
    } else {
        "after the last good time the gateway recorded"
    };
    Check::ok(NAME, format!("{shown}, {basis}"))
}

/// A time as people and logs write it: `2026-11-25T07:00:00Z`, to the second.
fn stamp(t: time::OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

/// Free space on the state directory's filesystem, and the database's size.
pub(super) fn disk(config: &Config) -> Check {
    const NAME: &str = "disk";
    let state_dir = config.state_dir();
    // The nearest folder that exists (a fresh box has no state directory yet).
    let mut at: &Path = &state_dir;
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    let st = match rustix::fs::statvfs(at) {
        Ok(st) => st,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot see the free space of {}: {e}", at.display()),
            );
        }
    };
    let free = st.f_bavail.saturating_mul(st.f_frsize);
    let total = st.f_blocks.saturating_mul(st.f_frsize);
    let pct = free.saturating_mul(100).checked_div(total).unwrap_or(0);
    let db = std::fs::metadata(state_dir.join(crate::DB_FILE))
        .map(|m| format!("; database {}", bytes(m.len())))
        .unwrap_or_default();
    let said = format!(
        "{} free of {} ({pct}%) on {}{db}",
        bytes(free),
        bytes(total),
        at.display()
    );
    match disk_room(free, total) {
        Room::Out => Check::fail(
            NAME,
            format!("{said}: make room, the database and backups need it"),
        ),
        Room::Low => Check::warn(NAME, format!("{said}: getting full")),
        Room::Enough => Check::ok(NAME, said),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Room {
    Out,
    Low,
    Enough,
}

/// How much room `free` of `total` bytes is: bytes first; the share only on a small disk.
fn disk_room(free: u64, total: u64) -> Room {
    let pct = free.saturating_mul(100).checked_div(total).unwrap_or(0);
    if free < DISK_FAIL_BYTES || (pct < 5 && free < DISK_SHARE_FAILS_BELOW) {
        Room::Out
    } else if free < DISK_WARN_BYTES || (pct < 10 && free < DISK_SHARE_WARNS_BELOW) {
        Room::Low
    } else {
        Room::Enough
    }
}

/// The last backup's age.
pub(super) fn backup(facts: Option<&DoctorFacts>) -> Check {
    const NAME: &str = "backup";
    let Some(b) = facts.and_then(|f| f.last_backup.as_ref()) else {
        return Check::warn(NAME, "no backup recorded");
    };
    let age = (SystemClock.now() - b.at).whole_seconds();
    let place = b.path.as_deref().map(|p| format!(" in {p}")).unwrap_or_default();
    let said = format!("the last backup is {} old ({}){place}", ago(age), stamp(b.at));
    if age <= 129_600 {
        Check::ok(NAME, said)
    } else if age <= 604_800 {
        Check::warn(NAME, format!("{said}: backups should run daily"))
    } else {
        Check::fail(NAME, format!("{said}: backups are not running"))
    }
}

#[cfg(test)]
mod disk_tests {
    use super::{Room, disk_room};
    const GIB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn a_large_disk_with_room_to_spare_is_enough_whatever_its_share() {
        // 23.6 GiB of 252 GiB (9 %): what a build machine had when this test was written.
        assert_eq!(disk_room(236 * GIB / 10, 252 * GIB), Room::Enough);
        assert_eq!(disk_room(9 * GIB, 400 * GIB), Room::Enough);
    }

    #[test]
    fn a_small_card_warns_by_its_share_and_every_disk_by_bytes() {
        assert_eq!(
            disk_room(GIB + GIB / 2, 16 * GIB),
            Room::Low,
            "9 % of a 16 GiB card"
        );
        assert_eq!(disk_room(GIB / 2, 16 * GIB), Room::Out, "3 % of a 16 GiB card");
        assert_eq!(
            disk_room(3 * GIB, 4000 * GIB),
            Room::Low,
            "a nearly full large disk"
        );
        assert_eq!(
            disk_room(GIB / 2, 4000 * GIB),
            Room::Out,
            "half a GiB of a large disk"
        );
        assert_eq!(
            disk_room(100 * 1024 * 1024, 4000 * GIB),
            Room::Out,
            "under 200 MiB"
        );
        assert_eq!(disk_room(4 * GIB, 16 * GIB), Room::Enough);
    }
}
