use std::net::SocketAddr;

use super::*;

/// A live link as the kernel shows it: flags `0x1003` (no running bit there), operstate `up`.
fn link(name: &str, addrs: &[&str]) -> Link {
    Link {
        name: name.into(),
        addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        running: true,
        ..Link::default()
    }
    .with_flags(0x1003)
}

fn ctx(listen: &str) -> SetupContext {
    SetupContext {
        site_name: "Riverside plant".into(),
        gateway_id: Some("gw-1".into()),
        listen: listen.parse::<SocketAddr>().unwrap(),
        interfaces: vec![],
        hostnames: vec!["gate.example.org".into(), "10.9.9.9".into()],
        fingerprint: Fingerprint([0xab; 32]),
    }
}

fn links() -> Vec<Link> {
    let mut lo = link("lo", &["127.0.0.1", "::1"]);
    lo.loopback = true;
    vec![
        lo,
        link("eth0", &["192.168.1.20", "fe80::1", "2001:db8::5"]),
        link("docker0", &["172.17.0.1"]),
    ]
}

#[test]
fn urls_list_the_lan_addresses_then_the_configured_names_and_the_qr_holds_the_first_with_the_fingerprint() {
    let info = ctx("0.0.0.0:8443").info(&links());
    assert_eq!(
        info.urls,
        vec![
            "https://192.168.1.20:8443",
            "https://gate.example.org:8443",
            "https://10.9.9.9:8443"
        ]
    );
    assert_eq!(info.fingerprint, "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s");
    assert!(info.fingerprint_hex.starts_with("AB:AB:"));
    assert_eq!(
        info.setup_url.as_deref(),
        Some("https://192.168.1.20:8443/?fp=q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s")
    );
}

#[test]
fn a_dual_stack_listener_gets_bracketed_ipv6_urls_but_no_link_local_ones() {
    let info = ctx("[::]:9443").info(&links());
    assert_eq!(
        info.urls[..2],
        ["https://192.168.1.20:9443", "https://[2001:db8::5]:9443"]
    );
    assert!(!info.urls.iter().any(|u| u.contains("fe80")));
}

#[test]
fn a_specific_listen_address_is_the_url_and_loopback_comes_last() {
    let mut c = ctx("192.168.1.20:8443");
    c.hostnames.clear();
    assert_eq!(c.info(&links()).urls, vec!["https://192.168.1.20:8443"]);
    let mut c = ctx("0.0.0.0:8443");
    c.hostnames.clear();
    c.interfaces = vec!["lo".into(), "eth0".into()];
    assert_eq!(
        c.info(&links()).urls,
        vec!["https://192.168.1.20:8443", "https://127.0.0.1:8443"]
    );
}

#[test]
fn with_no_address_and_no_name_there_is_no_setup_url() {
    let mut c = ctx("0.0.0.0:8443");
    c.hostnames.clear();
    let info = c.info(&[]);
    assert!(info.urls.is_empty());
    assert_eq!(info.setup_url, None);
}

/// Reads the terminal QR back into modules (dark = not drawn) and decodes it with rqrr.
fn decode_terminal_qr(text: &str) -> String {
    let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let width = rows[0].len();
    let scale = 4;
    let (w, h) = (width * scale, rows.len() * 2 * scale);
    let dark = |x: usize, y: usize| {
        let (col, row) = (x / scale, y / scale);
        let c = rows[row / 2][col];
        let drawn = if row % 2 == 0 {
            matches!(c, '▀' | '█')
        } else {
            matches!(c, '▄' | '█')
        };
        !drawn
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| if dark(x, y) { 0 } else { 255 });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on screen");
    grids[0].decode().unwrap().1
}

#[test]
fn the_terminal_qr_decodes_to_the_setup_url() {
    let url = "https://192.168.1.20:8443/?fp=q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s";
    let text = qr_text(url).unwrap();
    assert_eq!(decode_terminal_qr(&text), url);
}

#[test]
fn the_svg_qr_is_an_svg_document() {
    let svg = qr_svg("https://192.168.1.20:8443/?fp=x").unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("</svg>"));
}

#[test]
fn a_phone_opens_the_configured_name_else_the_lan_address_never_loopback() {
    let listen: SocketAddr = "0.0.0.0:8443".parse().unwrap();
    let names = vec!["gate.example.org.".to_string()];
    assert_eq!(
        phone_url(&links(), listen, &[], &names).as_deref(),
        Some("https://gate.example.org:8443")
    );
    assert_eq!(
        phone_url(&links(), listen, &[], &[]).as_deref(),
        Some("https://192.168.1.20:8443")
    );
    // Loopback only (a listener on 127.0.0.1, or discovery confined to lo): nothing a phone opens.
    let lo = vec!["lo".to_string()];
    assert_eq!(phone_url(&links(), listen, &lo, &[]), None);
    assert_eq!(
        phone_url(&links(), "127.0.0.1:8443".parse().unwrap(), &[], &[]),
        None
    );
    assert_eq!(phone_url(&[], listen, &[], &[" ".into()]), None);
    // Port 443 is left out; IPv6 is bracketed.
    assert_eq!(
        phone_url(&links(), "[::]:443".parse().unwrap(), &["eth0".into()], &[]).as_deref(),
        Some("https://192.168.1.20")
    );
    assert_eq!(
        https_url("2001:db8::5", 8443).as_deref(),
        Some("https://[2001:db8::5]:8443")
    );
    assert_eq!(
        https_url("gate.example.org", 443).as_deref(),
        Some("https://gate.example.org")
    );
}
