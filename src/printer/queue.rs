//! The print queue worker: one job at a time, from the stored queue, to its printer; faults retried with backoff or moved to the failover printer. Started by `run()` through tasks.rs.

use std::time::Duration;

use serde_json::json;

use super::transport::{self, Delivery};
use super::{PrinterHealth, Printing};
use crate::domain::print_job::PrintFault;
use crate::printer::status::PrinterStatus;
use crate::service::Services;
use crate::service::print_queue::ClaimedJob;
use crate::tasks::Shutdown;

/// Longest sleep between looks at the queue (a job queued by another path, a retry coming due).
const POLL: Duration = Duration::from_millis(500);

/// Run until `shutdown`. A job cut off by shutdown stays `printing` in the store and is queued
/// again at the next start.
pub async fn run(svc: Services, printing: Printing, shutdown: Shutdown) {
    match svc.recover_print_jobs().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            jobs = n,
            "print jobs interrupted by the last stop are queued again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot recover print jobs"),
    }
    loop {
        if shutdown.is_set() {
            return;
        }
        // Look in a read transaction first: an idle queue costs no commit (and no fsync).
        let due = match svc.next_job_due().await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the print queue");
                None
            }
        };
        let now = svc.now();
        if due.is_some_and(|at| at <= now) {
            match svc.claim_due_job().await {
                Ok(Some(claimed)) => {
                    tokio::select! {
                        _ = print_one(&svc, &printing, claimed) => {}
                        _ = shutdown.clone().wait() => return,
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot claim a print job"),
            }
        }
        let wait = due
            .and_then(|at| (at - now).try_into().ok())
            .map_or(POLL, |d: Duration| d.min(POLL));
        tokio::select! {
            _ = printing.wake.notified() => {}
            _ = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
            _ = shutdown.clone().wait() => return,
        }
    }
}

async fn print_one(svc: &Services, printing: &Printing, claimed: ClaimedJob) {
    let job = claimed.job;
    let Some(printer) = printing.printer(&job.printer).or(printing.primary()).cloned() else {
        tracing::error!("no printer is configured");
        return;
    };
    let failover = printing.failover_for(&job.printer).map(str::to_string);
    let result = match printing.build_content(&printer.profile, &claimed.content) {
        Err(e) => Err(transport::DeliveryError {
            fault: PrintFault::Unprintable,
            detail: e.to_string(),
        }),
        Ok(built) => {
            let delivery = Delivery {
                name: job.id.to_string(),
                bytes: &built.bytes,
                png: &built.png,
                meta: json!({
                    "job_id": job.id,
                    "kind": job.kind(),
                    "badge": job.badge().map(|(b, _)| b),
                    "user_id": job.badge().map(|(_, u)| u),
                    "printer": printer.name,
                    "url": printer.url.to_string(),
                    "profile": printer.profile.id,
                    "created_at": job.created_at.unix_timestamp(),
                    "bytes": built.bytes.len(),
                }),
            };
            transport::deliver(&printer.url, &printer.profile, &delivery, printing.timeouts).await
        }
    };
    let now = svc.now();
    match result {
        Ok(status) => {
            printing.record_health(
                &printer.name,
                PrinterHealth {
                    status,
                    last_fault: None,
                    last_detail: None,
                    checked_at: Some(now),
                },
            );
            match svc.job_printed(job.id).await {
                Ok(_) => {
                    tracing::info!(job = %job.id, kind = ?job.kind(), printer = %printer.name, "printed")
                }
                Err(e) => tracing::error!(job = %job.id, error = %e, "printed but not recorded"),
            }
        }
        Err(e) => {
            let status = match e.fault {
                PrintFault::PaperOut => PrinterStatus::PaperOut,
                PrintFault::CoverOpen => PrinterStatus::CoverOpen,
                PrintFault::Unprintable => PrinterStatus::Unknown,
                _ => PrinterStatus::Offline,
            };
            printing.record_health(
                &printer.name,
                PrinterHealth {
                    status,
                    last_fault: Some(e.fault),
                    last_detail: Some(e.detail.clone()),
                    checked_at: Some(now),
                },
            );
            tracing::warn!(job = %job.id, printer = %printer.name, fault = %e.fault, detail = %e.detail, "not printed");
            svc.metrics
                .printer_fault(&printer.name, &crate::metrics::label_of(&e.fault));
            if let Err(err) = svc
                .job_failed(job.id, e.fault, e.detail, failover, printing.retry)
                .await
            {
                tracing::error!(job = %job.id, error = %err, "print fault not recorded");
            }
        }
    }
}
