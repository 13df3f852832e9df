//! Rules a merged configuration must follow: ranges, rules between keys (TLS files in pairs,
//! one way to give the API token), the loopback-only kiosk listener, URL schemes.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::Path;

use super::{
    BODY_LIMIT_RANGE, Config, ConfigError, DELAY_RANGE, FAILURES_RANGE, HEADSET_ABSOLUTE_RANGE,
    HEADSET_IDLE_RANGE, KIOSK_IDLE_RANGE, OTP_MAX_OUTSTANDING_RANGE, OTP_VALID_RANGE, PAIRING_PENDING_RANGE,
    PIN_LENGTH_RANGE, PRINT_ATTEMPTS_RANGE, PRINT_RETRY_SECS_RANGE, PRINT_STATUS_MS_RANGE,
    PRINT_TIMEOUT_SECS_RANGE, REQUEST_TIMEOUT_RANGE, STAFF_ABSOLUTE_RANGE, STAFF_IDLE_KIOSK_RANGE,
    STAFF_IDLE_LAPTOP_RANGE, TERMS_TEXT_MAX_CHARS, TERMS_VERSION_MAX_CHARS,
};

pub(super) fn validate(config: &Config) -> Result<(), ConfigError> {
    validate_site(config)?;
    validate_server(config)?;
    if let Some(dir) = &config.state_dir {
        non_empty_path("state_dir", dir)?;
    }
    validate_security(config)?;
    validate_log(config)?;
    for name in &config.discovery.interfaces {
        if name.trim().is_empty() {
            return Err(ConfigError::invalid(
                "discovery.interfaces",
                "an interface name is empty",
            ));
        }
    }
    validate_central(config)?;
    validate_enrollment(config)?;
    validate_classroom(config)?;
    validate_printing(config)
}

fn validate_classroom(config: &Config) -> Result<(), ConfigError> {
    let c = &config.classroom;
    c.cutoff()
        .map_err(|e| ConfigError::invalid("classroom.auto_checkout_at", e))?;
    c.offset()
        .map_err(|e| ConfigError::invalid("classroom.utc_offset", e))?;
    if c.auto_checkout_after_hours > super::AUTO_CHECKOUT_HOURS_MAX {
        return Err(ConfigError::invalid(
            "classroom.auto_checkout_after_hours",
            format!("must be 0 (never) to {}", super::AUTO_CHECKOUT_HOURS_MAX),
        ));
    }
    in_range(
        "classroom.auto_checkout_check_secs",
        c.auto_checkout_check_secs,
        &super::AUTO_CHECKOUT_CHECK_RANGE,
    )
}

fn validate_enrollment(config: &Config) -> Result<(), ConfigError> {
    let e = &config.enrollment;
    let version = e.terms_version.trim();
    if version.is_empty() || version.chars().count() > TERMS_VERSION_MAX_CHARS || version != e.terms_version {
        return Err(ConfigError::invalid(
            "enrollment.terms_version",
            format!("must be 1 to {TERMS_VERSION_MAX_CHARS} characters, without surrounding spaces"),
        ));
    }
    if e.terms_text.trim().is_empty() {
        return Err(ConfigError::invalid("enrollment.terms_text", "must not be empty"));
    }
    if e.terms_text.chars().count() > TERMS_TEXT_MAX_CHARS {
        return Err(ConfigError::invalid(
            "enrollment.terms_text",
            format!("is longer than {TERMS_TEXT_MAX_CHARS} characters"),
        ));
    }
    in_range("kiosk.idle_seconds", config.kiosk.idle_seconds, &KIOSK_IDLE_RANGE)?;
    if let Some(dir) = &config.kiosk.ui_dir {
        non_empty_path("kiosk.ui_dir", dir)?;
    }
    Ok(())
}

