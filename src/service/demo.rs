//! Demo data for `serve --demo`: a site, a group, a few workers with names from many scripts, training, two pinned access links, and a staff admin.

use serde_json::json;
use time::Duration;
use uuid::Uuid;

use super::auth::draw_unique_pin;
use super::users::insert_new_user;
use super::{Actor, ServiceResult, Services};
use crate::domain::ids::UserId;
use crate::domain::link::{AccessLink, Allocation, LinkInput, new_token};
use crate::domain::org::{Unit, UnitKind};
use crate::domain::staff::Role;
use crate::domain::training::{Assignment, AssignmentTarget, Module};
use crate::domain::user::{CreatedVia, NewUserInput};
use crate::keys::os_rng;
use crate::store::{self, credentials::StaffCredential};

/// The demo admin's sign-in, printed at start (it is a demo).
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub user_id: String,
    pub pin: String,
}

/// What `serve --demo` found.
#[derive(Debug, Clone)]
pub enum DemoSeed {
    /// An empty database was seeded: the demo admin's sign-in (the PIN is shown this once).
    Seeded(DemoLogin),
    /// Data was there already; nothing was written. The demo admin's ID, when there is one.
    Present { staff_id: Option<String> },
}

const WORKERS: &[(&str, &str, &str)] = &[
    ("José", "Núñez Peña", "es"),
    ("Zofia", "Łukasiewicz-Wróbel", "pl"),
    ("João", "Gonçalves", "pt"),
    ("Алексей", "Смирнов", "en"),
    ("Ελένη", "Παπαδοπούλου", "en"),
];

impl Services {
    /// Seed demo data into an empty database in one transaction; on a database with data, find
    /// the demo admin instead (an active admin the demo created).
    pub async fn seed_demo(&self) -> ServiceResult<DemoSeed> {
        let svc = self.clone();
        self.store
            .write(move |tx| {
                if store::users::count_users(tx)? > 0 {
                    return Ok(DemoSeed::Present {
                        staff_id: demo_admin(tx)?,
                    });
                }
                let now = svc.now();
                let actor = Actor::Demo;
                let site = Unit::new(Uuid::now_v7(), UnitKind::Site, &svc.settings.site_name)?;
                let group = Unit::new(Uuid::now_v7(), UnitKind::Group, "Demo crew")?;
                let region = Unit::new(Uuid::now_v7(), UnitKind::Region, "Demo region")?;
                for unit in [&site, &group, &region] {
                    store::org::put_unit(tx, unit)?;
                    store::outbox::append_event(tx, "unit.created", json!({ "unit": unit }), now)?;
                }
                let heights = Module::new(Uuid::now_v7(), "Working at heights", 20, Some(365))?;
                let fire = Module::new(Uuid::now_v7(), "Fire safety", 15, Some(180))?;
                let confined = Module::new(Uuid::now_v7(), "Confined spaces", 25, Some(365))?;
                for m in [&heights, &fire, &confined] {
                    store::training::put_module(tx, m)?;
                    store::outbox::append_event(tx, "module.created", json!({ "module": m }), now)?;
                }
                let assignments = [
                    Assignment {
                        id: Uuid::now_v7(),
                        module_id: heights.id,
                        target: AssignmentTarget::Site(site.id),
                        due_at: Some(now + Duration::days(14)),
                        created_at: now,
                    },
                    Assignment {
                        id: Uuid::now_v7(),
                        module_id: fire.id,
                        target: AssignmentTarget::Group(group.id),
                        due_at: Some(now + Duration::days(30)),
                        created_at: now,
                    },
                ];
                for a in &assignments {
                    store::training::put_assignment(tx, a)?;
                    store::outbox::append_event(tx, "assignment.created", json!({ "assignment": a }), now)?;
                }
                for (given, family, lang) in WORKERS {
                    let input = NewUserInput {
                        given_name: (*given).into(),
                        family_name: (*family).into(),
                        employer: Some("Demo Contractors Ltd".into()),
                        language: Some((*lang).into()),
                        ..Default::default()
                    };
                    insert_new_user(&svc, tx, &input, &[site.id, group.id], CreatedVia::Demo, &actor)?;
                }
                let admin_input = NewUserInput {
                    given_name: "Demo".into(),
                    family_name: "Admin".into(),
                    role: Some(Role::Admin),
                    ..Default::default()
                };
                let admin = insert_new_user(&svc, tx, &admin_input, &[site.id], CreatedVia::Demo, &actor)?;
                let (pin, tag) = draw_unique_pin(&svc, tx, svc.settings.pin_length)?;
                store::credentials::set_pin(tx, &admin.id, tag)?;
                store::credentials::put_credential(
                    tx,
                    &admin.id,
                    &StaffCredential {
                        pin_tag: Some(tag),
                        bootstrap_tag: None,
                        bootstrap_expires_at: None,
                        ..Default::default()
                    },
                )?;
                for (name, description, cap, units) in [
                    (
                        "Site induction",
                        "Everyone new on site: safety induction",
                        None,
                        Allocation {
                            sites: [site.id].into(),
                            ..Default::default()
                        },
                    ),
                    (
                        "Contractors – demo crew",
                        "Contractor teams joining the demo crew",
                        Some(50),
                        Allocation {
                            groups: [group.id].into(),
                            sites: [site.id].into(),
                            regions: [region.id].into(),
                        },
                    ),
                ] {
                    let input = LinkInput {
                        name: name.into(),
                        description: description.into(),
                        cap,
                        allocation: units,
                        pinned: true,
                        ..Default::default()
                    };
                    let link = AccessLink::new(Uuid::now_v7(), new_token(&mut os_rng()), input, now)?;
                    store::links::put_link(tx, &link)?;
                    store::outbox::append_event(tx, "link.created", json!({ "link": link }), now)?;
                }
                Ok(DemoSeed::Seeded(DemoLogin {
                    user_id: admin.id.to_string(),
                    pin,
                }))
            })
            .await
    }
}

/// The ID of the first active admin the demo created, if any.
fn demo_admin(tx: &impl store::ReadTx) -> Result<Option<String>, store::StoreError> {
    let mut after: Option<UserId> = None;
    loop {
        let page = store::users::list_users(tx, after.as_ref(), 500)?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        after = Some(last.id.clone());
        if let Some(admin) = page
            .iter()
            .find(|u| u.created_via == CreatedVia::Demo && u.role == Role::Admin && u.is_active())
        {
            return Ok(Some(admin.id.to_string()));
        }
    }
}
