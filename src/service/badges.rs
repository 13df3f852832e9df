//! Badges: issue (new number, old one retired, serial + 1, print job queued: one transaction), preview, verify a scan, kiosk self-service reprint.

use serde_json::json;
use uuid::Uuid;

use super::security::{self, Attempt, AttemptSource};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::badge::{self, Badge, BadgeNumber, BadgeRefusal, BadgeState};
use crate::domain::ids::UserId;
use crate::domain::print_job::{PrintJob, new_job_id};
use crate::domain::user::User;
use crate::keys::{os_rng, tags_equal};
use crate::printer::Printing;
use crate::printer::render::BadgeContent;
use crate::printer::words::role_name;
use crate::store;

/// A badge just issued and the job that prints it.
#[derive(Debug, Clone)]
pub struct IssuedBadge {
    pub badge: Badge,
    pub job: PrintJob,
    /// The badge this one replaces, now retired.
    pub retired: Option<BadgeNumber>,
    /// Characters of the badge's text that the printer's fonts lack: they print as empty boxes,
    /// so staff are told at once (empty when everything prints).
    pub missing_glyphs: Vec<char>,
}

/// A scan that checked out: whose badge it is.
#[derive(Debug, Clone)]
pub struct VerifiedBadge {
    pub badge: Badge,
    pub user: User,
}

/// How a person at the kiosk proves who they are for a reprint.
#[derive(Debug, Clone)]
pub enum HolderProof {
    Pin { user_id: UserId, pin: String },
    Badge { payload: String },
}

/// The badge an enrollment ends with.
#[derive(Debug, Clone)]
pub enum EnrollmentBadge {
    /// Issued in the enrollment's own transaction and queued for printing.
    Printing(Box<IssuedBadge>),
    /// An existing user's badge still works: kept as it is, nothing printed (a new one would
    /// retire the badge stitched on their PPE). "Reprint my badge" is there when it is lost.
    Kept { serial: u32 },
    /// Badge printing is not set up on this gateway: the enrollment went on without a badge.
    Unavailable,
}

/// What a badge shows for this user and badge.
pub fn badge_content(svc: &Services, user: &User, badge: &Badge) -> BadgeContent {
    let language = user.language.as_str().to_string();
    let role = role_name(&language, user.role);
    let detail = match user.employer.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(employer) => format!("{role} · {employer}"),
        None => role.to_string(),
    };
    BadgeContent {
        given_name: user.name.given.clone(),
        family_name: user.name.family.clone(),
        user_id: user.id.to_string(),
        payload: badge::payload(&badge.number, &svc.keys.badge_mac(&badge.number.mac_input())),
        site: svc.settings.site_name.clone(),
        detail,
        issued: badge.issued_at.date().to_string(),
        serial: badge.serial,
        language,
    }
}

fn not_found(what: &'static str, id: impl ToString) -> ServiceError {
    ServiceError::NotFound {
        what,
        id: id.to_string(),
    }
}

impl Services {
    pub(crate) fn printing(&self) -> ServiceResult<&Printing> {
        self.printing.as_ref().ok_or(ServiceError::PrintingUnavailable)
    }

    /// Issue a new badge for a user and queue it for printing: the old badge is retired and the
    /// serial raised, all in one commit with the activity entry, the outbox event and the audit.
    pub async fn issue_badge(
        &self,
        actor: Actor,
        user_id: UserId,
        printer: Option<String>,
    ) -> ServiceResult<IssuedBadge> {
        let printing = self.printing()?;
        let printer = self.job_printer(printer)?;
        let svc = self.clone();
        let issued = self
            .store
            .write(move |tx| {
                let user =
                    store::users::get_user(tx, &user_id)?.ok_or_else(|| not_found("user", &user_id))?;
                issue_in(&svc, tx, &user, printer, &actor)
            })
            .await?;
        printing.wake.notify_one();
        Ok(issued)
    }

    /// The printer a staff job goes to: the one named (404 when there is none of that name), else
    /// the first; `PrintingUnavailable` when nothing prints here.
    pub(crate) fn job_printer(&self, name: Option<String>) -> ServiceResult<String> {
        let printing = self.printing()?;
        match name {
            Some(name) => printing
                .printer(&name)
                .map(|p| p.name.clone())
                .ok_or_else(|| not_found("printer", name)),
            None => printing
                .primary()
                .map(|p| p.name.clone())
                .ok_or(ServiceError::PrintingUnavailable),
        }
    }

