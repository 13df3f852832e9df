use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// What `/sys/class/net/<if>/flags` reads for a live Ethernet link: up, broadcast, multicast. The
/// kernel never writes IFF_RUNNING (0x40) there; `operstate` and `carrier` say whether it runs.
const LAN: &str = "0x1003";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// One interface as the kernel shows it: its `/sys/class/net/<if>` files (a file given as `None`
/// is absent or unreadable, as `carrier` is on a link that is down), read back by `read_link`.
struct Sys(tempfile::TempDir);

impl Sys {
    fn new() -> Sys {
        Sys(tempfile::tempdir().unwrap())
    }

    fn link(&self, name: &str, flags: &str, operstate: &str, carrier: Option<&str>, addrs: &[&str]) -> Link {
        let d = self.0.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("flags"), format!("{flags}\n")).unwrap();
        std::fs::write(d.join("operstate"), format!("{operstate}\n")).unwrap();
        if let Some(c) = carrier {
            std::fs::write(d.join("carrier"), format!("{c}\n")).unwrap();
        }
        read_link(self.0.path(), name.into(), addrs.iter().map(|a| ip(a)).collect())
    }

    /// A live LAN-like link: `0x1003`, operstate `up`, carrier 1.
    fn live(&self, name: &str, addrs: &[&str]) -> Link {
        self.link(name, LAN, "up", Some("1"), addrs)
    }
}

fn any_v4() -> InterfaceRule {
    InterfaceRule {
        listen: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        names: vec![],
    }
}

fn names(chosen: &[Chosen]) -> Vec<&str> {
    chosen.iter().map(|c| c.name.as_str()).collect()
}

/// A box with everything a site gateway may meet, each as the kernel shows it: its LAN, Wi-Fi,
/// docker, libvirt, a bridge and its port, loopback, a cable pulled out, Wi-Fi not associated, a
/// tunnel without multicast, an interface set down, a veth of a namespace.
fn zoo() -> Vec<Link> {
    let sys = Sys::new();
    let mut bridge = sys.live("lan-br", &["10.1.0.1"]);
    bridge.bridge = true;
    let mut port = sys.live("enp3s0", &["10.1.0.9"]);
    port.bridge_port = true;
    vec![
        sys.link("lo", "0x9", "unknown", Some("1"), &["127.0.0.1", "::1"]),
        sys.live("eth0", &["fe80::1", "2001:db8::5", "192.168.1.20"]),
        sys.live("wlan0", &["192.168.50.3"]),
        sys.live("docker0", &["172.17.0.1"]),
        sys.live("br-5f1e2d", &["172.18.0.1"]),
        sys.live("virbr0", &["192.168.122.1"]),
        sys.live("cni0", &["10.88.0.1"]),
        sys.live("flannel.1", &["10.244.0.0"]),
        bridge,
        port,
        sys.link("eth1", LAN, "down", Some("0"), &["192.168.9.9"]), // cable pulled out
        sys.link("wlan1", LAN, "dormant", Some("1"), &["192.168.51.4"]), // not associated
        sys.link("wg0", "0x91", "unknown", Some("1"), &["10.8.0.2"]), // no multicast
        sys.link("eth2", "0x1002", "down", None, &["192.168.7.7"]), // administratively down
        sys.live("veth1a2b", &["10.200.0.1"]),
    ]
}

#[test]
fn by_default_only_real_lan_interfaces_are_chosen_and_veth_counts_as_real() {
    let chosen = choose(&zoo(), &any_v4());
    assert_eq!(names(&chosen), vec!["eth0", "veth1a2b", "wlan0"]);
}

#[test]
fn a_listener_on_0_0_0_0_announces_ipv4_addresses_only() {
    let chosen = choose(&zoo(), &any_v4());
    assert_eq!(chosen[0].addrs, vec![ip("192.168.1.20")]);
}

#[test]
fn a_dual_stack_listener_announces_ipv4_first_then_global_then_link_local_ipv6() {
    let rule = InterfaceRule {
        listen: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        names: vec![],
    };
    let chosen = choose(&zoo(), &rule);
    assert_eq!(
        chosen[0].addrs,
        vec![ip("192.168.1.20"), ip("2001:db8::5"), ip("fe80::1")]
    );
}

#[test]
fn interfaces_with_ipv4_come_before_ipv6_only_ones() {
    let sys = Sys::new();
    let links = vec![
        sys.live("aaa0", &["2001:db8::1"]),
        sys.live("zzz0", &["192.168.1.2"]),
    ];
    let rule = InterfaceRule {
        listen: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        names: vec![],
    };
    assert_eq!(names(&choose(&links, &rule)), vec!["zzz0", "aaa0"]);
}

