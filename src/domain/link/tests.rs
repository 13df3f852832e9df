//! Link rules against a manual clock: expiry, the active flag, the cap counting distinct users, edits.

use time::Duration;
use time::macros::datetime;

use super::*;
use crate::clock::{Clock, ManualClock};

fn clock() -> ManualClock {
    ManualClock::new(datetime!(2026-11-25 08:00 UTC))
}

fn input() -> LinkInput {
    LinkInput {
        name: "  Site A –  Safety induction ".into(),
        description: "Contractors, August".into(),
        ..Default::default()
    }
}

fn link(clock: &ManualClock, change: impl FnOnce(&mut LinkInput)) -> AccessLink {
    let mut i = input();
    change(&mut i);
    AccessLink::new(Uuid::now_v7(), "tok".into(), i, clock.now()).unwrap()
}

#[test]
fn a_new_link_is_active_with_its_text_cleaned() {
    let c = clock();
    let l = link(&c, |_| {});
    assert_eq!(l.name, "Site A – Safety induction");
    assert!(l.active);
    assert_eq!(l.used, 0);
    assert_eq!(l.state(c.now()), LinkState::Active);
    assert!(l.check_usable(c.now()).is_ok());
}

#[test]
fn links_expire_at_their_expiry_time() {
    let c = clock();
    let mut l = link(&c, |i| i.expires_at = Some(datetime!(2026-11-30 17:00 UTC)));
    c.set(datetime!(2026-11-30 16:59:59 UTC));
    assert!(l.check_usable(c.now()).is_ok());
    c.advance(Duration::seconds(1));
    assert_eq!(l.check_usable(c.now()), Err(LinkRefusal::Expired));
    assert_eq!(l.admit(false, c.now()), Err(LinkRefusal::Expired));
    assert_eq!(
        l.admit(true, c.now()),
        Err(LinkRefusal::Expired),
        "even for a returning user"
    );
    assert_eq!(l.used, 0);
    assert_eq!(l.state(c.now()), LinkState::Expired);
    // Staff extend it: it works again.
    let patch = LinkPatch {
        expires_at: Some(None),
        ..Default::default()
    };
    l.apply(patch, c.now()).unwrap();
    assert!(l.check_usable(c.now()).is_ok());
}

#[test]
fn expiry_must_be_in_the_future() {
    let c = clock();
    let past = AccessLink::new(
        Uuid::now_v7(),
        "t".into(),
        LinkInput {
            expires_at: Some(c.now()),
            ..input()
        },
        c.now(),
    );
    assert!(matches!(
        past,
        Err(DomainError::Invalid {
            field: "expires_at",
            ..
        })
    ));
}

#[test]
fn deactivation_wins_over_expiry_and_can_be_undone() {
    let c = clock();
    let mut l = link(&c, |i| i.expires_at = Some(datetime!(2026-12-01 00:00 UTC)));
    l.deactivate(c.now()).unwrap();
    assert_eq!(l.check_usable(c.now()), Err(LinkRefusal::Deactivated));
    assert!(matches!(l.deactivate(c.now()), Err(DomainError::Conflict(_))));
    c.advance(Duration::days(30));
    assert_eq!(l.check_usable(c.now()), Err(LinkRefusal::Deactivated));
    l.reactivate(c.now()).unwrap();
    assert!(matches!(l.reactivate(c.now()), Err(DomainError::Conflict(_))));
    assert_eq!(l.check_usable(c.now()), Err(LinkRefusal::Expired));
}