    /// The printer an enrollment's badge goes to: the first one; `None` when printing is not set up.
    pub(crate) fn enrollment_printer(&self) -> Option<String> {
        self.printing
            .as_ref()
            .and_then(|p| p.primary())
            .map(|p| p.name.clone())
    }

    /// Tell the print queue a job was queued (no-op without printing).
    pub(crate) fn wake_printing(&self) {
        if let Some(p) = &self.printing {
            p.wake.notify_one();
        }
    }

    /// The PNG of the user's current badge, as the first printer would print it.
    pub async fn badge_preview(&self, user_id: UserId) -> ServiceResult<Vec<u8>> {
        let printing = self.printing()?;
        let (user, badge) = self
            .store
            .read(move |tx| {
                let user = store::users::get_user(tx, &user_id)?;
                let badge = store::badges::current_badge(tx, &user_id)?;
                Ok((user, badge, user_id))
            })
            .await
            .map_err(ServiceError::from)
            .and_then(|(user, badge, id)| match (user, badge) {
                (Some(u), Some(b)) => Ok((u, b)),
                (None, _) => Err(not_found("user", &id)),
                (Some(_), None) => Err(not_found("badge", &id)),
            })?;
        let profile = &printing
            .primary()
            .ok_or(ServiceError::PrintingUnavailable)?
            .profile;
        printing
            .preview(profile, &badge_content(self, &user, &badge))
            .map_err(|e| ServiceError::Render(e.to_string()))
    }

    /// The PNG of the badge a print job prints, on that job's printer.
    pub async fn job_preview(&self, job_id: Uuid) -> ServiceResult<Vec<u8>> {
        let printing = self.printing()?;
        let found = self
            .store
            .read(move |tx| {
                // A list job has no badge to show (and its names are not for a public route).
                let Some((job, (number, user_id))) = store::print_jobs::get_job(tx, job_id)?
                    .and_then(|j| j.badge().map(|(b, u)| (b.clone(), u.clone())).map(|bu| (j, bu)))
                else {
                    return Ok(None);
                };
                let badge = store::badges::get_badge(tx, &number)?;
                let user = store::users::get_user(tx, &user_id)?;
                Ok(Some((job, badge, user)))
            })
            .await?;
        let Some((job, Some(badge), Some(user))) = found else {
            return Err(not_found("print job", job_id));
        };
        let printer = printing
            .printer(&job.printer)
            .or(printing.primary())
            .ok_or(ServiceError::PrintingUnavailable)?;
        printing
            .preview(&printer.profile, &badge_content(self, &user, &badge))
            .map_err(|e| ServiceError::Render(e.to_string()))
    }

    /// Check a scanned badge: whose it is, or why it is refused (each reason its own code).
    pub async fn verify_badge(
        &self,
        actor: Actor,
        scanned: String,
        source: Option<String>,
    ) -> ServiceResult<VerifiedBadge> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> Result<ServiceResult<VerifiedBadge>, ServiceError> {
                let verdict = check_badge(&svc, tx, &scanned)?;
                let mut audit = svc.audit(
                    "badge.verify",
                    if verdict.is_ok() { "success" } else { "failure" },
                    &actor,
                );
                audit.source = source;
                match &verdict {
                    Ok(v) => audit.subject = Some(v.user.id.to_string()),
                    Err(e) => audit.detail = Some(e.code().to_string()),
                }
                store::audit::append_audit(tx, &audit)?;
                Ok(verdict.map_err(ServiceError::Badge))
            })
            .await?
    }

    /// A reprint asked for at the kiosk by the badge holder, who proves who they are with a
    /// badge scan or ID + PIN. A failed proof is audited and answers `InvalidCredentials`.
    pub async fn kiosk_reprint(
        &self,
        proof: HolderProof,
        source: Option<String>,
    ) -> ServiceResult<IssuedBadge> {
        let printing = self.printing()?;
        let printer = printing
            .primary()
            .map(|p| p.name.clone())
            .ok_or(ServiceError::PrintingUnavailable)?;
        let svc = self.clone();
        let issued = self
            .store
            .write(move |tx| -> Result<ServiceResult<IssuedBadge>, ServiceError> {
                let holder = verify_holder(&svc, tx, &proof)?;
                // A PIN attempt was audited by the verification path; a badge scan, or a verified
                // PIN of a deactivated user, is audited here.
                let audited = matches!(proof, HolderProof::Pin { .. })
                    && !matches!(holder, Err(ServiceError::UserDeactivated(_)));
                let mut audit = svc.audit(
                    "kiosk.reprint_proof",
                    if holder.is_ok() { "success" } else { "failure" },
                    &Actor::SelfService,
                );
                audit.source = source;
                audit.subject = match (&holder, &proof) {
                    (Ok(u), _) => Some(u.id.to_string()),
                    (Err(_), HolderProof::Pin { user_id, .. }) => Some(user_id.to_string()),
                    (Err(_), HolderProof::Badge { .. }) => None,
                };
                if let Err(e) = &holder {
                    audit.detail = Some(e.to_string());
                }
                if !audited {
                    store::audit::append_audit(tx, &audit)?;
                }
                match holder {
                    Ok(user) => Ok(Ok(issue_in(&svc, tx, &user, printer, &Actor::SelfService)?)),
                    Err(e) => Ok(Err(e)),
                }
            })
            .await??;
        printing.wake.notify_one();
        Ok(issued)
    }

    /// Print jobs, newest first.
    pub async fn list_print_jobs(&self, limit: usize) -> ServiceResult<Vec<PrintJob>> {
        Ok(self
            .store
            .read(move |tx| store::print_jobs::list_jobs(tx, limit))
            .await?)
    }

    pub async fn print_job(&self, id: Uuid) -> ServiceResult<PrintJob> {
        self.store
            .read(move |tx| store::print_jobs::get_job(tx, id))
            .await?
            .ok_or_else(|| not_found("print job", id))
    }
}

