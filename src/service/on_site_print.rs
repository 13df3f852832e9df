//! Printing who is on site now: a snapshot of the on-site list queued as one job on the badge printer (so it gets the badge jobs' retry, failover and restart recovery), audited as `on_site.print`; following that job's state.

use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::on_site::{OnSiteList, OnSitePerson};
use crate::domain::print_job::{JobKind, PrintJob, new_job_id};
use crate::store;

impl Services {
    /// Queue the on-site list as it is now on `printer` (default: the first). The list is kept in
    /// the job, so a retry prints the same roll call even if people check out meanwhile.
    pub async fn print_on_site(
        &self,
        actor: Actor,
        printer: Option<String>,
        source: Option<String>,
    ) -> ServiceResult<PrintJob> {
        let printer = self.job_printer(printer)?;
        let offset = self.site_offset();
        let now = self.now();
        let people = self.on_site().await?;
        let list = OnSiteList {
            site: self.settings.site_name.clone(),
            generated_at: now.to_offset(offset),
            people: people
                .iter()
                .map(|o| OnSitePerson {
                    given_name: o.user.name.given.clone(),
                    family_name: o.user.name.family.clone(),
                    user_id: o.user.id.to_string(),
                    class_title: o.class.title.clone(),
                    room: o.class.room.clone(),
                    checked_in_at: o.attendance.checked_in_at.map(|t| t.to_offset(offset)),
                })
                .collect(),
        };
        let missing = self.list_missing_glyphs(&list);
        if !missing.is_empty() {
            tracing::warn!(
                people = list.people.len(),
                "on-site list queued with characters that will not print: {}",
                crate::printer::missing_glyphs_message(&missing)
            );
        }
        let svc = self.clone();
        let job = self
            .store
            .write(move |tx| -> ServiceResult<PrintJob> {
                let count = list.people.len();
                let job = PrintJob::on_site_list(new_job_id(now), list, printer, now);
                store::print_jobs::put_job(tx, &job)?;
                let mut audit = svc.audit("on_site.print", "success", &actor);
                audit.source = source;
                audit.subject = Some(job.printer.clone());
                audit.detail = Some(format!("job {}: {count} people on site", job.id));
                store::audit::append_audit(tx, &audit)?;
                Ok(job)
            })
            .await?;
        self.wake_printing();
        Ok(job)
    }

    /// The characters of `list` that the printer's fonts lack (empty without printing).
    pub fn list_missing_glyphs(&self, list: &OnSiteList) -> Vec<char> {
        self.printing.as_ref().map_or_else(Vec::new, |p| {
            crate::printer::list_render::missing_glyphs(p.renderer.fonts(), list)
        })
    }

    /// An on-site list job, for the screen that queued it. A badge job is not found here: staff
    /// who may print the list need not see whose badges print.
    pub async fn on_site_print_job(&self, id: Uuid) -> ServiceResult<PrintJob> {
        let job = self.print_job(id).await?;
        if job.kind() == JobKind::OnSiteList {
            Ok(job)
        } else {
            Err(ServiceError::NotFound {
                what: "print job",
                id: id.to_string(),
            })
        }
    }
}
