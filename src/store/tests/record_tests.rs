//! Units, modules, assignments, completions, activity and audit: round trips and ordering.

use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

use super::user;
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::org::{Unit, UnitKind};
use crate::domain::training::{Assignment, AssignmentTarget, Completion, Module};
use crate::store::audit::{self, AuditEntry};
use crate::store::{Store, StoreError, activity, org, training};

#[test]
fn units_round_trip_filter_and_find_by_name() {
    let store = Store::open_in_memory().unwrap();
    let north = Unit::new(Uuid::now_v7(), UnitKind::Site, "North Yard").unwrap();
    let welders = Unit::new(Uuid::now_v7(), UnitKind::Group, "Welders").unwrap();
    let apprentices = Unit::new(Uuid::now_v7(), UnitKind::Group, "apprentices").unwrap();
    store
        .write_blocking(|tx| {
            for u in [&north, &welders, &apprentices] {
                org::put_unit(tx, u)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
        .read_blocking(|tx| {
            assert_eq!(org::get_unit(tx, north.id)?.as_ref(), Some(&north));
            assert_eq!(org::get_unit(tx, Uuid::nil())?, None);
            assert_eq!(
                org::list_units(tx, Some(UnitKind::Group))?,
                vec![apprentices.clone(), welders.clone()]
            );
            assert_eq!(org::list_units(tx, None)?.len(), 3);
            assert!(org::list_units(tx, Some(UnitKind::Region))?.is_empty());
            assert_eq!(
                org::find_unit_by_name(tx, UnitKind::Site, "  north YARD ")?.as_ref(),
                Some(&north)
            );
            assert_eq!(
                org::find_unit_by_name(tx, UnitKind::Group, "North Yard")?,
                None,
                "kind must match"
            );
            assert_eq!(
                org::find_unit_by_name(tx, UnitKind::Site, "North")?,
                None,
                "exact, not prefix"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn modules_assignments_and_latest_completion() {
    let store = Store::open_in_memory().unwrap();
    let heights = Module::new(Uuid::now_v7(), "Working at heights", 20, Some(365)).unwrap();
    let fire = Module::new(Uuid::now_v7(), "fire safety", 15, None).unwrap();
    let ana = user("Ana", None, None);
    let assignment = Assignment {
        id: Uuid::now_v7(),
        module_id: heights.id,
        target: AssignmentTarget::User(ana.id.clone()),
        due_at: Some(datetime!(2026-12-01 0:00 UTC)),
        created_at: datetime!(2026-03-01 0:00 UTC),
    };
    let early = Completion {
        module_id: heights.id,
        completed_at: datetime!(2026-04-01 10:00 UTC),
    };
    let late = Completion {
        module_id: heights.id,
        completed_at: datetime!(2026-05-01 10:00 UTC),
    };
    let fire_done = Completion {
        module_id: fire.id,
        completed_at: datetime!(2026-04-02 10:00 UTC),
    };
    let other = user("Bea", None, None);
    store
        .write_blocking(|tx| {
            training::put_module(tx, &heights)?;
            training::put_module(tx, &fire)?;
            training::put_assignment(tx, &assignment)?;
            assert!(training::put_completion(tx, &ana.id, &late)?);
            assert!(
                !training::put_completion(tx, &ana.id, &early)?,
                "an older completion is ignored"
            );
            assert!(training::put_completion(tx, &ana.id, &fire_done)?);
            training::put_completion(tx, &other.id, &early)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
        .read_blocking(|tx| {
            assert_eq!(training::get_module(tx, heights.id)?.as_ref(), Some(&heights));
            assert_eq!(
                training::list_modules(tx)?,
                vec![fire.clone(), heights.clone()],
                "by title, any case"
            );
            assert_eq!(
                training::find_module_by_title(tx, "WORKING AT HEIGHTS ")?.as_ref(),
                Some(&heights)
            );
            assert_eq!(training::find_module_by_title(tx, "Working")?, None);
            assert_eq!(training::list_assignments(tx)?, vec![assignment.clone()]);
            assert_eq!(
                training::get_assignment(tx, assignment.id)?.as_ref(),
                Some(&assignment)
            );
            let mut mine = training::list_completions(tx, &ana.id)?;
            mine.sort_by_key(|c| c.completed_at);
            assert_eq!(mine, vec![fire_done.clone(), late.clone()]);
            assert_eq!(training::list_completions(tx, &other.id)?, vec![early.clone()]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn activity_is_per_user_newest_first_and_keeps_order_within_one_instant() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", None, None);
    let bea = user("Bea", None, None);
    let t0 = datetime!(2026-03-01 9:00 UTC);
    let entry = |at, kind| ActivityEntry {
        at,
        kind,
        actor: "cli".into(),
    };
    let created = entry(t0, ActivityKind::Created { via: "admin".into() });
    let joined = entry(
        t0,
        ActivityKind::JoinedUnit {
            unit_kind: "group".into(),
            unit_name: "Welders".into(),
        },
    );
    let pin = entry(t0 + Duration::hours(1), ActivityKind::PinIssued);
    let before = entry(t0 - Duration::days(400), ActivityKind::DetailsChanged);
    store
        .write_blocking(|tx| {
            activity::append_activity(tx, &ana.id, &created)?;
            activity::append_activity(tx, &ana.id, &joined)?;
            activity::append_activity(tx, &bea.id, &created)?;
            activity::append_activity(tx, &ana.id, &pin)?;
            activity::append_activity(tx, &ana.id, &before)
        })
        .unwrap();
    store
        .read_blocking(|tx| {
            let all = activity::list_activity(tx, &ana.id, 10)?;
            assert_eq!(
                all,
                vec![pin.clone(), joined.clone(), created.clone(), before.clone()]
            );
            assert_eq!(
                activity::list_activity(tx, &ana.id, 2)?,
                vec![pin.clone(), joined.clone()]
            );
            assert_eq!(activity::list_activity(tx, &bea.id, 10)?, vec![created.clone()]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn audit_is_newest_first_and_keeps_order_within_one_instant() {
    let store = Store::open_in_memory().unwrap();
    let t0 = datetime!(2026-03-01 9:00 UTC);
    let entry = |at, event: &str, outcome: &str| AuditEntry {
        at,
        event: event.into(),
        outcome: outcome.into(),
        actor: Some("ABCDE-FGHJK".into()),
        subject: None,
        source: Some("10.0.0.7".into()),
        detail: Some("Łukasiewicz 王".into()),
    };
    let fail = entry(t0, "staff.sign_in", "failure");
    let ok = entry(t0, "staff.sign_in", "success");
    let later = entry(t0 + Duration::nanoseconds(1), "user.create", "denied");
    store
        .write_blocking(|tx| {
            audit::append_audit(tx, &fail)?;
            audit::append_audit(tx, &ok)?;
            audit::append_audit(tx, &later)
        })
        .unwrap();
    store
        .read_blocking(|tx| {
            assert_eq!(
                audit::list_audit(tx, 10)?,
                vec![later.clone(), ok.clone(), fail.clone()]
            );
            assert_eq!(audit::list_audit(tx, 1)?, vec![later.clone()]);
            Ok(())
        })
        .unwrap();
}
