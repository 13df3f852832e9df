//! Worker side of access links: what the kiosk shows, enrolling a newcomer, and letting an existing user
//! through a link. Each enrollment is one transaction: user, usage, allocation, PIN, badge and its print
//! job, activity, outbox, audit, and a walk-in's class check-in when an instructor's pass came with it.

use serde_json::json;
use time::OffsetDateTime;

use super::auth::draw_unique_pin;
use super::badges::{EnrollmentBadge, enrollment_badge};
use super::links::allocation_units;
use super::proof::{self, Proof};
use super::roster_events::RosterChanged;
use super::security::AttemptSource;
use super::users::insert_new_user_with;
use super::walk_in::{WalkInCheckIn, redeem};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::enrollment::{ContactRule, check_terms};
use crate::domain::link::AccessLink;
use crate::domain::org::Unit;
use crate::domain::training::{AssignedTraining, assigned_training};
use crate::domain::user::{CreatedVia, NewUserInput, TermsAcceptance, User};
use crate::store::links::LinkUse;
use crate::store::{self, ReadTx, StoreError};

/// The site's enrollment rules, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentSettings {
    pub terms_version: String,
    pub terms_text: String,
    pub contact_required: ContactRule,
}

/// What a worker types on the enrollment form.
#[derive(Debug, Clone, Default)]
pub struct EnrollmentForm {
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub employer: Option<String>,
    pub language: String,
    pub terms_version: String,
    pub accept_terms: bool,
}

/// What the worker learns at the end: their record, their PIN (newcomers only, shown once), their
/// training, where the link put them and their badge.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub user: User,
    pub pin: Option<String>,
    pub training: Vec<AssignedTraining>,
    pub allocated: Vec<Unit>,
    pub badge: EnrollmentBadge,
    /// What the instructor's walk-in pass did, when one came with the enrollment.
    pub walk_in: Option<WalkInCheckIn>,
}

/// A link as the worker sees it before enrolling.
#[derive(Debug, Clone)]
pub struct LinkPreview {
    pub link: AccessLink,
    pub allocation: Vec<Unit>,
}

fn link_by_token(tx: &impl ReadTx, token: &str) -> ServiceResult<AccessLink> {
    store::links::find_link_by_token(tx, token)?.ok_or(ServiceError::LinkUnknown)
}

/// The user's assigned training as it stands inside the transaction.
fn training_of(
    tx: &impl ReadTx,
    user: &User,
    now: OffsetDateTime,
) -> Result<Vec<AssignedTraining>, StoreError> {
    let modules = store::training::list_modules(tx)?;
    let assignments = store::training::list_assignments(tx)?;
    let completions = store::training::list_completions(tx, &user.id)?;
    Ok(assigned_training(user, &modules, &assignments, &completions, now))
}

fn activity(
    tx: &redb::WriteTransaction,
    user: &User,
    at: OffsetDateTime,
    kind: ActivityKind,
) -> Result<(), StoreError> {
    store::activity::append_activity(
        tx,
        &user.id,
        &ActivityEntry {
            at,
            kind,
            actor: Actor::SelfService.label(),
        },
    )
}

/// Note a user's first use of a link (the caller has counted them on it) with its activity entry,
/// outbox event and audit entry.
fn record_use(
    svc: &Services,
    tx: &redb::WriteTransaction,
    link: &AccessLink,
    user: &User,
    entry: LinkUse,
) -> Result<(), StoreError> {
    store::links::put_link(tx, link)?;
    store::links::put_use(tx, link.id, &entry)?;
    let existing_user = entry.existing_user;
    activity(
        tx,
        user,
        entry.at,
        ActivityKind::EnrolledViaLink {
            link_name: link.name.clone(),
            existing_user,
        },
    )?;
    let unit_refs: Vec<_> = entry
        .allocated
        .iter()
        .map(|u| json!({ "kind": u.kind, "id": u.id }))
        .collect();
    store::outbox::append_event(
        tx,
        "link.enrolled",
        json!({ "link_id": link.id, "user_id": user.id, "existing_user": existing_user, "units": unit_refs }),
        entry.at,
    )?;
    let mut audit = svc.audit("link.enroll", "success", &Actor::SelfService);
    audit.subject = Some(user.id.to_string());
    audit.source = entry.source;
    audit.detail = Some(format!(
        "link {}{}",
        link.id,
        if existing_user { " (existing user)" } else { "" }
    ));
    store::audit::append_audit(tx, &audit)
}

