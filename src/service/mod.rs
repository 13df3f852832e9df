//! Use cases: each call validates through the domain and runs one store transaction (state + outbox + audit).

pub mod admin;
pub mod auth;
pub mod badges;
pub mod demo;
pub mod error;
pub mod org;
pub mod print_queue;
pub mod training;
pub mod users;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::domain::staff::SessionPolicy;
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
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Staff { user_id } => user_id.clone(),
            Actor::Cli => "cli".into(),
            Actor::SelfService => "self".into(),
            Actor::Demo => "demo".into(),
        }
    }
}

/// Site settings the services need.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    pub site_name: String,
    pub pin_length: u8,
    pub sessions: SessionPolicy,
}

/// Everything a use case needs: the store, the clock, the keys and the site's settings.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub clock: SharedClock,
    pub keys: Arc<Keys>,
    pub settings: Arc<SiteSettings>,
    /// Badge rendering and the print queue's printers; `None` where nothing prints (CLI on the store).
    pub printing: Option<crate::printer::Printing>,
}

impl Services {
    pub fn new(store: Store, clock: SharedClock, keys: Arc<Keys>, settings: SiteSettings) -> Services {
        Services {
            store,
            clock,
            keys,
            settings: Arc::new(settings),
            printing: None,
        }
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