/// Inside an enrollment's transaction: a newcomer always gets a badge; an existing user gets one
/// only when they have no working badge. `printer`: from `Services::enrollment_printer`.
pub(crate) fn enrollment_badge(
    svc: &Services,
    tx: &redb::WriteTransaction,
    user: &User,
    printer: Option<String>,
) -> ServiceResult<EnrollmentBadge> {
    let Some(printer) = printer else {
        return Ok(EnrollmentBadge::Unavailable);
    };
    if let Some(b) = store::badges::current_badge(tx, &user.id)?.filter(|b| b.state == BadgeState::Active) {
        return Ok(EnrollmentBadge::Kept { serial: b.serial });
    }
    issue_in(svc, tx, user, printer, &Actor::SelfService).map(|i| EnrollmentBadge::Printing(Box::new(i)))
}

/// Issue inside the caller's transaction (staff issue, kiosk reprint and enrollment share it).
fn issue_in(
    svc: &Services,
    tx: &redb::WriteTransaction,
    user: &User,
    printer: String,
    actor: &Actor,
) -> ServiceResult<IssuedBadge> {
    if !user.is_active() {
        return Err(ServiceError::UserDeactivated(user.id.to_string()));
    }
    let now = svc.now();
    let previous = store::badges::current_badge(tx, &user.id)?;
    let mut retired = None;
    if let Some(mut old) = previous.clone().filter(|b| b.state == BadgeState::Active) {
        old.retire(now);
        store::badges::put_badge(tx, &old)?;
        retired = Some(old.number);
    }
    let number = loop {
        let n = BadgeNumber::random(&mut os_rng());
        if store::badges::get_badge(tx, &n)?.is_none() {
            break n;
        }
    };
    let badge = Badge::next(number, user.id.clone(), previous.as_ref(), now);
    store::badges::put_badge(tx, &badge)?;
    let job = PrintJob::new(
        new_job_id(now),
        badge.number.clone(),
        user.id.clone(),
        printer,
        now,
    );
    store::print_jobs::put_job(tx, &job)?;
    store::activity::append_activity(
        tx,
        &user.id,
        &ActivityEntry {
            at: now,
            kind: ActivityKind::BadgeIssued { serial: badge.serial },
            actor: actor.label(),
        },
    )?;
    store::outbox::append_event(
        tx,
        "badge.issued",
        json!({
            "user_id": user.id,
            "badge_number": badge.number,
            "serial": badge.serial,
            "retired": retired,
        }),
        now,
    )?;
    let mut audit = svc.audit("badge.issue", "success", actor);
    audit.subject = Some(user.id.to_string());
    audit.detail = Some(format!("serial {}", badge.serial));
    store::audit::append_audit(tx, &audit)?;
    let missing_glyphs = svc.printing.as_ref().map_or_else(Vec::new, |p| {
        p.renderer.missing_glyphs(&badge_content(svc, user, &badge))
    });
    if !missing_glyphs.is_empty() {
        tracing::warn!(
            user = %user.id,
            serial = badge.serial,
            "badge issued with characters that will not print: {}",
            crate::printer::missing_glyphs_message(&missing_glyphs)
        );
    }
    Ok(IssuedBadge {
        badge,
        job,
        retired,
        missing_glyphs,
    })
}

