//! Use cases: each call validates through the domain and runs one store transaction (state + outbox + audit).

pub mod admin;
pub mod attendance;
pub mod auth;
pub mod auto_checkout;
pub mod badges;
pub mod classroom;
pub mod classroom_badge;
pub mod classroom_hooks;
pub mod demo;
pub mod devices;
pub mod doctor;
pub mod enrollment;
pub mod error;
pub mod headset;
pub mod import;
pub mod links;
pub mod metrics;
pub mod on_site_print;
pub mod org;
pub mod otp;
pub mod print_queue;
pub mod proof;
pub mod roster_events;
pub mod security;
pub mod sweep;
pub mod sync;
pub mod throttle_status;
pub mod totp;
pub mod training;
pub mod user_search;
pub mod users;
pub mod walk_in;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::domain::device::HeadsetSessionPolicy;
use crate::domain::staff::SessionPolicy;
use crate::domain::throttle::ThrottleLimits;
use crate::keys::Keys;
use crate::store::Store;
use crate::store::audit::AuditEntry;

pub use error::{ServiceError, ServiceResult};

/// Who asked for a change: recorded in audit entries and activity logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff member.
    Staff { user_id: String },
    /// A technician on the box using the CLI.
    Cli,
    /// The user acting for themselves (enrollment, headset).
    SelfService,
    /// The demo seeder.
    Demo,
    /// The central system, through the sync.
    Central,
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Staff { user_id } => user_id.clone(),
            Actor::Cli => "cli".into(),
            Actor::SelfService => "self".into(),
            Actor::Demo => "demo".into(),
            Actor::Central => "central".into(),
        }
    }
}

/// Site settings the services need.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    pub site_name: String,
    pub pin_length: u8,
    pub sessions: SessionPolicy,
    /// Terms and contact rule for self-enrollment through access links.
    pub enrollment: enrollment::EnrollmentSettings,
    /// Seconds untouched before the kiosk returns to its start screen.
    pub kiosk_idle_seconds: u32,
    pub credentials: CredentialSettings,
    /// Classroom settings (auto check-out).
    pub classroom: ClassroomSettings,
}

/// Classroom settings: when people still checked in are checked out by the gateway.
#[derive(Debug, Clone, Default)]
pub struct ClassroomSettings {
    pub auto_checkout: crate::domain::classroom::AutoCheckout,
    /// How often the auto check-out task looks.
    pub auto_checkout_every: std::time::Duration,
}

/// Settings of credentials, throttling, devices and headset sessions.
#[derive(Debug, Clone)]
pub struct CredentialSettings {
    pub throttle: ThrottleLimits,
    pub pin_only_login: bool,
    pub otp_valid: time::Duration,
    pub otp_max_outstanding: u32,
    /// The issuer authenticator apps show.
    pub totp_issuer: String,
    pub headset: HeadsetSessionPolicy,
    pub pairing_max_pending: u32,
}

impl Default for CredentialSettings {
    fn default() -> Self {
        CredentialSettings {
            throttle: ThrottleLimits::default(),
            pin_only_login: false,
            otp_valid: time::Duration::minutes(15),
            otp_max_outstanding: 30,
            totp_issuer: "sitegate".into(),
            headset: HeadsetSessionPolicy {
                idle: time::Duration::minutes(30),
                absolute: time::Duration::hours(8),
            },
            pairing_max_pending: 20,
        }
    }
}

/// Where phones on the site LAN open this gateway (`https://host[:port]`), for access links:
/// asked each time a link's URL is made, since the box's addresses change. `None` when no such
/// address is known; a URL that only works on the box itself is never given.
#[derive(Clone, Default)]
pub struct PublicUrl(Option<Arc<dyn Fn() -> Option<String> + Send + Sync>>);

impl PublicUrl {
    /// `find` may block (it reads the network interfaces); it runs off the async threads.
    pub fn new(find: impl Fn() -> Option<String> + Send + Sync + 'static) -> PublicUrl {
        PublicUrl(Some(Arc::new(find)))
    }

    pub async fn get(&self) -> Option<String> {
        let find = self.0.clone()?;
        tokio::task::spawn_blocking(move || find()).await.ok().flatten()
    }
}

impl std::fmt::Debug for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "PublicUrl(..)"
        } else {
            "PublicUrl(none)"
        })
    }
}

/// Everything a use case needs: the store, the clock, the keys and the site's settings.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub clock: SharedClock,
    pub keys: Arc<Keys>,
    pub settings: Arc<SiteSettings>,
    /// Live roster notices for open screens (server-sent events).
    pub roster_events: roster_events::RosterEvents,
    /// Badge rendering and the print queue's printers; `None` where nothing prints (CLI on the store).
    pub printing: Option<crate::printer::Printing>,
    /// The running sync task, when this process serves (else a handle that wakes nothing).
    pub sync: sync::worker::SyncHandle,
    /// Where phones open this gateway, for link URLs.
    pub public_url: PublicUrl,
    /// Where this gateway listens; `None` where nothing serves (CLI on the store).
    pub listening: Option<admin::Listening>,
    /// The gateway's metrics (each `Services::new` has its own registry).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// mDNS announcing and background task health, where this process serves (for `doctor`).
    pub live: Option<LiveParts>,
}

/// The parts of a serving gateway that only the running process knows.
#[derive(Debug, Clone)]
pub struct LiveParts {
    pub discovery: crate::discovery::DiscoveryHandle,
    pub tasks: crate::tasks::TaskHealth,
}

impl Services {
    pub fn new(store: Store, clock: SharedClock, keys: Arc<Keys>, settings: SiteSettings) -> Services {
        Services {
            clock,
            keys,
            settings: Arc::new(settings),
            roster_events: roster_events::RosterEvents::default(),
            printing: None,
            sync: sync::worker::SyncHandle::default(),
            public_url: PublicUrl::default(),
            listening: None,
            metrics: Arc::new(crate::metrics::Metrics::new(store.commit_seconds())),
            live: None,
            store,
        }
    }

    /// The same services, knowing the serving process's mDNS status and task health.
    pub fn with_live(mut self, live: LiveParts) -> Services {
        self.live = Some(live);
        self
    }

    /// The same services, knowing where the gateway listens.
    pub fn with_listening(mut self, listening: admin::Listening) -> Services {
        self.listening = Some(listening);
        self
    }

    /// The same services, telling link URLs where phones open the gateway.
    pub fn with_public_url(mut self, public_url: PublicUrl) -> Services {
        self.public_url = public_url;
        self
    }

    /// The same services, able to draw and print badges.
    pub fn with_printing(mut self, printing: crate::printer::Printing) -> Services {
        self.printing = Some(printing);
        self
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// An audit entry for `event` by `actor` at the current time.
    pub fn audit(&self, event: &str, outcome: &str, actor: &Actor) -> AuditEntry {
        AuditEntry {
            at: self.now(),
            event: event.to_string(),
            outcome: outcome.to_string(),
            actor: Some(actor.label()),
            subject: None,
            source: None,
            detail: None,
        }
    }
}
