//! `sitegate info` (the gateway's URLs, fingerprint and setup QR, from the config and the state
//! directory's certificate, no running gateway needed) and `sitegate headset discover` (browse mDNS).

use std::fmt::Write;
use std::time::Duration;

use super::Outcome;
use crate::config::Config;
use crate::discovery::browse::{FoundGateway, browse};
use crate::discovery::interfaces::read_links;
use crate::discovery::setup::{SetupContext, SetupInfo, qr_text};
use crate::http::tls::Fingerprint;

/// `sitegate info`.
pub fn info(config: &Config) -> Outcome {
    let fingerprint = match super::healthcheck::cert_fingerprint(config) {
        Ok(f) => Fingerprint(f),
        Err(e) => {
            return Outcome::fail(
                1,
                format!("{e} (the self-signed certificate is made when `sitegate serve` first starts)"),
            );
        }
    };
    let ctx = SetupContext {
        site_name: config.site.name.clone(),
        gateway_id: config.site.id.clone(),
        listen: config.server.listen,
        interfaces: config.discovery.interfaces.clone(),
        hostnames: config.server.public_hostnames.clone(),
        fingerprint,
    };
    let links = read_links().unwrap_or_default();
    Outcome::ok(render_info(&ctx.info(&links)))
}

fn render_info(info: &SetupInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "sitegate for {}", info.site_name);
    if let Some(id) = &info.gateway_id {
        let _ = writeln!(s, "  Gateway ID:   {id}");
    }
    if info.urls.is_empty() {
        let _ = writeln!(
            s,
            "  URL:          none known (no LAN address; set server.public_hostnames or --listen)"
        );
    }
    for (i, url) in info.urls.iter().enumerate() {
        let label = if i == 0 { "URL:" } else { "" };
        let _ = writeln!(s, "  {label:<13} {url}");
    }
    let _ = writeln!(s, "  Fingerprint:  {}  (SHA-256, base64url)", info.fingerprint);
    let _ = writeln!(s, "                {}", info.fingerprint_hex);
    if let Some(setup) = &info.setup_url {
        let _ = writeln!(s, "\nTo set a headset up by hand, scan or type:\n  {setup}\n");
        if let Some(qr) = qr_text(setup) {
            s.push_str(&qr);
            s.push('\n');
        }
    }
    s
}

/// `sitegate headset discover`: exit 0 with the gateways found, 1 when none answered.
pub async fn discover(timeout: Duration) -> Outcome {
    match browse(timeout).await {
        Ok(found) if found.is_empty() => Outcome::fail(
            1,
            format!(
                "no gateway found in {} s (multicast may be blocked here: ask staff for the URL and fingerprint on the staff screen or from `sitegate info`)",
                timeout.as_secs_f32()
            ),
        ),
        Ok(found) => Outcome::ok(render_found(&found)),
        Err(e) => Outcome::fail(1, format!("cannot browse mDNS: {e}")),
    }
}

fn render_found(found: &[FoundGateway]) -> String {
    let mut s = String::new();
    let n = found.len();
    let _ = writeln!(s, "{n} gateway{} found", if n == 1 { "" } else { "s" });
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    for g in found {
        let _ = writeln!(s, "\n{}", g.instance);
        let _ = writeln!(s, "  addresses: {}", g.addresses.join(", "));
        let _ = writeln!(s, "  port:      {}", g.port);
        let _ = writeln!(s, "  host:      {}", g.host);
        let _ = writeln!(s, "  id:        {}", dash(&g.id));
        let _ = writeln!(s, "  site:      {}", dash(&g.site));
        let _ = writeln!(s, "  api:       {}", dash(&g.api));
        let _ = writeln!(s, "  fp:        {}", dash(&g.fp));
        let _ = writeln!(s, "  txtvers:   {}", dash(&g.txtvers));
    }
    s
}
