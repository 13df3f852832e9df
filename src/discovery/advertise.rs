//! The announcing task: runs the mdns-sd responder on the chosen interfaces, follows interface and
//! address changes, keeps the staff status current, and sends goodbye packets when the gateway stops.
//!
//! mdns-sd joins the multicast group on every interface when it starts; we then disable all of
//! them and enable exactly the (interface, address) pairs that [`choose`] picked, through a
//! predicate over a set this task keeps current. mdns-sd re-applies that predicate on its own IP
//! check (every 5 s, or at once when we ask), joins and leaves as addresses come and go, and
//! re-announces the service (`addr_auto`) on each address it gains. Its `IpAdd`/`IpDel` events
//! tell us which addresses it really joined: a chosen address it could not join means multicast
//! is unavailable there.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mdns_sd::{DaemonEvent, IfKind, IfPredicate, Receiver, ServiceDaemon, ServiceInfo, UnregisterStatus};

use super::interfaces::{Chosen, InterfaceRule, choose, read_links};
use super::record::{Advertisement, SERVICE_TYPE};
use super::{DiscoveryHandle, DiscoveryState, DiscoveryStatus};
use crate::tasks::Shutdown;

/// How often the interfaces are looked at again.
pub const POLL: Duration = Duration::from_secs(3);
/// How long to wait for the responder to answer when starting or stopping.
const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// mdns-sd repeats a goodbye 120 ms after the first; let it go out before stopping the responder.
const GOODBYE_REPEAT_WAIT: Duration = Duration::from_millis(300);

type Selected = Arc<RwLock<HashSet<(String, IpAddr)>>>;

/// The discovery task: announce `ad` on the interfaces `rule` chooses until `shutdown`, then say
/// goodbye. Never returns early: when multicast is unavailable it reports so and tries again, so
/// that `/readyz` (which watches tasks) is not affected by the network.
pub async fn advertise(ad: Advertisement, rule: InterfaceRule, handle: DiscoveryHandle, shutdown: Shutdown) {
    let instance = ad.instance_name();
    handle.update(|s| {
        *s = DiscoveryStatus {
            state: DiscoveryState::Starting,
            instance: Some(instance.clone()),
            ..DiscoveryStatus::disabled(ad.port)
        }
    });
    let selected = Selected::default();
    let mut responder: Option<Responder> = None;
    let mut last: Option<Vec<Chosen>> = None;
    let mut reported_failure = false;
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let chosen = current_choice(&rule).await;
        if last.as_ref() != Some(&chosen) {
            log_choice(&chosen, &rule);
            *selected.write().unwrap_or_else(|p| p.into_inner()) = chosen
                .iter()
                .flat_map(|c| c.addrs.iter().map(|a| (c.name.clone(), *a)))
                .collect();
            if let Some(r) = &responder {
                r.recheck();
            }
            last = Some(chosen.clone());
        }
        // No responder until there is something to announce on: mdns-sd joins the multicast
        // group on every interface when it starts, before we narrow it down.
        if responder.is_none() && !chosen.is_empty() {
            match Responder::start(&ad, &instance, selected.clone(), &handle).await {
                Ok(r) => {
                    reported_failure = false;
                    responder = Some(r);
                }
                Err(e) => {
                    if !reported_failure {
                        tracing::warn!(error = %e, "mDNS unavailable; headsets must be set up by hand (see `sitegate info`); retrying");
                        reported_failure = true;
                    }
                    handle.update(|s| {
                        s.state = DiscoveryState::Unavailable;
                        s.interfaces = Vec::new();
                        s.detail = Some(format!("the mDNS responder cannot start: {e}"));
                    });
                }
            }
        }
        if let Some(r) = responder.as_mut() {
            r.drain_events(&handle);
            if r.events.is_disconnected() {
                tracing::warn!("the mDNS responder stopped; starting it again");
                responder = None;
            } else {
                handle.update(|s| status_of(s, &chosen, &r.joined));
            }
        } else if chosen.is_empty() {
            handle.update(|s| status_of(s, &chosen, &HashSet::new()));
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = &mut stop => break,
        }
    }
    if let Some(r) = responder {
        r.stop().await;
    }
}

