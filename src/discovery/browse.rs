//! Browsing for gateways with mdns-sd: what a headset does to find one (`sitegate headset discover`).

use std::collections::BTreeMap;
use std::time::Duration;

use mdns_sd::{ResolvedService, ServiceDaemon, ServiceEvent};
use serde::Serialize;

use super::record::SERVICE_TYPE;

/// One gateway found on the network, as its announcement says. `fp` is only a hint (mDNS is not
/// authenticated): pairing is what makes a headset trust a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundGateway {
    /// The instance name (the site's name, maybe with " (2)").
    pub instance: String,
    pub host: String,
    /// IPv4 first; IPv6 link-local ones carry their `%interface`.
    pub addresses: Vec<String>,
    pub port: u16,
    pub txtvers: Option<String>,
    pub id: Option<String>,
    pub site: Option<String>,
    pub api: Option<String>,
    pub fp: Option<String>,
}

impl FoundGateway {
    fn from_resolved(r: &ResolvedService) -> FoundGateway {
        let instance = r
            .fullname
            .strip_suffix(&format!(".{SERVICE_TYPE}"))
            .unwrap_or(&r.fullname)
            .replace("\\.", ".")
            .replace("\\\\", "\\");
        let mut addrs: Vec<_> = r.addresses.iter().collect();
        addrs.sort_by_key(|a| (!a.is_ipv4(), a.to_string()));
        let txt = |k: &str| r.get_property_val_str(k).map(str::to_owned);
        FoundGateway {
            instance,
            host: r.host.clone(),
            addresses: addrs.into_iter().map(ToString::to_string).collect(),
            port: r.port,
            txtvers: txt("txtvers"),
            id: txt("id"),
            site: txt("site"),
            api: txt("api"),
            fp: txt("fp"),
        }
    }
}

/// Browse `_sitegate._tcp.local.` on every interface for `timeout`; the gateways still announced
/// at the end, ordered by instance name.
pub async fn browse(timeout: Duration) -> Result<Vec<FoundGateway>, mdns_sd::Error> {
    let daemon = ServiceDaemon::new()?;
    let events = match daemon.browse(SERVICE_TYPE) {
        Ok(rx) => rx,
        Err(e) => {
            let _ = daemon.shutdown();
            return Err(e);
        }
    };
    let mut found: BTreeMap<String, FoundGateway> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, events.recv_async()).await {
        match event {
            ServiceEvent::ServiceResolved(r) => {
                found.insert(r.fullname.to_lowercase(), FoundGateway::from_resolved(&r));
            }
            ServiceEvent::ServiceRemoved(_, fullname) => {
                found.remove(&fullname.to_lowercase());
            }
            _ => {}
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    if let Ok(rx) = daemon.shutdown() {
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.recv_async()).await;
    }
    let mut list: Vec<FoundGateway> = found.into_values().collect();
    list.sort_by(|a, b| a.instance.cmp(&b.instance));
    Ok(list)
}

/// Ask on one interface only (as a headset on that network would) whether the gateway with TXT
/// `id` = `gateway_id` answers: `Ok(Some(found))` when it did within `timeout`.
pub async fn query_on(
    interface: &str,
    gateway_id: &str,
    timeout: Duration,
) -> Result<Option<FoundGateway>, mdns_sd::Error> {
    use mdns_sd::IfKind;
    let daemon = ServiceDaemon::new()?;
    let confined = daemon
        .disable_interface(IfKind::All)
        .and_then(|()| daemon.enable_interface(IfKind::Name(interface.to_owned())));
    let events = match confined.and_then(|()| daemon.browse(SERVICE_TYPE)) {
        Ok(rx) => rx,
        Err(e) => {
            let _ = daemon.shutdown();
            return Err(e);
        }
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut answer = None;
    while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, events.recv_async()).await {
        if let ServiceEvent::ServiceResolved(r) = event {
            let found = FoundGateway::from_resolved(&r);
            if found.id.as_deref() == Some(gateway_id) {
                answer = Some(found);
                break;
            }
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    if let Ok(rx) = daemon.shutdown() {
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.recv_async()).await;
    }
    Ok(answer)
}