fn first_use(
    user: &User,
    units: &[Unit],
    existing_user: bool,
    source: Option<String>,
    at: OffsetDateTime,
) -> LinkUse {
    LinkUse {
        user_id: user.id.clone(),
        at,
        source,
        existing_user,
        allocated: units.to_vec(),
    }
}

impl Services {
    /// A link as a worker's screen shows it, refused when it enrolls nobody now.
    pub async fn preview_link(&self, token: String) -> ServiceResult<LinkPreview> {
        let now = self.now();
        self.store
            .read(move |tx| -> Result<ServiceResult<LinkPreview>, StoreError> {
                let link = match link_by_token(tx, &token) {
                    Ok(l) => l,
                    Err(ServiceError::Store(e)) => return Err(e),
                    Err(e) => return Ok(Err(e)),
                };
                if let Err(refusal) = link.check_usable(now) {
                    return Ok(Err(DomainError::from(refusal).into()));
                }
                let allocation = allocation_units(tx, &link.allocation)?;
                Ok(Ok(LinkPreview { link, allocation }))
            })
            .await?
    }

    /// The links pinned to the kiosk's start screen that can enroll someone now.
    pub async fn kiosk_links(&self) -> ServiceResult<Vec<AccessLink>> {
        let now = self.now();
        Ok(self
            .store
            .read(move |tx| {
                Ok(store::links::list_links(tx)?
                    .into_iter()
                    .filter(|l| l.pinned && l.check_usable(now).is_ok())
                    .collect())
            })
            .await?)
    }

    /// Enroll a newcomer through a link. Refused (nothing written) when the link enrolls nobody now, a
    /// field is wrong, the terms or contact rule are not met, or the email or phone is someone's already.
    pub async fn enroll(
        &self,
        token: String,
        form: EnrollmentForm,
        source: Option<String>,
        walk_in: Option<String>,
    ) -> ServiceResult<Enrolled> {
        let svc = self.clone();
        let printer = self.enrollment_printer();
        let done = self
            .store
            .write(move |tx| {
                let now = svc.now();
                let rules = &svc.settings.enrollment;
                let mut link = link_by_token(tx, &token)?;
                // A full link is refused after the existing-user check, so that someone it already
                // counted is sent to prove who they are rather than turned away.
                link.check_open(now).map_err(DomainError::from)?;
                let input = NewUserInput {
                    given_name: form.given_name,
                    family_name: form.family_name,
                    email: form.email,
                    phone: form.phone,
                    employer: form.employer,
                    language: Some(form.language),
                    role: None,
                    access_level: None,
                };
                let new = input.validate()?;
                rules.contact_required.check(&new)?;
                check_terms(form.accept_terms, &form.terms_version, &rules.terms_version)?;
                if let Some(email) = &new.email
                    && store::users::find_user_by_email(tx, email)?.is_some()
                {
                    return Err(ServiceError::ExistingUser { field: "email" });
                }
                if let Some(phone) = &new.phone
                    && store::users::find_user_by_phone(tx, phone)?.is_some()
                {
                    return Err(ServiceError::ExistingUser { field: "phone" });
                }
                link.admit(false, now).map_err(DomainError::from)?;
                crate::service::sync::lease::take_slot(tx, &link)?.map_err(DomainError::from)?;
                let units = allocation_units(tx, &link.allocation)?;
                let unit_ids: Vec<_> = units.iter().map(|u| u.id).collect();
                let terms = TermsAcceptance {
                    version: rules.terms_version.clone(),
                    at: now,
                };
                let user = insert_new_user_with(
                    &svc,
                    tx,
                    &input,
                    &unit_ids,
                    CreatedVia::Link { link_id: link.id },
                    &Actor::SelfService,
                    |u| u.terms = Some(terms),
                )?;
                let (pin, tag) = draw_unique_pin(&svc, tx, svc.settings.pin_length)?;
                store::credentials::set_pin(tx, &user.id, tag)?;
                activity(tx, &user, now, ActivityKind::PinIssued)?;
                super::sync::outgoing::pin_issued(tx, &user.id, &pin, now)?;
                record_use(
                    &svc,
                    tx,
                    &link,
                    &user,
                    first_use(&user, &units, false, source, now),
                )?;
                let badge = enrollment_badge(&svc, tx, &user, printer)?;
                let training = training_of(tx, &user, now)?;
                let walk_in = match &walk_in {
                    Some(pass) => Some(redeem(&svc, tx, pass, &link, &user)?),
                    None => None,
                };
                Ok(Enrolled {
                    user,
                    pin: Some(pin),
                    training,
                    allocated: units,
                    badge,
                    walk_in,
                })
            })
            .await?;
        self.after_enrollment(&done);
        Ok(done)
    }

