//! Staff side of training access links: create, edit, deactivate, reactivate, pin, list, and watch their usage.

use serde_json::json;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::link::{AccessLink, Allocation, LinkInput, LinkPatch, new_token};
use crate::domain::org::{Unit, UnitKind};
use crate::domain::user::User;
use crate::keys::os_rng;
use crate::store::links::LinkUse;
use crate::store::{self, ReadTx, StoreError};

/// A link with its allocation resolved to units (names for screens).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkDetail {
    pub link: AccessLink,
    pub units: Vec<Unit>,
}

/// One person who came through a link, with their current record when it still exists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsageRow {
    pub entry: LinkUse,
    pub user: Option<User>,
}

/// Who came through a link, in the order they came.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkUsage {
    pub link: AccessLink,
    pub rows: Vec<UsageRow>,
}

/// The allocation's units that exist, in allocation order. A unit that has gone is skipped (and
/// logged): a worker at the gate must not be turned away because of it.
pub(crate) fn allocation_units(tx: &impl ReadTx, allocation: &Allocation) -> Result<Vec<Unit>, StoreError> {
    let mut out = Vec::new();
    for (kind, id) in allocation.units() {
        match store::org::get_unit(tx, id)? {
            Some(u) if u.kind == kind => out.push(u),
            _ => {
                tracing::warn!(unit = %id, kind = kind.as_str(), "a link allocates to a unit that no longer exists")
            }
        }
    }
    Ok(out)
}

/// Every unit of an allocation must exist and be of the kind it is listed under.
fn check_allocation(tx: &impl ReadTx, allocation: &Allocation) -> ServiceResult<()> {
    for (kind, id) in allocation.units() {
        let field = match kind {
            UnitKind::Group => "allocation.groups",
            UnitKind::Site => "allocation.sites",
            UnitKind::Region => "allocation.regions",
        };
        match store::org::get_unit(tx, id)? {
            Some(u) if u.kind == kind => {}
            Some(u) => {
                return Err(DomainError::invalid(
                    field,
                    format!("{id} is a {}, not a {}", u.kind.as_str(), kind.as_str()),
                )
                .into());
            }
            None => {
                return Err(
                    DomainError::invalid(field, format!("no {} has the ID {id}", kind.as_str())).into(),
                );
            }
        }
    }
    Ok(())
}

fn not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound {
        what: "link",
        id: id.to_string(),
    }
}

fn detail(tx: &impl ReadTx, link: AccessLink) -> Result<LinkDetail, StoreError> {
    let units = allocation_units(tx, &link.allocation)?;
    Ok(LinkDetail { link, units })
}

impl Services {
    /// Create a link with a fresh unguessable token.
    pub async fn create_link(&self, actor: Actor, input: LinkInput) -> ServiceResult<LinkDetail> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let now = svc.now();
                let token = loop {
                    let t = new_token(&mut os_rng());
                    if store::links::find_link_by_token(tx, &t)?.is_none() {
                        break t;
                    }
                };
                let link = AccessLink::new(Uuid::now_v7(), token, input, now)?;
                check_allocation(tx, &link.allocation)?;
                store::links::put_link(tx, &link)?;
                store::outbox::append_event(tx, "link.created", json!({ "link": link }), now)?;
                let mut audit = svc.audit("link.create", "success", &actor);
                audit.subject = Some(link.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(detail(tx, link)?)
            })
            .await
    }

    /// Every link, oldest first.
    pub async fn list_links(&self) -> ServiceResult<Vec<LinkDetail>> {
        Ok(self
            .store
            .read(|tx| {
                store::links::list_links(tx)?
                    .into_iter()
                    .map(|l| detail(tx, l))
                    .collect()
            })
            .await?)
    }

    /// One link.
    pub async fn link_detail(&self, id: Uuid) -> ServiceResult<LinkDetail> {
        self.store
            .read(move |tx| store::links::get_link(tx, id)?.map(|l| detail(tx, l)).transpose())
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Change a link's settings; a refused change changes nothing.
    pub async fn update_link(&self, actor: Actor, id: Uuid, patch: LinkPatch) -> ServiceResult<LinkDetail> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut link = store::links::get_link(tx, id)?.ok_or_else(|| not_found(id))?;
                let now = svc.now();
                if let Some(a) = &patch.allocation {
                    check_allocation(tx, a)?;
                }
                let changed = serde_json::to_value(&patch).unwrap_or_default();
                link.apply(patch, now)?;
                store::links::put_link(tx, &link)?;
                store::outbox::append_event(tx, "link.updated", json!({ "link": link }), now)?;
                let mut audit = svc.audit("link.update", "success", &actor);
                audit.subject = Some(link.id.to_string());
                audit.detail = Some(changed.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(detail(tx, link)?)
            })
            .await
    }

    /// Deactivate (`active = false`) or reactivate a link.
    pub async fn set_link_active(&self, actor: Actor, id: Uuid, active: bool) -> ServiceResult<LinkDetail> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut link = store::links::get_link(tx, id)?.ok_or_else(|| not_found(id))?;
                let now = svc.now();
                let (event, action) = if active {
                    link.reactivate(now)?;
                    ("link.reactivated", "link.reactivate")
                } else {
                    link.deactivate(now)?;
                    ("link.deactivated", "link.deactivate")
                };
                store::links::put_link(tx, &link)?;
                store::outbox::append_event(tx, event, json!({ "link_id": link.id }), now)?;
                let mut audit = svc.audit(action, "success", &actor);
                audit.subject = Some(link.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(detail(tx, link)?)
            })
            .await
    }

    /// Who came through a link: when, how, where they were allocated, and who they are now.
    pub async fn link_usage(&self, id: Uuid) -> ServiceResult<LinkUsage> {
        self.store
            .read(move |tx| {
                let Some(link) = store::links::get_link(tx, id)? else {
                    return Ok(None);
                };
                let mut rows = Vec::new();
                for entry in store::links::list_uses(tx, id)? {
                    let user = store::users::get_user(tx, &entry.user_id)?;
                    rows.push(UsageRow { entry, user });
                }
                Ok(Some(LinkUsage { link, rows }))
            })
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Find a link by UUID or by its exact name (case-insensitive), for the CLI.
    pub async fn resolve_link(&self, key: String) -> ServiceResult<AccessLink> {
        let found = self
            .store
            .read(move |tx| {
                if let Ok(id) = Uuid::parse_str(key.trim()) {
                    return Ok(store::links::get_link(tx, id)?.ok_or(key));
                }
                let wanted = key.trim().to_lowercase();
                let mut matches: Vec<AccessLink> = store::links::list_links(tx)?
                    .into_iter()
                    .filter(|l| l.name.to_lowercase() == wanted)
                    .collect();
                Ok(match matches.len() {
                    1 => Ok(matches.remove(0)),
                    _ => Err(key),
                })
            })
            .await?;
        found.map_err(|key| ServiceError::NotFound {
            what: "link",
            id: key,
        })
    }
}
