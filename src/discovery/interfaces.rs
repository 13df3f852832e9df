//! Which network interfaces and addresses the gateway announces itself on: a pure choice over a
//! snapshot of the links ([`choose`]), and the reader that takes that snapshot from `/sys/class/net`
//! and getifaddrs ([`read_links`]).
//!
//! `/sys/class/net/<if>/flags` holds the flags as set by `ip link set up` (a live `eth0` reads
//! `0x1003`): it never shows `IFF_RUNNING`, which the kernel computes only for getifaddrs and
//! ioctl. Whether a link runs is read from its `operstate` and `carrier` files instead.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::Path;

/// Name prefixes of interfaces that belong to containers or virtual machines' bridges, never to
/// the site's LAN. veth pairs are not here: they count as real (network namespaces use them).
pub const CONTAINER_PREFIXES: &[&str] = &["docker", "br-", "virbr", "cni", "flannel"];

// Bits of /sys/class/net/<if>/flags (linux/if.h).
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_MULTICAST: u32 = 0x1000;

/// What the kernel says about one network interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Operationally up with a carrier (what the kernel reports as `IFF_RUNNING`), from
    /// `operstate` and `carrier` (see [`is_running`]).
    pub running: bool,
    pub multicast: bool,
    pub loopback: bool,
    /// Is a bridge (`/sys/class/net/<if>/bridge` exists).
    pub bridge: bool,
    /// Is a port of a bridge (`/sys/class/net/<if>/brport` exists).
    pub bridge_port: bool,
    pub addrs: Vec<IpAddr>,
}

impl Link {
    /// Flags as read from `/sys/class/net/<if>/flags` (which carry no running bit).
    pub fn with_flags(mut self, flags: u32) -> Link {
        self.up = flags & IFF_UP != 0;
        self.multicast = flags & IFF_MULTICAST != 0;
        self.loopback = flags & IFF_LOOPBACK != 0;
        self
    }
}

/// How to choose: from the HTTPS listener's address and `discovery.interfaces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceRule {
    /// The address the HTTPS listener is bound to.
    pub listen: IpAddr,
    /// `discovery.interfaces`: when not empty, only these names, in this order.
    pub names: Vec<String>,
}

/// One interface chosen, with the addresses to announce on it (IPv4 first).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Chosen {
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub addrs: Vec<IpAddr>,
}

/// Whether an interface is, by default, one of the site's LAN interfaces: up with a carrier,
/// multicast-capable, not loopback, not a bridge or a bridge's port, not a container's.
pub fn is_lan(link: &Link) -> bool {
    link.up
        && link.running
        && link.multicast
        && !link.loopback
        && !link.bridge
        && !link.bridge_port
        && !CONTAINER_PREFIXES.iter().any(|p| link.name.starts_with(p))
}

/// The interfaces and addresses to announce, IPv4 first.
///
/// - A listener on a specific address announces only that address, on the interface that holds it
///   (and only if that interface is among `names`, when names are given).
/// - A listener on `0.0.0.0` accepts IPv4 only, so only IPv4 addresses are announced; on `[::]`
///   (dual stack) IPv4 and then IPv6.
/// - With `names`, exactly those interfaces (flags are not checked: the operator chose them, and
///   loopback, which tests use, has no multicast flag); without, every [`is_lan`] interface.
pub fn choose(links: &[Link], rule: &InterfaceRule) -> Vec<Chosen> {
    let listen = rule.listen.to_canonical();
    let named = |link: &Link| rule.names.is_empty() || rule.names.iter().any(|n| n == &link.name);
    let mut chosen: Vec<Chosen> = if !listen.is_unspecified() {
        links
            .iter()
            .filter(|l| named(l) && l.addrs.iter().any(|a| a.to_canonical() == listen))
            .map(|l| Chosen {
                name: l.name.clone(),
                addrs: vec![listen],
            })
            .collect()
    } else {
        let want_v6 = listen.is_ipv6();
        let candidates: Vec<&Link> = if rule.names.is_empty() {
            links.iter().filter(|l| is_lan(l)).collect()
        } else {
            // In the configured order; a name given twice counts once.
            let mut out: Vec<&Link> = Vec::new();
            for name in &rule.names {
                if let Some(l) = links.iter().find(|l| &l.name == name)
                    && !out.iter().any(|o| o.name == l.name)
                {
                    out.push(l);
                }
            }
            out
        };
        candidates
            .into_iter()
            .map(|l| Chosen {
                name: l.name.clone(),
                addrs: ipv4_first(l.addrs.iter().copied().filter(|a| a.is_ipv4() || want_v6)),
            })
            .filter(|c| !c.addrs.is_empty())
            .collect()
    };
    if rule.names.is_empty() {
        // Interfaces with an IPv4 address first, then by name, so the first URL is the likeliest to work.
        chosen.sort_by(|a, b| {
            let v4 = |c: &Chosen| !c.addrs.iter().any(IpAddr::is_ipv4);
            v4(a).cmp(&v4(b)).then_with(|| a.name.cmp(&b.name))
        });
    }
    chosen
}

/// IPv4 addresses first, then global IPv6, then link-local IPv6; duplicates removed.
fn ipv4_first(addrs: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let rank = |a: &IpAddr| match a {
        IpAddr::V4(_) => 0,
        IpAddr::V6(v6) if v6.is_unicast_link_local() => 2,
        IpAddr::V6(_) => 1,
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out.sort_by_key(rank);
    out
}

/// A snapshot of this machine's interfaces that have an address: addresses from getifaddrs, flags
/// and bridge membership from `/sys/class/net`. An interface whose flags cannot be read counts as
/// down.
pub fn read_links() -> io::Result<Vec<Link>> {
    let mut by_name: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
    for intf in if_addrs::get_if_addrs()? {
        by_name.entry(intf.name.clone()).or_default().push(intf.ip());
    }
    Ok(by_name
        .into_iter()
        .map(|(name, addrs)| read_link(Path::new("/sys/class/net"), name, addrs))
        .collect())
}

fn read_link(sys: &Path, name: String, addrs: Vec<IpAddr>) -> Link {
    let dir = sys.join(&name);
    let flags = std::fs::read_to_string(dir.join("flags"))
        .ok()
        .and_then(|s| parse_flags(&s))
        .unwrap_or(0);
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
    let mut link = Link {
        bridge: dir.join("bridge").exists(),
        bridge_port: dir.join("brport").exists(),
        addrs,
        name,
        ..Link::default()
    }
    .with_flags(flags);
    link.running = link.up && is_running(read("operstate").as_deref(), read("carrier").as_deref());
    link
}

/// Whether a link runs, the way the kernel decides `IFF_RUNNING` (`dev_get_flags`: operationally
/// up, where `unknown` counts as up): `operstate` `up`; `unknown` (loopback, drivers that do not
/// report it) when `carrier` reads 1; anything else (`down`, `dormant`, `lowerlayerdown`, no file)
/// not. `carrier` cannot be read while the link is administratively down.
pub fn is_running(operstate: Option<&str>, carrier: Option<&str>) -> bool {
    match operstate.map(str::trim) {
        Some("up") => true,
        Some("unknown") => carrier.map(str::trim) == Some("1"),
        _ => false,
    }
}

/// `0x1003` (with or without the prefix, surrounding whitespace allowed).
fn parse_flags(text: &str) -> Option<u32> {
    let t = text.trim();
    u32::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16).ok()
}

#[cfg(test)]
#[path = "interfaces_tests.rs"]
mod tests;