    /// Let an existing user through a link once they proved who they are: the link's allocation is
    /// added to their record, the link counts them once, and their PIN stays as it is. Every proof
    /// attempt is audited; a failed one changes nothing else.
    pub async fn enroll_existing(
        &self,
        token: String,
        proof: Proof,
        attempt_source: AttemptSource,
        source: Option<String>,
        walk_in: Option<String>,
    ) -> ServiceResult<Enrolled> {
        let svc = self.clone();
        let printer = self.enrollment_printer();
        let done = self
            .store
            .write(move |tx| -> Result<ServiceResult<Enrolled>, ServiceError> {
                let now = svc.now();
                let mut link = link_by_token(tx, &token)?;
                link.check_open(now).map_err(DomainError::from)?;
                let user = match proof::verify(&svc, tx, &proof, &attempt_source, source.clone())? {
                    Ok(u) => u,
                    // Refused or throttled: already audited by the verification path.
                    Err(e) => return Ok(Err(e)),
                };
                let verdict = match user {
                    u if !u.is_active() => Err(ServiceError::UserDeactivated(u.id.to_string())),
                    u => {
                        let counted = store::links::get_use(tx, link.id, &u.id)?.is_some();
                        let leased = if counted {
                            Ok(())
                        } else {
                            crate::service::sync::lease::take_slot(tx, &link)?
                        };
                        match link.admit(counted, now).and(leased) {
                            Ok(()) => Ok((u, counted)),
                            Err(refusal) => Err(DomainError::from(refusal).into()),
                        }
                    }
                };
                let mut audit = svc.audit(
                    "link.existing_user",
                    if verdict.is_ok() { "success" } else { "failure" },
                    &Actor::SelfService,
                );
                audit.subject = match &verdict {
                    Ok((u, _)) => Some(u.id.to_string()),
                    Err(_) => proof.claimed(),
                };
                audit.source = source.clone();
                audit.detail = Some(match &verdict {
                    Ok(_) => format!("{} for link {}", proof.method(), link.id),
                    Err(e) => format!("{} for link {}: {e}", proof.method(), link.id),
                });
                store::audit::append_audit(tx, &audit)?;
                let (mut user, counted) = match verdict {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(e)),
                };
                let units = allocation_units(tx, &link.allocation)?;
                let joined: Vec<&Unit> = units.iter().filter(|u| user.join(u.kind, u.id)).collect();
                if !joined.is_empty() {
                    user.updated_at = now;
                    store::users::update_user(tx, &user)?;
                    for unit in &joined {
                        activity(
                            tx,
                            &user,
                            now,
                            ActivityKind::JoinedUnit {
                                unit_kind: unit.kind.as_str().into(),
                                unit_name: unit.name.clone(),
                            },
                        )?;
                    }
                }
                if !counted {
                    record_use(
                        &svc,
                        tx,
                        &link,
                        &user,
                        first_use(&user, &units, true, source, now),
                    )?;
                } else if !joined.is_empty() {
                    // The link's allocation grew since their first use: report what was added.
                    let added: Vec<_> = joined
                        .iter()
                        .map(|u| json!({ "kind": u.kind, "id": u.id }))
                        .collect();
                    store::outbox::append_event(
                        tx,
                        "link.allocation_added",
                        json!({ "link_id": link.id, "user_id": user.id, "units": added }),
                        now,
                    )?;
                }
                let badge = enrollment_badge(&svc, tx, &user, printer)?;
                let training = training_of(tx, &user, now)?;
                let walk_in = match &walk_in {
                    Some(pass) => Some(redeem(&svc, tx, pass, &link, &user)?),
                    None => None,
                };
                Ok(Ok(Enrolled {
                    user,
                    pin: None,
                    training,
                    allocated: units,
                    badge,
                    walk_in,
                }))
            })
            .await??;
        self.after_enrollment(&done);
        Ok(done)
    }

    /// After the commit: wake the printer for the badge, and tell open rosters of a walk-in.
    fn after_enrollment(&self, done: &Enrolled) {
        self.wake_printing();
        if let Some(class) = done.walk_in.as_ref().and_then(WalkInCheckIn::changed_class) {
            self.roster_events.notify(RosterChanged(Some(class)));
        }
    }
}

#[cfg(test)]
mod tests;
