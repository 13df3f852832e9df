//! Walk-ins: an instructor issues a one-use pass for an open class and an access link; the walk-in's
//! enrollment through that link spends it and checks them in, inside the enrollment's transaction.

use redb::WriteTransaction;
use time::OffsetDateTime;
use uuid::Uuid;

use super::attendance::check_in_within;
use super::auth::Principal;
use super::classroom::{get_class_or_404, require_runner};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::classroom::{CheckMethod, Class, ClassRefusal};
use crate::domain::link::AccessLink;
use crate::domain::user::User;
use crate::domain::walk_in::{OPEN_PASSES_PER_CLASS, WalkInPass, WalkInRefusal};
use crate::keys::{new_token, token_hash};
use crate::store::{self, StoreError};

/// A pass just issued: its token is handed over this once.
#[derive(Debug, Clone)]
pub struct WalkInIssued {
    pub token: String,
    pub pass: WalkInPass,
    pub class: Class,
    pub link: AccessLink,
}

/// Why a walk-in's enrollment did not check them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkInRefused {
    Pass(WalkInRefusal),
    /// The class closed, or was cancelled, meanwhile.
    Class(ClassRefusal),
}

/// What the pass did for the walk-in.
#[derive(Debug, Clone)]
pub enum WalkInCheckIn {
    CheckedIn {
        class: Class,
        at: OffsetDateTime,
    },
    /// They were in already (an existing user the instructor had checked in).
    AlreadyIn {
        class: Class,
        since: OffsetDateTime,
    },
    Refused {
        class: Option<Class>,
        why: WalkInRefused,
    },
}

impl WalkInCheckIn {
    /// The class whose roster changed, to tell open screens after the commit.
    pub fn changed_class(&self) -> Option<Uuid> {
        match self {
            WalkInCheckIn::CheckedIn { class, .. } => Some(class.id),
            _ => None,
        }
    }
}

/// Spend the pass `token` on `user`, who just came through `link`, and check them in to its class.
/// A pass that cannot be used is answered as a refusal: the enrollment stands either way.
pub(crate) fn redeem(
    svc: &Services,
    tx: &WriteTransaction,
    token: &str,
    link: &AccessLink,
    user: &User,
) -> Result<WalkInCheckIn, StoreError> {
    let now = svc.now();
    let hash = token_hash(token);
    let refused = |class, why| Ok(WalkInCheckIn::Refused { class, why });
    let Some(mut pass) = store::walk_ins::get_pass(tx, &hash)? else {
        return refused(None, WalkInRefused::Pass(WalkInRefusal::Unknown));
    };
    let class = store::classes::get_class(tx, pass.class_id)?;
    if let Err(r) = pass.check(link.id, now) {
        return refused(class, WalkInRefused::Pass(r));
    }
    let Some(class) = class else {
        return refused(None, WalkInRefused::Pass(WalkInRefusal::Unknown));
    };
    if let Err(r) = class.accepts_check_in() {
        return refused(Some(class), WalkInRefused::Class(r));
    }
    let (attendance, changed) = check_in_within(
        svc,
        tx,
        &class,
        user,
        CheckMethod::Enrollment,
        &Actor::SelfService,
    )?;
    pass.spend(&user.id, now);
    store::walk_ins::put_pass(tx, &hash, &pass)?;
    let at = attendance.checked_in_at.unwrap_or(now);
    Ok(if changed {
        WalkInCheckIn::CheckedIn { class, at }
    } else {
        WalkInCheckIn::AlreadyIn { class, since: at }
    })
}

impl Services {
    /// A one-use pass for someone without an account to enroll through `link_token` and arrive
    /// checked in to the open class. Only the class's instructors, managers and admins issue one.
    pub async fn issue_walk_in_pass(
        &self,
        p: Principal,
        class_id: Uuid,
        link_token: String,
    ) -> ServiceResult<WalkInIssued> {
        let svc = self.clone();
        self.store
            .write(move |tx| -> ServiceResult<WalkInIssued> {
                let now = svc.now();
                let class = get_class_or_404(tx, class_id)?;
                require_runner(&p, &class)?;
                class.accepts_check_in().map_err(DomainError::from)?;
                let link = store::links::find_link_by_token(tx, &link_token)?
                    .ok_or(ServiceError::LinkUnknown)?;
                link.check_usable(now).map_err(DomainError::from)?;
                let waiting = store::walk_ins::prune_and_count_waiting(tx, class.id, now)?;
                if waiting >= OPEN_PASSES_PER_CLASS {
                    return Err(DomainError::Conflict(format!(
                        "{waiting} walk-in passes of this class are still waiting: let them expire (30 minutes) or check people in directly"
                    ))
                    .into());
                }
                let token = new_token();
                let pass = WalkInPass::new(class.id, link.id, p.user_id.clone(), now);
                store::walk_ins::put_pass(tx, &token_hash(&token), &pass)?;
                let mut audit = svc.audit("class.walk_in_pass", "success", &p.actor());
                audit.detail = Some(format!("class {} through link {}", class.id, link.id));
                store::audit::append_audit(tx, &audit)?;
                Ok(WalkInIssued {
                    token,
                    pass,
                    class,
                    link,
                })
            })
            .await
    }
}