#[test]
fn the_cap_counts_distinct_users_and_a_returning_user_once() {
    let c = clock();
    let mut l = link(&c, |i| i.cap = Some(2));
    l.admit(false, c.now()).unwrap();
    l.admit(false, c.now()).unwrap();
    assert_eq!(l.used, 2);
    assert_eq!(l.state(c.now()), LinkState::Full);
    assert_eq!(l.check_usable(c.now()), Err(LinkRefusal::Full));
    assert_eq!(l.admit(false, c.now()), Err(LinkRefusal::Full));
    // Someone the link already counted passes, and is not counted again.
    l.admit(true, c.now()).unwrap();
    assert_eq!(l.used, 2);
    // Raising the cap opens it again; lowering below the count closes it.
    l.apply(
        LinkPatch {
            cap: Some(Some(3)),
            ..Default::default()
        },
        c.now(),
    )
    .unwrap();
    l.admit(false, c.now()).unwrap();
    assert_eq!(l.used, 3);
    l.apply(
        LinkPatch {
            cap: Some(Some(1)),
            ..Default::default()
        },
        c.now(),
    )
    .unwrap();
    assert!(l.is_full());
    l.apply(
        LinkPatch {
            cap: Some(None),
            ..Default::default()
        },
        c.now(),
    )
    .unwrap();
    assert!(l.check_usable(c.now()).is_ok());
}

#[test]
fn invalid_settings_are_refused_and_a_bad_patch_changes_nothing() {
    let c = clock();
    for (change, field) in [
        (
            Box::new(|i: &mut LinkInput| i.name = " ".into()) as Box<dyn Fn(&mut LinkInput)>,
            "name",
        ),
        (Box::new(|i: &mut LinkInput| i.cap = Some(0)), "cap"),
        (
            Box::new(|i: &mut LinkInput| i.cap = Some(LINK_CAP_MAX + 1)),
            "cap",
        ),
        (
            Box::new(|i: &mut LinkInput| i.description = "x".repeat(LINK_DESCRIPTION_MAX_CHARS + 1)),
            "description",
        ),
        (
            Box::new(|i: &mut LinkInput| {
                i.allocation.groups = (0..=ALLOCATION_MAX_PER_KIND as u128)
                    .map(Uuid::from_u128)
                    .collect()
            }),
            "allocation.groups",
        ),
    ] {
        let mut i = input();
        change(&mut i);
        match AccessLink::new(Uuid::now_v7(), "t".into(), i, c.now()) {
            Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let mut l = link(&c, |_| {});
    let before = l.clone();
    let bad = LinkPatch {
        name: Some("New name".into()),
        cap: Some(Some(0)),
        ..Default::default()
    };
    assert!(l.apply(bad, c.now()).is_err());
    assert_eq!(l, before);
    // An empty description is allowed.
    let l = link(&c, |i| i.description = "   ".into());
    assert_eq!(l.description, "");
}

#[test]
fn allocation_lists_every_kind() {
    let a = Allocation {
        groups: [Uuid::from_u128(1)].into(),
        sites: [Uuid::from_u128(2)].into(),
        regions: [Uuid::from_u128(3)].into(),
    };
    assert_eq!(
        a.units(),
        vec![
            (UnitKind::Group, Uuid::from_u128(1)),
            (UnitKind::Site, Uuid::from_u128(2)),
            (UnitKind::Region, Uuid::from_u128(3))
        ]
    );
    assert!(!a.is_empty());
    assert!(Allocation::default().is_empty());
}

#[test]
fn tokens_carry_128_random_bits_in_base64url() {
    let mut rng = rand::rng();
    let a = new_token(&mut rng);
    let b = new_token(&mut rng);
    assert_eq!(a.len(), 22);
    assert_ne!(a, b);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
}

#[test]
fn patches_read_absent_null_and_values_apart() {
    let p: LinkPatch = serde_json::from_str(r#"{"expires_at": null, "cap": null}"#).unwrap();
    assert_eq!(p.expires_at, Some(None));
    assert_eq!(p.cap, Some(None));
    let p: LinkPatch = serde_json::from_str(r#"{"expires_at": "2027-01-01T00:00:00Z", "cap": 5}"#).unwrap();
    assert_eq!(p.expires_at, Some(Some(datetime!(2027-01-01 0:00 UTC))));
    assert_eq!(p.cap, Some(Some(5)));
    let p: LinkPatch = serde_json::from_str("{}").unwrap();
    assert_eq!(p, LinkPatch::default());
}
