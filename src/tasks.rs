//! The one place that starts background tasks: each is named, watched for /readyz, and stopped in order on shutdown.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A signal every task watches; it fires once when the gateway begins to stop.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves when shutdown has begun.
    pub async fn wait(mut self) {
        // An Err means the sender is gone, which also means stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }
}

type Handles = Arc<Mutex<Vec<(&'static str, JoinHandle<()>)>>>;

/// Which tasks are alive, for /readyz.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth(Handles);

impl TaskHealth {
    /// How many tasks were started.
    pub fn count(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Names of the tasks that stopped (ended or panicked) while they should be running.
    pub fn dead(&self) -> Vec<&'static str> {
        let handles = self.0.lock().unwrap_or_else(|p| p.into_inner());
        handles
            .iter()
            .filter(|(_, h)| h.is_finished())
            .map(|(n, _)| *n)
            .collect()
    }
}

/// The background tasks of one running gateway.
#[derive(Debug)]
pub struct Tasks {
    stop: watch::Sender<bool>,
    handles: Handles,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks::new()
    }
}

impl Tasks {
    pub fn new() -> Tasks {
        let (stop, _) = watch::channel(false);
        Tasks {
            stop,
            handles: Handles::default(),
        }
    }

    /// The shutdown signal to hand to a task.
    pub fn shutdown(&self) -> Shutdown {
        Shutdown(self.stop.subscribe())
    }

    pub fn health(&self) -> TaskHealth {
        TaskHealth(self.handles.clone())
    }

    /// Start a named task. It must return soon after its `Shutdown` fires.
    #[allow(clippy::disallowed_methods)] // the sanctioned place to spawn
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(async move {
            task.await;
            tracing::debug!(task = name, "task ended");
        });
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, handle));
    }

    /// Tell every task and listener to begin stopping.
    pub fn begin_shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// Signal shutdown, then wait for tasks in reverse start order, aborting any that outlive `grace`.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let handles: Vec<_> = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        for (name, mut handle) in handles.into_iter().rev() {
            match tokio::time::timeout(grace, &mut handle).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(task = name, error = %e, "task failed"),
                Err(_) => {
                    tracing::warn!(task = name, "task did not stop in time; aborting it");
                    handle.abort();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_dies_shows_in_health_and_stop_waits_for_the_rest() {
        let tasks = Tasks::new();
        let s = tasks.shutdown();
        tasks.spawn("waits", async move { s.wait().await });
        tasks.spawn("dies", async {});
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(tasks.health().dead(), vec!["dies"]);
        tokio::time::timeout(Duration::from_secs(2), tasks.stop(Duration::from_secs(1)))
            .await
            .unwrap();
    }
}
