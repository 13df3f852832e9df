//! Groups, sites and regions: create and list.

use serde_json::json;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::org::{Unit, UnitKind};
use crate::store;

impl Services {
    /// Create a unit; names are unique within a kind (case-insensitive).
    pub async fn create_unit(&self, actor: Actor, kind: UnitKind, name: String) -> ServiceResult<Unit> {
        let unit = Unit::new(Uuid::now_v7(), kind, &name)?;
        let svc = self.clone();
        self.store
            .write(move |tx| {
                if store::org::find_unit_by_name(tx, kind, &unit.name)?.is_some() {
                    return Err(ServiceError::Domain(DomainError::Conflict(format!(
                        "a {} named {:?} already exists",
                        kind.as_str(),
                        unit.name
                    ))));
                }
                let now = svc.now();
                store::org::put_unit(tx, &unit)?;
                store::outbox::append_event(tx, "unit.created", json!({ "unit": unit }), now)?;
                let mut audit = svc.audit("unit.create", "success", &actor);
                audit.subject = Some(unit.id.to_string());
                store::audit::append_audit(tx, &audit)?;
                Ok(unit)
            })
            .await
    }

    /// Units of one kind, or all.
    pub async fn list_units(&self, kind: Option<UnitKind>) -> ServiceResult<Vec<Unit>> {
        Ok(self
            .store
            .read(move |tx| store::org::list_units(tx, kind))
            .await?)
    }
}