fn validate_printing(config: &Config) -> Result<(), ConfigError> {
    let p = &config.printing;
    let mut names: Vec<&str> = Vec::new();
    for (i, printer) in p.printers.iter().enumerate() {
        let key = |k: &str| format!("printing.printers[{i}].{k}");
        if printer.name.trim().is_empty() {
            return Err(ConfigError::invalid(&key("name"), "must not be empty"));
        }
        if names.contains(&printer.name.as_str()) {
            return Err(ConfigError::invalid(
                &key("name"),
                format!("{:?} is used twice", printer.name),
            ));
        }
        names.push(&printer.name);
        if let Err(reason) = crate::printer::transport::PrinterUrl::parse(&printer.url) {
            return Err(ConfigError::invalid(&key("url"), reason));
        }
        if printer.profile.trim().is_empty() {
            return Err(ConfigError::invalid(&key("profile"), "must not be empty"));
        }
    }
    if let Some(failover) = &p.failover {
        if !names.contains(&failover.as_str()) {
            return Err(ConfigError::invalid(
                "printing.failover",
                format!("{failover:?} is not the name of a printer in printing.printers"),
            ));
        }
        if names.first() == Some(&failover.as_str()) {
            return Err(ConfigError::invalid(
                "printing.failover",
                "must name a second printer, not the first (where badges go)",
            ));
        }
    }
    for (key, path) in [
        ("printing.logo_file", &p.logo_file),
        ("printing.font_file", &p.font_file),
        ("printing.profiles_dir", &p.profiles_dir),
    ] {
        if let Some(path) = path {
            non_empty_path(key, path)?;
        }
    }
    in_range("printing.max_attempts", p.max_attempts, &PRINT_ATTEMPTS_RANGE)?;
    in_range(
        "printing.retry_base_secs",
        p.retry_base_secs,
        &PRINT_RETRY_SECS_RANGE,
    )?;
    in_range(
        "printing.retry_max_secs",
        p.retry_max_secs,
        &PRINT_RETRY_SECS_RANGE,
    )?;
    if p.retry_max_secs < p.retry_base_secs {
        return Err(ConfigError::invalid(
            "printing.retry_max_secs",
            "must not be less than printing.retry_base_secs",
        ));
    }
    in_range(
        "printing.connect_timeout_secs",
        p.connect_timeout_secs,
        &PRINT_TIMEOUT_SECS_RANGE,
    )?;
    in_range(
        "printing.write_timeout_secs",
        p.write_timeout_secs,
        &PRINT_TIMEOUT_SECS_RANGE,
    )?;
    in_range(
        "printing.status_timeout_ms",
        p.status_timeout_ms,
        &PRINT_STATUS_MS_RANGE,
    )
}

fn validate_site(config: &Config) -> Result<(), ConfigError> {
    if config.site.name.trim().is_empty() {
        return Err(ConfigError::invalid("site.name", "must not be empty"));
    }
    if config.site.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
        return Err(ConfigError::invalid(
            "site.id",
            "must not be empty (leave it out to have one generated)",
        ));
    }
    Ok(())
}

fn validate_server(config: &Config) -> Result<(), ConfigError> {
    let server = &config.server;
    if let Some(addr) = server.kiosk_listen
        && !addr.ip().to_canonical().is_loopback()
    {
        return Err(ConfigError::invalid(
            "server.kiosk_listen",
            "the kiosk listener must be a loopback address (127.0.0.0/8 or ::1)",
        ));
    }
    match (&server.tls_cert_file, &server.tls_key_file) {
        (Some(cert), Some(key)) => {
            non_empty_path("server.tls_cert_file", cert)?;
            non_empty_path("server.tls_key_file", key)?;
        }
        (Some(_), None) => {
            return Err(ConfigError::invalid(
                "server.tls_cert_file",
                "server.tls_key_file must be set too (give both TLS files or neither)",
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::invalid(
                "server.tls_key_file",
                "server.tls_cert_file must be set too (give both TLS files or neither)",
            ));
        }
        (None, None) => {}
    }
    in_range(
        "server.body_limit_bytes",
        server.body_limit_bytes,
        &BODY_LIMIT_RANGE,
    )?;
    in_range(
        "server.request_timeout_secs",
        server.request_timeout_secs,
        &REQUEST_TIMEOUT_RANGE,
    )?;
    for name in &server.public_hostnames {
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(ConfigError::invalid(
                "server.public_hostnames",
                format!("{name:?} is not a host name"),
            ));
        }
    }
    Ok(())
}

fn validate_security(config: &Config) -> Result<(), ConfigError> {
    let security = &config.security;
    in_range("security.pin_length", security.pin_length, &PIN_LENGTH_RANGE)?;
    in_range(
        "security.staff_idle_kiosk_secs",
        security.staff_idle_kiosk_secs,
        &STAFF_IDLE_KIOSK_RANGE,
    )?;
    in_range(
        "security.staff_idle_laptop_secs",
        security.staff_idle_laptop_secs,
        &STAFF_IDLE_LAPTOP_RANGE,
    )?;
    in_range(
        "security.staff_absolute_secs",
        security.staff_absolute_secs,
        &STAFF_ABSOLUTE_RANGE,
    )?;
    for (key, idle) in [
        ("security.staff_idle_kiosk_secs", security.staff_idle_kiosk_secs),
        ("security.staff_idle_laptop_secs", security.staff_idle_laptop_secs),
    ] {
        if idle > security.staff_absolute_secs {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "must not exceed security.staff_absolute_secs ({})",
                    security.staff_absolute_secs
                ),
            ));
        }
    }
    if let Some(path) = &security.key_file {
        non_empty_path("security.key_file", path)?;
    }
    validate_credentials(config)
}