/// Check a payload against the badge key and the store. The MAC is compared in constant time.
pub(crate) fn check_badge(
    svc: &Services,
    tx: &impl store::ReadTx,
    scanned: &str,
) -> Result<Result<VerifiedBadge, BadgeRefusal>, ServiceError> {
    let Some(scan) = badge::parse_payload(scanned) else {
        return Ok(Err(BadgeRefusal::NotSitegate));
    };
    let expected = badge::mac_symbols(&svc.keys.badge_mac(&scan.number.mac_input()));
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    a[..expected.len()].copy_from_slice(expected.as_bytes());
    b[..scan.mac.len()].copy_from_slice(scan.mac.as_bytes());
    if !tags_equal(&a, &b) {
        return Ok(Err(BadgeRefusal::BadSignature));
    }
    let Some(badge) = store::badges::get_badge(tx, &scan.number)? else {
        return Ok(Err(BadgeRefusal::Unknown));
    };
    if badge.state == BadgeState::Retired {
        return Ok(Err(BadgeRefusal::Retired));
    }
    let Some(user) = store::users::get_user(tx, &badge.user_id)? else {
        return Ok(Err(BadgeRefusal::Unknown));
    };
    if !user.is_active() {
        return Ok(Err(BadgeRefusal::HolderDeactivated));
    }
    Ok(Ok(VerifiedBadge { badge, user }))
}

/// The one place a kiosk reprint checks who is asking. A PIN goes through the throttled
/// verification path every login uses (audited there as `kiosk.reprint_proof`); a badge scan is
/// checked against its MAC and the badge's state.
fn verify_holder(
    svc: &Services,
    tx: &redb::WriteTransaction,
    proof: &HolderProof,
) -> Result<ServiceResult<User>, ServiceError> {
    match proof {
        HolderProof::Badge { payload } => Ok(check_badge(svc, tx, payload)?
            .map(|v| v.user)
            .map_err(ServiceError::Badge)),
        HolderProof::Pin { user_id, pin } => {
            let attempt = Attempt::pin(
                user_id,
                pin,
                AttemptSource::box_kiosk(),
                "kiosk.reprint_proof",
                Some("kiosk".into()),
            );
            Ok(match security::verify(svc, tx, &attempt)? {
                Ok(v) if !v.user.is_active() => Err(ServiceError::UserDeactivated(v.user.id.to_string())),
                Ok(v) => Ok(v.user),
                Err(e) => Err(e),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;
    use crate::clock::SystemClock;
    use crate::domain::badge::BadgeNumber;
    use crate::domain::ids::UserId;
    use crate::domain::user::{CreatedVia, NewUserInput};
    use crate::keys::Keys;
    use crate::store::Store;

    fn content_for(language: &str, employer: Option<&str>) -> BadgeContent {
        let svc = Services::new(
            Store::open_in_memory().unwrap(),
            Arc::new(SystemClock),
            Arc::new(Keys::for_tests()),
            crate::site_settings(&crate::config::Config::default()),
        );
        let now = datetime!(2026-11-25 09:00 UTC);
        let user = NewUserInput {
            given_name: "Zofia".into(),
            family_name: "Nowak".into(),
            employer: employer.map(Into::into),
            language: Some(language.into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
        .into_user(
            UserId::from_canonical("ABCDE12345".into()),
            CreatedVia::Admin,
            now,
        );
        let number = BadgeNumber::from_canonical("ZZZZZZZZZZ".into());
        let badge = Badge::next(number, user.id.clone(), None, now);
        badge_content(&svc, &user, &badge)
    }

    #[test]
    fn a_badge_speaks_its_holders_language() {
        let pl = content_for("pl", Some("Budimex S.A."));
        assert_eq!(pl.detail, "Kursant · Budimex S.A.");
        assert_eq!(pl.language, "pl");
        let en = content_for("en", None);
        assert_eq!(en.detail, "Trainee");
        assert_eq!(en.language, "en");
    }
}