#[test]
fn configured_names_confine_the_choice_keep_their_order_and_may_name_loopback() {
    let rule = InterfaceRule {
        listen: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        names: vec!["wlan0".into(), "lo".into(), "docker0".into(), "wlan0".into()],
    };
    let chosen = choose(&zoo(), &rule);
    assert_eq!(names(&chosen), vec!["wlan0", "lo", "docker0"]);
    assert_eq!(chosen[1].addrs, vec![ip("127.0.0.1")]);
}

#[test]
fn a_configured_name_that_does_not_exist_chooses_nothing() {
    let rule = InterfaceRule {
        listen: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        names: vec!["eth9".into()],
    };
    assert!(choose(&zoo(), &rule).is_empty());
}

#[test]
fn a_specific_listen_address_is_the_only_one_announced() {
    let rule = InterfaceRule {
        listen: ip("192.168.50.3"),
        names: vec![],
    };
    assert_eq!(
        choose(&zoo(), &rule),
        vec![Chosen {
            name: "wlan0".into(),
            addrs: vec![ip("192.168.50.3")]
        }]
    );
    // Even on an interface the default would skip: the operator bound it on purpose.
    let rule = InterfaceRule {
        listen: ip("172.17.0.1"),
        names: vec![],
    };
    assert_eq!(names(&choose(&zoo(), &rule)), vec!["docker0"]);
}

#[test]
fn a_specific_listen_address_outside_the_configured_names_is_not_announced() {
    let rule = InterfaceRule {
        listen: ip("192.168.50.3"),
        names: vec!["eth0".into()],
    };
    assert!(choose(&zoo(), &rule).is_empty());
}

#[test]
fn a_listen_address_no_interface_holds_chooses_nothing() {
    let rule = InterfaceRule {
        listen: ip("192.168.200.200"),
        names: vec![],
    };
    assert!(choose(&zoo(), &rule).is_empty());
}

#[test]
fn a_box_with_only_containers_and_loopback_has_nothing_to_announce_on() {
    let links: Vec<Link> = zoo()
        .into_iter()
        .filter(|l| !["eth0", "wlan0", "veth1a2b"].contains(&l.name.as_str()))
        .collect();
    assert!(choose(&links, &any_v4()).is_empty());
}

#[test]
fn flags_parse_as_the_kernel_writes_them_and_carry_no_running_bit() {
    assert_eq!(parse_flags("0x1003\n"), Some(0x1003));
    assert_eq!(parse_flags("1003"), Some(0x1003));
    assert_eq!(parse_flags("garbage"), None);
    let l = Link::default().with_flags(0x1003);
    assert!(l.up && l.multicast && !l.loopback);
}

#[test]
fn a_live_link_whose_flags_read_0x1003_is_running_and_on_the_lan() {
    // The field failure: a live eth0 reads 0x1003 (no IFF_RUNNING); its operstate says up.
    let sys = Sys::new();
    let eth0 = sys.live("eth0", &["192.168.1.20"]);
    assert!(eth0.up && eth0.running && eth0.multicast, "{eth0:?}");
    assert!(is_lan(&eth0));
    assert_eq!(names(&choose(&[eth0], &any_v4())), vec!["eth0"]);
}

#[test]
fn running_follows_operstate_as_the_kernel_decides_iff_running() {
    assert!(is_running(Some("up\n"), Some("1\n")));
    assert!(is_running(Some("up"), None));
    assert!(is_running(Some("unknown\n"), Some("1\n")));
    assert!(!is_running(Some("unknown"), Some("0")));
    assert!(!is_running(Some("unknown"), None));
    for state in ["down", "dormant", "lowerlayerdown", "notpresent", "testing"] {
        assert!(!is_running(Some(state), Some("1")), "{state}");
    }
    assert!(!is_running(None, Some("1")));
}

#[test]
fn a_link_read_from_a_sys_tree_knows_bridges_and_ports() {
    let sys = Sys::new();
    for (name, extra) in [("eth0", None), ("br0", Some("bridge")), ("eth1", Some("brport"))] {
        sys.live(name, &[]);
        if let Some(e) = extra {
            std::fs::create_dir_all(sys.0.path().join(name).join(e)).unwrap();
        }
    }
    let read = |n: &str| read_link(sys.0.path(), n.into(), vec![ip("10.0.0.1")]);
    assert!(is_lan(&read("eth0")));
    assert!(read("br0").bridge && !is_lan(&read("br0")));
    assert!(read("eth1").bridge_port && !is_lan(&read("eth1")));
    // No flags file (the interface vanished): counts as down.
    assert!(!is_lan(&read("gone0")));
}

#[test]
fn this_machine_can_be_read() {
    let links = read_links().unwrap();
    assert!(links.iter().any(|l| l.loopback), "{links:?}");
}
