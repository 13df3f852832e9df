//! mDNS discovery: the gateway announces `_sitegate._tcp.local.` on the chosen interfaces (a
//! background task), reports how that goes for the staff status, and browses for gateways (the
//! reference headset client); plus the setup URL and QR for networks that block multicast.

pub mod advertise;
pub mod browse;
pub mod interfaces;
pub mod record;
pub mod setup;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Config;
use crate::http::tls::Fingerprint;
use crate::tasks::Tasks;

pub use advertise::advertise;
pub use interfaces::{Chosen, InterfaceRule};
pub use record::{Advertisement, SERVICE_TYPE};
pub use setup::{SetupContext, SetupInfo};

/// The facts for telling people how to reach a gateway whose HTTPS listener is on `listen`.
pub fn setup_context(
    config: &Config,
    listen: SocketAddr,
    gateway_id: &str,
    fingerprint: &Fingerprint,
) -> SetupContext {
    SetupContext {
        site_name: config.site.name.clone(),
        gateway_id: Some(gateway_id.to_owned()),
        listen,
        interfaces: config.discovery.interfaces.clone(),
        hostnames: config.server.public_hostnames.clone(),
        fingerprint: fingerprint.clone(),
    }
}

/// Start announcing (when `discovery.enabled`) as a task of `tasks`; returns what the HTTP side
/// reads: the live status and the facts for setting a headset up by hand.
pub fn start(
    config: &Config,
    tasks: &Tasks,
    setup: SetupContext,
    gateway_id: &str,
    fingerprint: &Fingerprint,
) -> DiscoveryHandle {
    let listen = setup.listen;
    let handle = DiscoveryHandle::new(DiscoveryStatus::disabled(listen.port())).with_setup(setup);
    if config.discovery.enabled {
        let ad = Advertisement {
            site_name: config.site.name.clone(),
            gateway_id: gateway_id.to_owned(),
            fingerprint: fingerprint.base64url(),
            port: listen.port(),
        };
        let rule = InterfaceRule {
            listen: listen.ip(),
            names: config.discovery.interfaces.clone(),
        };
        tasks.spawn("discovery", advertise(ad, rule, handle.clone(), tasks.shutdown()));
    } else {
        tracing::info!("mDNS discovery is off (discovery.enabled = false)");
    }
    handle
}

/// How announcing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryState {
    /// `discovery.enabled = false`.
    Disabled,
    /// The task has not looked at the interfaces yet.
    Starting,
    /// Announced on at least one interface.
    Advertising,
    /// No interface to announce on (none up and multicast-capable, or none of the configured ones).
    NoInterface,
    /// Multicast cannot be used here (the mDNS responder could not start); retried.
    Unavailable,
}

/// Discovery's part of the staff status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DiscoveryStatus {
    pub state: DiscoveryState,
    /// The service type, `_sitegate._tcp.local.`.
    pub service_type: String,
    /// The instance name announced (the site's name; mdns-sd adds " (2)" on a conflict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The HTTPS port announced.
    pub port: u16,
    /// The interfaces and addresses announced on, IPv4 first.
    pub interfaces: Vec<Chosen>,
    /// Why it is not advertising, for the technician.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl DiscoveryStatus {
    pub fn disabled(port: u16) -> DiscoveryStatus {
        DiscoveryStatus {
            state: DiscoveryState::Disabled,
            service_type: SERVICE_TYPE.to_owned(),
            instance: None,
            port,
            interfaces: Vec::new(),
            detail: None,
        }
    }
}

/// What the HTTP side reads about discovery: the current [`DiscoveryStatus`] (written by the
/// task, read by `/api/status`) and the facts for setting a headset up by hand.
#[derive(Debug, Clone)]
pub struct DiscoveryHandle {
    status: Arc<RwLock<DiscoveryStatus>>,
    setup: Option<Arc<SetupContext>>,
}

impl Default for DiscoveryHandle {
    fn default() -> Self {
        DiscoveryHandle::new(DiscoveryStatus::disabled(0))
    }
}

impl DiscoveryHandle {
    pub fn new(status: DiscoveryStatus) -> DiscoveryHandle {
        DiscoveryHandle {
            status: Arc::new(RwLock::new(status)),
            setup: None,
        }
    }

    pub fn with_setup(mut self, setup: SetupContext) -> DiscoveryHandle {
        self.setup = Some(Arc::new(setup));
        self
    }

    pub fn status(&self) -> DiscoveryStatus {
        self.status.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn setup(&self) -> Option<Arc<SetupContext>> {
        self.setup.clone()
    }

    fn update(&self, f: impl FnOnce(&mut DiscoveryStatus)) {
        f(&mut self.status.write().unwrap_or_else(|p| p.into_inner()));
    }
}