async fn current_choice(rule: &InterfaceRule) -> Vec<Chosen> {
    match tokio::task::spawn_blocking(read_links).await {
        Ok(Ok(links)) => choose(&links, rule),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot list network interfaces");
            Vec::new()
        }
        Err(_) => Vec::new(),
    }
}

fn log_choice(chosen: &[Chosen], rule: &InterfaceRule) {
    if chosen.is_empty() {
        tracing::warn!(
            configured = ?rule.names,
            "mDNS: no interface to announce on (none up and multicast-capable, or none of discovery.interfaces)"
        );
    } else {
        let list: Vec<String> = chosen
            .iter()
            .map(|c| {
                let addrs: Vec<String> = c.addrs.iter().map(ToString::to_string).collect();
                format!("{} ({})", c.name, addrs.join(", "))
            })
            .collect();
        tracing::info!("mDNS: announcing {SERVICE_TYPE} on {}", list.join("; "));
    }
}

/// The status from what was chosen and what the responder really joined.
fn status_of(s: &mut DiscoveryStatus, chosen: &[Chosen], joined: &HashSet<IpAddr>) {
    let live: Vec<Chosen> = chosen
        .iter()
        .map(|c| Chosen {
            name: c.name.clone(),
            addrs: c.addrs.iter().copied().filter(|a| joined.contains(a)).collect(),
        })
        .filter(|c| !c.addrs.is_empty())
        .collect();
    if chosen.is_empty() {
        s.state = DiscoveryState::NoInterface;
        s.detail =
            Some("no interface is up and multicast-capable (or none of discovery.interfaces exists)".into());
    } else if live.is_empty() {
        s.state = DiscoveryState::Unavailable;
        let names: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).collect();
        s.detail = Some(format!(
            "cannot join the mDNS multicast group on {}",
            names.join(", ")
        ));
    } else {
        s.state = DiscoveryState::Advertising;
        s.detail = None;
    }
    s.interfaces = live;
}

/// A running mdns-sd responder with our service registered.
struct Responder {
    daemon: ServiceDaemon,
    fullname: String,
    events: Receiver<DaemonEvent>,
    /// Addresses the responder has joined the multicast group on (from its events).
    joined: HashSet<IpAddr>,
}

