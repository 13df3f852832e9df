use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const LAN: u32 = IFF_UP | IFF_RUNNING | IFF_MULTICAST | 0x2; // + IFF_BROADCAST

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn link(name: &str, flags: u32, addrs: &[&str]) -> Link {
    Link {
        name: name.into(),
        addrs: addrs.iter().map(|a| ip(a)).collect(),
        ..Link::default()
    }
    .with_flags(flags)
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

/// A box with everything a site gateway may meet: its LAN, Wi-Fi, docker, libvirt, a bridge and
/// its port, loopback, a cable pulled out, an interface without multicast, a veth of a namespace.
fn zoo() -> Vec<Link> {
    let mut bridge = link("lan-br", LAN, &["10.1.0.1"]);
    bridge.bridge = true;
    let mut port = link("enp3s0", LAN, &["10.1.0.9"]);
    port.bridge_port = true;
    vec![
        link("lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK, &["127.0.0.1", "::1"]),
        link("eth0", LAN, &["fe80::1", "2001:db8::5", "192.168.1.20"]),
        link("wlan0", LAN, &["192.168.50.3"]),
        link("docker0", LAN, &["172.17.0.1"]),
        link("br-5f1e2d", LAN, &["172.18.0.1"]),
        link("virbr0", LAN, &["192.168.122.1"]),
        link("cni0", LAN, &["10.88.0.1"]),
        link("flannel.1", LAN, &["10.244.0.0"]),
        bridge,
        port,
        link("eth1", IFF_UP | IFF_MULTICAST, &["192.168.9.9"]), // no carrier
        link("tun0", IFF_UP | IFF_RUNNING, &["10.8.0.2"]),      // no multicast
        link("eth2", IFF_RUNNING | IFF_MULTICAST, &["192.168.7.7"]), // administratively down
        link("veth1a2b", LAN, &["10.200.0.1"]),
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
    let links = vec![
        link("aaa0", LAN, &["2001:db8::1"]),
        link("zzz0", LAN, &["192.168.1.2"]),
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
fn flags_parse_as_the_kernel_writes_them() {
    assert_eq!(parse_flags("0x1003\n"), Some(0x1003));
    assert_eq!(parse_flags("1003"), Some(0x1003));
    assert_eq!(parse_flags("garbage"), None);
    let l = Link::default().with_flags(0x1003);
    assert!(l.up && l.multicast && !l.running && !l.loopback);
}

#[test]
fn a_link_read_from_a_sys_tree_knows_bridges_and_ports() {
    let dir = tempfile::tempdir().unwrap();
    let mk = |name: &str, flags: &str, extra: Option<&str>| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("flags"), flags).unwrap();
        if let Some(e) = extra {
            std::fs::create_dir_all(d.join(e)).unwrap();
        }
    };
    mk("eth0", "0x1043\n", None);
    mk("br0", "0x1043\n", Some("bridge"));
    mk("eth1", "0x1043\n", Some("brport"));
    let read = |n: &str| read_link(dir.path(), n.into(), vec![ip("10.0.0.1")]);
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
