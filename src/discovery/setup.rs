//! Setting a headset up by hand where multicast is blocked: the gateway's URLs, its certificate
//! fingerprint, and a QR of the setup URL `https://<host>:<port>/?fp=<fp>` (terminal text for
//! `sitegate info`, SVG for the staff screen).

use std::net::{IpAddr, SocketAddr};

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::interfaces::{InterfaceRule, Link, choose};
use crate::http::tls::Fingerprint;

/// What is needed to tell a person how to reach this gateway.
#[derive(Debug, Clone)]
pub struct SetupContext {
    pub site_name: String,
    pub gateway_id: Option<String>,
    /// The HTTPS listener's address, with its real port.
    pub listen: SocketAddr,
    /// `discovery.interfaces`.
    pub interfaces: Vec<String>,
    /// `server.public_hostnames`.
    pub hostnames: Vec<String>,
    pub fingerprint: Fingerprint,
}

/// The gateway's URLs and fingerprint, for the staff screen and `sitegate info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SetupInfo {
    pub site_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    /// HTTPS URLs of the gateway: LAN addresses (IPv4 first), then the configured host names.
    pub urls: Vec<String>,
    /// SHA-256 of the certificate, unpadded base64url (43 characters).
    pub fingerprint: String,
    /// The same, as colon-separated upper-case hex.
    pub fingerprint_hex: String,
    /// `<first URL>/?fp=<fingerprint>`: what the QR holds. Absent when no URL is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_url: Option<String>,
}

impl SetupContext {
    /// The setup facts over a snapshot of this machine's interfaces.
    pub fn info(&self, links: &[Link]) -> SetupInfo {
        let urls = urls(links, self);
        let fingerprint = self.fingerprint.base64url();
        SetupInfo {
            site_name: self.site_name.clone(),
            gateway_id: self.gateway_id.clone(),
            setup_url: urls.first().map(|u| setup_url(u, &fingerprint)),
            urls,
            fingerprint,
            fingerprint_hex: self.fingerprint.colon_hex(),
        }
    }
}

/// HTTPS URLs: the listener's own address when it names one, else the addresses discovery would
/// announce (IPv6 link-local left out: a URL cannot carry its zone for a browser), then the
/// configured public host names. Loopback addresses go last: they only work on the box itself.
fn urls(links: &[Link], ctx: &SetupContext) -> Vec<String> {
    let port = ctx.listen.port();
    let mut addrs = lan_addrs(links, ctx.listen, &ctx.interfaces);
    addrs.sort_by_key(IpAddr::is_loopback);
    let mut out: Vec<String> = Vec::new();
    let named = ctx.hostnames.iter().filter_map(|h| https_url(h, port));
    for u in addrs.into_iter().map(|a| url_of(a, port)).chain(named) {
        if !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

/// The addresses discovery chooses for this listener, without IPv6 link-local ones.
fn lan_addrs(links: &[Link], listen: SocketAddr, interfaces: &[String]) -> Vec<IpAddr> {
    let rule = InterfaceRule {
        listen: listen.ip(),
        names: interfaces.to_vec(),
    };
    choose(links, &rule)
        .into_iter()
        .flat_map(|c| c.addrs)
        .filter(|a| !matches!(a, IpAddr::V6(v6) if v6.is_unicast_link_local()))
        .collect()
}

fn url_of(addr: IpAddr, port: u16) -> String {
    match port {
        443 => match addr {
            IpAddr::V4(a) => format!("https://{a}"),
            IpAddr::V6(a) => format!("https://[{a}]"),
        },
        _ => format!("https://{}", SocketAddr::new(addr, port)),
    }
}

/// `https://<host>[:<port>]` for a configured host name or IP address (`:443` left out); `None` for
/// an empty name.
pub fn https_url(host: &str, port: u16) -> Option<String> {
    let h = host.trim().trim_end_matches('.');
    if h.is_empty() {
        return None;
    }
    Some(match h.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => url_of(ip, port),
        Err(_) if port == 443 => format!("https://{h}"),
        Err(_) => format!("https://{h}:{port}"),
    })
}

/// Where a phone on the site LAN opens this gateway, for access links and their posters: the first
/// of `server.public_hostnames`, else the first LAN address discovery chooses, with the HTTPS
/// listener's port. `None` when there is neither (a loopback address works on the box only).
pub fn phone_url(
    links: &[Link],
    listen: SocketAddr,
    interfaces: &[String],
    hostnames: &[String],
) -> Option<String> {
    if let Some(url) = hostnames.iter().find_map(|h| https_url(h, listen.port())) {
        return Some(url);
    }
    lan_addrs(links, listen, interfaces)
        .into_iter()
        .find(|a| !a.is_loopback())
        .map(|a| url_of(a, listen.port()))
}

/// What the staff screen and `sitegate link show` say instead of a URL when [`phone_url`] has none.
pub const NO_PHONE_URL: &str = "no address a phone on the site LAN can open: set server.public_hostnames, or connect the gateway to the site LAN (discovery found no LAN interface)";

/// The URL a headset set up by hand is given: the gateway and the fingerprint to pin.
pub fn setup_url(url: &str, fingerprint: &str) -> String {
    format!("{}/?fp={fingerprint}", url.trim_end_matches('/'))
}

fn code(data: &str) -> Option<QrCode> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()
}

/// The QR for a terminal: two modules per character cell, light modules drawn, so it reads on the
/// usual dark terminal background; with its quiet zone.
pub fn qr_text(data: &str) -> Option<String> {
    let code = code(data)?;
    Some(
        code.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// The QR as an SVG document, for the staff screen.
pub fn qr_svg(data: &str) -> Option<String> {
    let code = code(data)?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
#[path = "setup_tests.rs"]
mod tests;