impl Responder {
    async fn start(
        ad: &Advertisement,
        instance: &str,
        selected: Selected,
        handle: &DiscoveryHandle,
    ) -> Result<Responder, mdns_sd::Error> {
        let daemon = ServiceDaemon::new()?;
        let started = Responder::configure(&daemon, ad, instance, selected.clone());
        let (events, fullname) = match started {
            Ok(x) => x,
            Err(e) => {
                let _ = daemon.shutdown();
                return Err(e);
            }
        };
        let mut r = Responder {
            daemon,
            fullname,
            events,
            joined: HashSet::new(),
        };
        // The joins happen on the responder's thread; wait briefly for the first so the status
        // is right from the start.
        if !selected.read().unwrap_or_else(|p| p.into_inner()).is_empty() {
            let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
            while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, r.events.recv_async()).await {
                let joined = matches!(event, DaemonEvent::IpAdd(_));
                r.on_event(event, handle);
                if joined {
                    break;
                }
            }
        }
        Ok(r)
    }

    fn configure(
        daemon: &ServiceDaemon,
        ad: &Advertisement,
        instance: &str,
        selected: Selected,
    ) -> Result<(Receiver<DaemonEvent>, String), mdns_sd::Error> {
        let events = daemon.monitor()?;
        daemon.disable_interface(IfKind::All)?;
        daemon.enable_interface(IfKind::Predicate(IfPredicate::new(move |intf| {
            let ip = intf.ip().to_canonical();
            selected
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|(name, addr)| name == &intf.name && *addr == ip)
        })))?;
        let txt = ad.txt();
        let info = ServiceInfo::new(SERVICE_TYPE, instance, &ad.host_name(), (), ad.port, &txt[..])?
            .enable_addr_auto();
        let fullname = info.get_fullname().to_owned();
        daemon.register(info)?;
        Ok((events, fullname))
    }

    /// Ask the responder to look at the interfaces now rather than at its next check.
    fn recheck(&self) {
        let _ = self
            .daemon
            .set_ip_check_interval(mdns_sd::IP_CHECK_INTERVAL_IN_SECS_DEFAULT);
    }

    fn drain_events(&mut self, handle: &DiscoveryHandle) {
        while let Ok(event) = self.events.try_recv() {
            self.on_event(event, handle);
        }
    }

    fn on_event(&mut self, event: DaemonEvent, handle: &DiscoveryHandle) {
        match event {
            DaemonEvent::IpAdd(ip) => {
                tracing::debug!(%ip, "mDNS: joined the multicast group");
                self.joined.insert(ip.to_canonical());
            }
            DaemonEvent::IpDel(ip) => {
                tracing::debug!(%ip, "mDNS: left the multicast group");
                self.joined.remove(&ip.to_canonical());
            }
            DaemonEvent::NameChange(change) => {
                tracing::warn!(from = %change.original, to = %change.new_name, "mDNS: name taken on the network; renamed");
                if change.original.eq_ignore_ascii_case(&self.fullname) {
                    self.fullname = change.new_name.clone();
                    let instance = change
                        .new_name
                        .strip_suffix(&format!(".{SERVICE_TYPE}"))
                        .unwrap_or(&change.new_name)
                        .to_owned();
                    handle.update(|s| s.instance = Some(instance));
                }
            }
            DaemonEvent::Error(e) => tracing::warn!(error = %e, "mDNS responder error"),
            _ => {}
        }
    }

    /// Unregister (goodbye packets, repeated once by mdns-sd), then stop the responder and wait for it.
    async fn stop(self) {
        match self.daemon.unregister(&self.fullname) {
            Ok(rx) => match tokio::time::timeout(ANSWER_WAIT, rx.recv_async()).await {
                Ok(Ok(UnregisterStatus::OK)) => {
                    tokio::time::sleep(GOODBYE_REPEAT_WAIT).await;
                    tracing::info!("mDNS: goodbye sent");
                }
                other => tracing::warn!(answer = ?other, "mDNS: unregistering did not confirm"),
            },
            Err(e) => tracing::warn!(error = %e, "mDNS: cannot unregister"),
        }
        match self.daemon.shutdown() {
            Ok(rx) => {
                let _ = tokio::time::timeout(ANSWER_WAIT, rx.recv_async()).await;
            }
            Err(e) => tracing::debug!(error = %e, "mDNS: responder already stopped"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(name: &str, addrs: &[&str]) -> Chosen {
        Chosen {
            name: name.into(),
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn the_status_says_advertising_only_for_addresses_the_responder_joined() {
        let mut s = DiscoveryStatus::disabled(8443);
        let want = vec![chosen("eth0", &["192.168.1.2"]), chosen("wlan0", &["10.0.0.2"])];
        let joined: HashSet<IpAddr> = ["192.168.1.2".parse().unwrap()].into();
        status_of(&mut s, &want, &joined);
        assert_eq!(s.state, DiscoveryState::Advertising);
        assert_eq!(s.interfaces, vec![chosen("eth0", &["192.168.1.2"])]);

        status_of(&mut s, &want, &HashSet::new());
        assert_eq!(s.state, DiscoveryState::Unavailable);
        assert!(s.detail.as_deref().unwrap().contains("eth0, wlan0"));

        status_of(&mut s, &[], &joined);
        assert_eq!(s.state, DiscoveryState::NoInterface);
        assert!(s.interfaces.is_empty());
    }
}
