//! Counts and checksums per kind of the central records this gateway holds, in their wire form, to compare with the central system's (tests and diagnosis).

use std::collections::BTreeMap;

use super::convert;
use crate::domain::ids::UserId;
use crate::service::{ServiceResult, Services};
use crate::store::{self, ReadTx, StoreError};
use crate::sync::digest::{KindDigest, kind_digest};
use crate::sync::wire::KINDS;

fn central_of(tx: &impl ReadTx, user: &UserId) -> Result<String, StoreError> {
    Ok(store::users::get_user(tx, user)?
        .and_then(|u| u.central_id)
        .unwrap_or_else(|| user.as_str().to_string()))
}

fn wire_of(tx: &impl ReadTx, kind: &str, local: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let uuid = || uuid::Uuid::parse_str(local).ok();
    let to = |v: &dyn erased::Json| v.json();
    let value = match kind {
        "user" => store::users::get_user(tx, &UserId::from_canonical(local.to_string()))?
            .map(|u| to(&convert::user_to_wire(&u))),
        "group" | "site" | "region" => match uuid() {
            Some(id) => store::org::get_unit(tx, id)?
                .filter(|u| u.kind.as_str() == kind)
                .map(|u| to(&convert::unit_to_wire(&u))),
            None => None,
        },
        "module" => match uuid() {
            Some(id) => store::training::get_module(tx, id)?.map(|m| to(&convert::module_to_wire(&m))),
            None => None,
        },
        "assignment" => match uuid() {
            Some(id) => match store::training::get_assignment(tx, id)? {
                Some(a) => {
                    let mut names = BTreeMap::new();
                    if let crate::domain::training::AssignmentTarget::User(u) = &a.target {
                        names.insert(u.clone(), central_of(tx, u)?);
                    }
                    Some(to(&convert::assignment_to_wire(&a, |u| {
                        names.get(u).cloned().unwrap_or_else(|| u.as_str().to_string())
                    })))
                }
                None => None,
            },
            None => None,
        },
        "link" => match uuid() {
            Some(id) => store::links::get_link(tx, id)?.map(|l| to(&convert::link_to_wire(&l))),
            None => None,
        },
        "class" => match uuid() {
            Some(id) => match store::classes::get_class(tx, id)? {
                Some(c) => {
                    let mut names = BTreeMap::new();
                    for u in c.instructors.iter().chain(c.expected.iter()) {
                        names.insert(u.clone(), central_of(tx, u)?);
                    }
                    Some(to(&convert::class_to_wire(&c, |u| {
                        names.get(u).cloned().unwrap_or_else(|| u.as_str().to_string())
                    })))
                }
                None => None,
            },
            None => None,
        },
        _ => None,
    };
    Ok(value)
}

/// Keeps `wire_of` to one line per kind.
mod erased {
    pub trait Json {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

impl Services {
    /// The central records of one kind held here, as (central ID, wire record).
    pub async fn sync_records(&self, kind: &'static str) -> ServiceResult<Vec<(String, serde_json::Value)>> {
        Ok(self
            .store
            .read(move |tx| {
                let mut records = Vec::new();
                for (id, entry) in store::sync::central_of_kind(tx, kind)? {
                    if entry.deleted {
                        continue;
                    }
                    if let Some(v) = wire_of(tx, kind, &entry.local)? {
                        records.push((id, v));
                    }
                }
                Ok(records)
            })
            .await?)
    }

    /// Per kind (credentials aside: they are sealed per gateway), the count and checksum of the
    /// central records held here, over (central ID, wire record).
    pub async fn sync_digest(&self) -> ServiceResult<BTreeMap<String, KindDigest>> {
        let mut out = BTreeMap::new();
        for kind in KINDS.iter().filter(|k| **k != "credential") {
            out.insert((*kind).to_string(), kind_digest(self.sync_records(kind).await?));
        }
        Ok(out)
    }
}
