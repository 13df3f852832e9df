//! The metrics scrape: reads what the store holds (print jobs, outbox, throttling) and what the
//! running parts know (printers, mDNS, sync, tasks) into one snapshot, and encodes the registry.

use super::{ServiceResult, Services};
use crate::metrics::{Snapshot, label_of};
use crate::printer::status::PrinterStatus;
use crate::store;

impl Services {
    /// The whole Prometheus exposition, as of now.
    pub async fn metrics_text(&self) -> ServiceResult<String> {
        let now = self.now();
        let (print_jobs, outbox_depth, oldest) = self
            .store
            .read(move |tx| {
                let jobs = store::print_jobs::count_by_state(tx)?;
                let depth = store::outbox::count_events(tx)?;
                let oldest = store::outbox::list_events(tx, 0, 1)?.into_iter().next();
                Ok((jobs, depth, oldest.map(|e| (now - e.created_at).whole_seconds())))
            })
            .await?;
        let throttle = self.throttle_status().await?;
        let sync = self.sync_status(Some(&self.sync)).await?;
        let printers = self
            .printing
            .as_ref()
            .map(|p| {
                p.printers
                    .iter()
                    .map(|printer| {
                        let status = p
                            .health(&printer.name)
                            .map_or(PrinterStatus::Unknown, |h| h.status);
                        (
                            printer.name.clone(),
                            printer.profile.id.clone(),
                            label_of(&status),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (mdns_state, mdns_interfaces, tasks_dead) = match &self.live {
            Some(live) => {
                let d = live.discovery.status();
                (
                    label_of(&d.state),
                    d.interfaces.len() as u64,
                    live.tasks.dead().len() as u64,
                )
            }
            None => (String::new(), 0, 0),
        };
        let snapshot = Snapshot {
            print_jobs: print_jobs
                .iter()
                .map(|(state, n)| (label_of(state), *n))
                .collect(),
            printers,
            outbox_depth,
            outbox_oldest_age_secs: oldest,
            store_bytes: self.store.file_size(),
            throttle_site_failures: u64::from(throttle.site_failures_24h),
            throttle_site_limit: u64::from(throttle.site_limit),
            throttle_suspended: throttle.suspended,
            throttle_sources: throttle
                .sources
                .iter()
                .filter(|s| s.throttled_for_secs.is_some())
                .count() as u64,
            throttle_accounts: throttle.accounts.iter().filter(|a| a.wait_secs.is_some()).count() as u64,
            mdns_state,
            mdns_interfaces,
            sync_state: sync.state,
            tasks_dead,
        };
        Ok(self.metrics.encode(&snapshot))
    }
}
