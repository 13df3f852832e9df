//! Enrollment use cases on a real in-memory store and a manual clock: what one transaction holds, and
//! the answers only reachable below the API (a deactivated user whose PIN still verifies).

use std::sync::Arc;

use time::macros::datetime;

use super::*;
use crate::clock::ManualClock;
use crate::domain::link::LinkInput;
use crate::domain::staff::SessionPolicy;
use crate::keys::Keys;
use crate::service::SiteSettings;
use crate::store::Store;

fn services() -> Services {
    let settings = SiteSettings {
        site_name: "Test".into(),
        pin_length: 6,
        sessions: SessionPolicy {
            idle_kiosk: time::Duration::minutes(2),
            idle_laptop: time::Duration::minutes(15),
            absolute: time::Duration::hours(12),
        },
        enrollment: EnrollmentSettings {
            terms_version: "1".into(),
            terms_text: "Terms".into(),
            contact_required: ContactRule::EmailOrPhone,
        },
        kiosk_idle_seconds: 60,
        credentials: crate::service::CredentialSettings::default(),
        classroom: crate::service::ClassroomSettings::default(),
    };
    Services::new(
        Store::open_in_memory().unwrap(),
        Arc::new(ManualClock::new(datetime!(2026-11-25 08:00 UTC))),
        Arc::new(Keys::for_tests()),
        settings,
    )
}

fn form(email: &str) -> EnrollmentForm {
    EnrollmentForm {
        given_name: "Zoë".into(),
        family_name: "O'Brien".into(),
        email: Some(email.into()),
        language: "en".into(),
        terms_version: "1".into(),
        accept_terms: true,
        ..Default::default()
    }
}

async fn new_link(svc: &Services) -> AccessLink {
    let input = LinkInput {
        name: "Induction".into(),
        ..Default::default()
    };
    svc.create_link(Actor::Cli, input).await.unwrap().link
}

#[tokio::test]
async fn one_enrollment_writes_user_usage_pin_activity_outbox_and_audit_together() {
    let svc = services();
    let link = new_link(&svc).await;
    let done = svc
        .enroll(
            link.token.clone(),
            form("zoe@example.ie"),
            Some("kiosk".into()),
            None,
        )
        .await
        .unwrap();
    let pin = done.pin.clone().unwrap();
    let user_id = done.user.id.clone();
    let tag = svc.keys.pin_tag(&pin);
    svc.store
        .read(move |tx| {
            let user = store::users::get_user(tx, &user_id)?.unwrap();
            assert_eq!(user.terms.as_ref().map(|t| t.version.as_str()), Some("1"));
            assert_eq!(user.created_via, CreatedVia::Link { link_id: link.id });
            assert_eq!(store::credentials::pin_owner(tx, &tag)?, Some(user_id.clone()));
            let usage = store::links::get_use(tx, link.id, &user_id)?.unwrap();
            assert_eq!(usage.source.as_deref(), Some("kiosk"));
            assert!(!usage.existing_user);
            assert_eq!(store::links::get_link(tx, link.id)?.unwrap().used, 1);
            let kinds: Vec<String> = store::outbox::list_events(tx, 0, 100)?
                .into_iter()
                .map(|e| e.kind)
                .collect();
            assert!(
                kinds.ends_with(&[
                    "user.created".to_string(),
                    "user.pin_issued".to_string(),
                    "link.enrolled".to_string()
                ]),
                "{kinds:?}"
            );
            let audit: Vec<String> = store::audit::list_audit(tx, 10)?
                .into_iter()
                .map(|a| a.event)
                .collect();
            assert!(audit.contains(&"link.enroll".to_string()), "{audit:?}");
            let activity = store::activity::list_activity(tx, &user_id, 10)?;
            assert!(activity.iter().any(|a| matches!(
                a.kind,
                ActivityKind::EnrolledViaLink {
                    existing_user: false,
                    ..
                }
            )));
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_deactivated_user_whose_pin_still_verifies_is_told_so_and_nothing_is_added() {
    let svc = services();
    let first = new_link(&svc).await;
    let done = svc
        .enroll(first.token.clone(), form("a@example.com"), None, None)
        .await
        .unwrap();
    let (id, pin) = (done.user.id.clone(), done.pin.unwrap());
    // Deactivate the record but keep the PIN tag, as a record pulled from the central system might be.
    let uid = id.clone();
    let clock_now = svc.now();
    svc.store
        .write(move |tx| -> Result<(), StoreError> {
            let mut u = store::users::get_user(tx, &uid)?.unwrap();
            u.deactivate(clock_now).unwrap();
            store::users::update_user(tx, &u)
        })
        .await
        .unwrap();
    let second = new_link(&svc).await;
    let proof = Proof::Pin {
        user_id: id.clone(),
        pin: pin.clone(),
    };
    let err = svc
        .enroll_existing(
            second.token.clone(),
            proof,
            AttemptSource::box_kiosk(),
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::UserDeactivated(_)), "{err:?}");
    let link_id = second.id;
    svc.store
        .read(move |tx| {
            assert_eq!(store::links::get_link(tx, link_id)?.unwrap().used, 0);
            assert!(store::links::get_use(tx, link_id, &id)?.is_none());
            let last = &store::audit::list_audit(tx, 1)?[0];
            assert_eq!(last.event, "link.existing_user");
            assert_eq!(last.outcome, "failure");
            assert!(
                !last.detail.as_deref().unwrap_or("").contains(&pin),
                "no PIN in the audit"
            );
            Ok(())
        })
        .await
        .unwrap();
}

#[test]
fn a_proof_never_shows_its_secret() {
    let p = Proof::Pin {
        user_id: crate::domain::ids::UserId::mint(&mut rand::rng()),
        pin: "123456".into(),
    };
    assert!(!format!("{p:?}").contains("123456"));
    assert!(
        !format!(
            "{:?}",
            Proof::Otp {
                otp: "87654321".into()
            }
        )
        .contains("8765")
    );
}

#[tokio::test]
async fn without_printing_an_enrollment_still_goes_through_and_says_the_badge_is_unavailable() {
    let svc = services();
    assert!(svc.printing.is_none());
    let link = new_link(&svc).await;
    let done = svc
        .enroll(link.token.clone(), form("nopaper@example.ie"), None, None)
        .await
        .unwrap();
    assert!(matches!(done.badge, EnrollmentBadge::Unavailable));
    assert!(done.pin.is_some());
    let user_id = done.user.id.clone();
    let badge = svc
        .store
        .read(move |tx| store::badges::current_badge(tx, &user_id))
        .await
        .unwrap();
    assert!(badge.is_none(), "no badge without a printer to print it");
}
