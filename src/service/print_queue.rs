//! The print queue's use cases for its worker: recover after a restart, claim the next due job (a badge, or an on-site list), record printed or failed (with the activity, outbox and audit of each).

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::badges::badge_content;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::badge::BadgeState;
use crate::domain::print_job::{JobState, JobWork, PrintFault, PrintJob, RetryPolicy};
use crate::printer::JobContent;
use crate::store;

/// A job taken off the queue, with what it prints (its badge, or the list it holds).
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job: PrintJob,
    pub content: JobContent,
}

impl Services {
    /// Put jobs that were printing when the gateway stopped back in the queue. Returns how many.
    pub async fn recover_print_jobs(&self) -> ServiceResult<usize> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> ServiceResult<usize> {
                let now = svc.now();
                let mut n = 0;
                for mut job in store::print_jobs::open_jobs(tx)? {
                    if job.state == JobState::Printing {
                        job.recover(now);
                        store::print_jobs::put_job(tx, &job)?;
                        n += 1;
                    }
                }
                Ok(n)
            })
            .await
    }

    /// Mark the oldest due job `printing` and return it; `None` when nothing is due. A job whose
    /// badge was replaced before it printed is failed instead (a retired badge is no use).
    pub async fn claim_due_job(&self) -> ServiceResult<Option<ClaimedJob>> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> ServiceResult<Option<ClaimedJob>> {
                let now = svc.now();
                for mut job in store::print_jobs::open_jobs(tx)? {
                    if !job.is_due(now) {
                        continue;
                    }
                    let (number, user_id) = match &job.work {
                        JobWork::OnSiteList { on_site_list } => {
                            let content = JobContent::OnSiteList(on_site_list.clone());
                            job.start(now);
                            store::print_jobs::put_job(tx, &job)?;
                            return Ok(Some(ClaimedJob { job, content }));
                        }
                        JobWork::Badge { badge, user_id } => (badge.clone(), user_id.clone()),
                    };
                    let badge = store::badges::get_badge(tx, &number)?;
                    let user = store::users::get_user(tx, &user_id)?;
                    match (badge, user) {
                        (Some(b), Some(u)) if b.state == BadgeState::Active => {
                            job.start(now);
                            store::print_jobs::put_job(tx, &job)?;
                            let content = JobContent::Badge(badge_content(&svc, &u, &b));
                            return Ok(Some(ClaimedJob { job, content }));
                        }
                        _ => {
                            job.state = JobState::Failed;
                            job.last_error = Some(PrintFault::Unprintable);
                            job.last_error_detail =
                                Some("the badge was replaced or its holder removed before it printed".into());
                            job.updated_at = now;
                            store::print_jobs::put_job(tx, &job)?;
                        }
                    }
                }
                Ok(None)
            })
            .await
    }

    /// The earliest time a queued job is due, if any.
    pub async fn next_job_due(&self) -> ServiceResult<Option<OffsetDateTime>> {
        Ok(self
            .store
            .read(|tx| {
                let jobs = store::print_jobs::open_jobs(tx)?;
                Ok(jobs
                    .iter()
                    .filter(|j| j.state == JobState::Queued)
                    .map(|j| j.next_attempt_at)
                    .min())
            })
            .await?)
    }

    /// The printer took the job.
    pub async fn job_printed(&self, id: Uuid) -> ServiceResult<PrintJob> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = svc.now();
                let mut job = store::print_jobs::get_job(tx, id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "print job",
                    id: id.to_string(),
                })?;
                job.printed(now);
                store::print_jobs::put_job(tx, &job)?;
                // A printed badge is part of its holder's history; a printed list is not.
                let Some((number, user_id)) = job.badge() else {
                    return Ok(job);
                };
                let serial = store::badges::get_badge(tx, number)?.map_or(0, |b| b.serial);
                store::activity::append_activity(
                    tx,
                    user_id,
                    &ActivityEntry {
                        at: now,
                        kind: ActivityKind::BadgePrinted {
                            serial,
                            printer: job.printer.clone(),
                        },
                        actor: "gateway".into(),
                    },
                )?;
                store::outbox::append_event(
                    tx,
                    "badge.printed",
                    json!({ "user_id": user_id, "badge_number": number, "serial": serial, "printer": job.printer }),
                    now,
                )?;
                Ok(job)
            })
            .await
    }

    /// The printer did not take the job: record why (audited, so staff are told), then retry,
    /// fail over, or give up as the policy says.
    pub async fn job_failed(
        &self,
        id: Uuid,
        fault: PrintFault,
        detail: String,
        failover: Option<String>,
        policy: RetryPolicy,
    ) -> ServiceResult<PrintJob> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = svc.now();
                let mut job = store::print_jobs::get_job(tx, id)?.ok_or_else(|| ServiceError::NotFound {
                    what: "print job",
                    id: id.to_string(),
                })?;
                let printer = job.printer.clone();
                job.failed(fault, detail.clone(), failover.as_deref(), &policy, now);
                store::print_jobs::put_job(tx, &job)?;
                let mut audit = svc.audit(
                    "printer.fault",
                    if job.state == JobState::Failed {
                        "failure"
                    } else {
                        "retry"
                    },
                    &Actor::Cli,
                );
                audit.actor = Some("print-queue".into());
                audit.subject = Some(printer);
                audit.detail = Some(format!("job {id}: {fault}: {detail}"));
                store::audit::append_audit(tx, &audit)?;
                Ok(job)
            })
            .await
    }
}