fn validate_credentials(config: &Config) -> Result<(), ConfigError> {
    let s = &config.security;
    in_range("security.otp_valid_secs", s.otp_valid_secs, &OTP_VALID_RANGE)?;
    in_range(
        "security.otp_max_outstanding",
        s.otp_max_outstanding,
        &OTP_MAX_OUTSTANDING_RANGE,
    )?;
    if s.totp_issuer
        .as_deref()
        .is_some_and(|i| i.trim().is_empty() || i.contains(':') || i.chars().count() > 64)
    {
        return Err(ConfigError::invalid(
            "security.totp_issuer",
            "must be 1 to 64 characters without a colon",
        ));
    }
    for (key, v) in [
        (
            "security.throttle_account_free_failures",
            s.throttle_account_free_failures,
        ),
        ("security.throttle_device_failures", s.throttle_device_failures),
        ("security.throttle_kiosk_failures", s.throttle_kiosk_failures),
        ("security.throttle_site_failures", s.throttle_site_failures),
        ("security.pairing_max_pending", s.pairing_max_pending),
    ] {
        let range = if key.ends_with("pending") {
            &PAIRING_PENDING_RANGE
        } else {
            &FAILURES_RANGE
        };
        in_range(key, v, range)?;
    }
    in_range(
        "security.throttle_account_base_delay_secs",
        s.throttle_account_base_delay_secs,
        &DELAY_RANGE,
    )?;
    in_range(
        "security.throttle_account_max_delay_secs",
        s.throttle_account_max_delay_secs,
        &DELAY_RANGE,
    )?;
    if s.throttle_account_max_delay_secs < s.throttle_account_base_delay_secs {
        return Err(ConfigError::invalid(
            "security.throttle_account_max_delay_secs",
            "must not be less than security.throttle_account_base_delay_secs",
        ));
    }
    in_range(
        "security.headset_idle_secs",
        s.headset_idle_secs,
        &HEADSET_IDLE_RANGE,
    )?;
    in_range(
        "security.headset_absolute_secs",
        s.headset_absolute_secs,
        &HEADSET_ABSOLUTE_RANGE,
    )?;
    if s.headset_idle_secs > s.headset_absolute_secs {
        return Err(ConfigError::invalid(
            "security.headset_idle_secs",
            "must not exceed security.headset_absolute_secs",
        ));
    }
    Ok(())
}

fn validate_log(config: &Config) -> Result<(), ConfigError> {
    if config.log.filter.trim().is_empty() {
        return Err(ConfigError::invalid(
            "log.filter",
            "must not be empty (e.g. \"info\")",
        ));
    }
    if let Err(err) = tracing_subscriber::EnvFilter::try_new(&config.log.filter) {
        return Err(ConfigError::invalid(
            "log.filter",
            format!("not a valid log filter: {err}"),
        ));
    }
    Ok(())
}

fn validate_central(config: &Config) -> Result<(), ConfigError> {
    let central = &config.central;
    if let Some(url) = &central.url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.and_then(|rest| rest.split(['/', '?', '#']).next());
        if rest.is_none() {
            return Err(ConfigError::invalid(
                "central.url",
                "must start with https:// or http://",
            ));
        }
        if host.is_none_or(str::is_empty) || url.chars().any(char::is_whitespace) {
            return Err(ConfigError::invalid(
                "central.url",
                "is not a URL (expected e.g. https://central.example.com)",
            ));
        }
    }
    if central.api_token.is_some() && central.api_token_file.is_some() {
        return Err(ConfigError::invalid(
            "central.api_token_file",
            "set central.api_token or central.api_token_file, not both",
        ));
    }
    if central
        .api_token
        .as_ref()
        .is_some_and(|token| token.expose().trim().is_empty())
    {
        return Err(ConfigError::invalid("central.api_token", "must not be empty"));
    }
    if let Some(path) = &central.api_token_file {
        non_empty_path("central.api_token_file", path)?;
    }
    Ok(())
}

fn in_range<T: PartialOrd + Display>(
    key: &str,
    value: T,
    range: &RangeInclusive<T>,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(ConfigError::invalid(
        key,
        format!(
            "{value} is out of range (allowed: {} to {})",
            range.start(),
            range.end()
        ),
    ))
}

fn non_empty_path(key: &str, path: &Path) -> Result<(), ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(ConfigError::invalid(key, "must not be an empty path"));
    }
    Ok(())
}
