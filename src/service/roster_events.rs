//! Live roster notices: after each committed attendance or class change, every open roster screen (server-sent events) is told which class changed.

use tokio::sync::broadcast;
use uuid::Uuid;

/// How many notices a slow screen may fall behind before it just reloads the roster.
const BACKLOG: usize = 256;

/// A change to a class's roster or state. `None`: many classes may have changed (auto check-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterChanged(pub Option<Uuid>);

impl RosterChanged {
    /// Whether a screen showing `class` should reload.
    pub fn concerns(&self, class: Uuid) -> bool {
        self.0.is_none_or(|c| c == class)
    }
}

/// The fan-out of roster notices. Cheap to clone; notices are sent only after the commit.
#[derive(Debug, Clone)]
pub struct RosterEvents {
    tx: broadcast::Sender<RosterChanged>,
}

impl Default for RosterEvents {
    fn default() -> Self {
        RosterEvents {
            tx: broadcast::channel(BACKLOG).0,
        }
    }
}

impl RosterEvents {
    pub fn notify(&self, change: RosterChanged) {
        // No screen listening is fine.
        let _ = self.tx.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RosterChanged> {
        self.tx.subscribe()
    }
}
