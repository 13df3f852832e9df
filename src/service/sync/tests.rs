//! The sync's use cases on an in-memory store: a refetch across an epoch change, records whose version went down in a new epoch, credentials withdrawn centrally, site edits laid back over pulled classes and users, and a site token refused at join.

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::engine::PageReport;
use crate::clock::ManualClock;
use crate::domain::classroom::{ClassInput, ClassState};
use crate::domain::ids::UserId;
use crate::keys::Keys;
use crate::service::{Actor, ServiceResult, Services};
use crate::store::{self, Store};
use crate::sync::seal::{self, KeyPair};
use crate::sync::wire::{ChangesPage, JoinAnswer};

const T0: OffsetDateTime = datetime!(2026-11-25 08:00 UTC);
const ANA: &str = "C100000000001";

fn services() -> Services {
    Services::new(
        Store::open_in_memory().unwrap(),
        Arc::new(ManualClock::new(T0)),
        Arc::new(Keys::for_tests()),
        crate::site_settings(&crate::config::Config::default()),
    )
}

/// A gateway that joined a site in `epoch` (no first page yet).
async fn joined(epoch: &str) -> Services {
    let svc = services();
    let answer = JoinAnswer {
        gateway_id: "gw-0000000000000".into(),
        site_id: Uuid::now_v7(),
        site_name: "Plant North".into(),
        credential: "credential".into(),
        central_public_key: KeyPair::generate().public_b64(),
        epoch: epoch.into(),
        server_time: T0,
    };
    svc.record_join(Actor::Cli, "https://central.example".into(), answer)
        .await
        .unwrap();
    svc
}

fn change(kind: &str, id: &str, version: u64, record: Value) -> Value {
    json!({"kind": kind, "id": id, "version": version, "deleted": false, "record": record})
}

fn tombstone(kind: &str, id: &str, version: u64) -> Value {
    json!({"kind": kind, "id": id, "version": version, "deleted": true, "record": null})
}

fn user(role: &str) -> Value {
    json!({"given_name": "Ana", "family_name": "Lima", "role": role, "access_level": "full",
           "status": "active", "created_at": "2026-11-01T08:00:00Z"})
}

fn class(title: &str) -> Value {
    json!({"title": title, "room": "Hall B", "starts_at": "2026-11-26T09:00:00Z",
           "ends_at": "2026-11-26T10:00:00Z", "instructors": [ANA], "state": "scheduled"})
}

/// Apply one page as the sync task would, after asking with `asked` in `asked_epoch`.
async fn pull(
    svc: &Services,
    asked: Option<&str>,
    asked_epoch: &str,
    answer: (&str, &str, Vec<Value>),
    key: Option<&KeyPair>,
) -> ServiceResult<PageReport> {
    let (epoch, cursor, changes) = answer;
    let page = ChangesPage {
        epoch: epoch.into(),
        cursor: cursor.into(),
        has_more: false,
        server_time: T0,
        changes,
    };
    svc.apply_central_page(
        asked.map(str::to_string),
        Some(asked_epoch.to_string()),
        page,
        key.cloned(),
    )
    .await
}

async fn unit_name(svc: &Services, id: &str) -> Option<String> {
    let id = Uuid::parse_str(id).unwrap();
    svc.store
        .read(move |tx| store::org::get_unit(tx, id))
        .await
        .unwrap()
        .map(|u| u.name)
}

async fn pin_owner(svc: &Services, pin: &str) -> Option<UserId> {
    let tag = svc.keys.pin_tag(pin);
    svc.store
        .read(move |tx| store::credentials::pin_owner(tx, &tag))
        .await
        .unwrap()
}

async fn otps_of(svc: &Services, user: &UserId) -> usize {
    let user = user.clone();
    svc.store
        .read(store::otps::list_otps)
        .await
        .unwrap()
        .iter()
        .filter(|(_, o)| o.user_id == user)
        .count()
}

#[tokio::test]
async fn a_page_of_another_epoch_is_refused_even_for_a_refetch_and_a_410_moves_the_epoch() {
    let svc = joined("e-1").await;
    let group = Uuid::now_v7().to_string();
    let welders = || vec![change("group", &group, 1, json!({"name": "Welders"}))];
    // Even with no cursor: a replayed page of an older epoch must not pass for a snapshot (its
    // sweep would remove everything it does not list). The sync task takes the epoch instead.
    assert!(
        pull(&svc, None, "e-1", ("e-2", "1", welders()), None)
            .await
            .is_err()
    );
    assert_eq!(unit_name(&svc, &group).await, None, "nothing applied");
    svc.begin_refetch(Some("e-2".into())).await.unwrap();
    let report = pull(&svc, None, "e-2", ("e-2", "1", welders()), None)
        .await
        .unwrap();
    assert_eq!((report.outcome.applied, report.swept), (1, Some(0)));
    let state = svc.sync_position().await.unwrap();
    assert_eq!(
        (state.epoch.as_deref(), state.cursor.as_deref(), state.refetching),
        (Some("e-2"), Some("1"), false)
    );
    assert_eq!(state.past_epochs, ["e-1"], "a later page of e-1 is a replay");
    let refused = pull(&svc, Some("1"), "e-2", ("e-3", "2", vec![]), None).await;
    assert!(refused.is_err());
    let state = svc.sync_position().await.unwrap();
    assert_eq!(
        (state.epoch.as_deref(), state.cursor.as_deref()),
        (Some("e-2"), Some("1"))
    );
}

#[tokio::test]
async fn a_new_epoch_wins_over_higher_old_versions_and_nothing_a_refetch_lists_is_swept() {
    let svc = joined("e-1").await;
    let (a, b) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    pull(
        &svc,
        None,
        "e-1",
        (
            "e-1",
            "10",
            vec![
                change("group", &a, 7, json!({"name": "Old A"})),
                change("group", &b, 3, json!({"name": "B"})),
            ],
        ),
        None,
    )
    .await
    .unwrap();

    // Restored from a backup: a new epoch whose versions start lower.
    svc.begin_refetch(Some("e-2".into())).await.unwrap();
    let report = pull(
        &svc,
        None,
        "e-2",
        (
            "e-2",
            "2",
            vec![
                change("group", &a, 2, json!({"name": "New A"})),
                change("group", &b, 1, json!({"name": "B"})),
            ],
        ),
        None,
    )
    .await
    .unwrap();
    assert_eq!(report.swept, Some(0), "both were listed");
    assert_eq!(
        unit_name(&svc, &a).await.as_deref(),
        Some("New A"),
        "the new epoch is the truth"
    );
    assert_eq!(unit_name(&svc, &b).await.as_deref(), Some("B"));

    // A refetch in the same epoch (a cursor behind the horizon) that lists an older version:
    // skipped, but seen, so not swept.
    svc.begin_refetch(Some("e-2".into())).await.unwrap();
    let report = pull(
        &svc,
        None,
        "e-2",
        (
            "e-2",
            "3",
            vec![
                change("group", &a, 1, json!({"name": "Stale A"})),
                change("group", &b, 1, json!({"name": "B"})),
            ],
        ),
        None,
    )
    .await
    .unwrap();
    assert_eq!((report.swept, report.outcome.skipped), (Some(0), 2));
    assert_eq!(unit_name(&svc, &a).await.as_deref(), Some("New A"));
}

#[tokio::test]
async fn a_credential_withdrawn_centrally_takes_back_its_pin_and_otps_but_not_a_site_pin() {
    let svc = joined("e-1").await;
    let key = KeyPair::generate();
    let sealed = |s: &str| seal::seal(&key.public_b64(), s).unwrap();
    let ana = UserId::central(ANA).unwrap();
    let issued = json!({"pin": sealed("493817"),
                        "otp": {"code": sealed("12345678"), "expires_at": "2026-11-26T08:00:00Z"}});
    pull(
        &svc,
        None,
        "e-1",
        (
            "e-1",
            "2",
            vec![
                change("user", ANA, 1, user("trainee")),
                change("credential", ANA, 1, issued),
            ],
        ),
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(pin_owner(&svc, "493817").await, Some(ana.clone()));
    assert_eq!(otps_of(&svc, &ana).await, 1);

    // A credential with neither PIN nor one-time password withdraws both.
    let report = pull(
        &svc,
        Some("2"),
        "e-1",
        ("e-1", "3", vec![change("credential", ANA, 2, json!({}))]),
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome.applied, 1);
    assert_eq!(
        pin_owner(&svc, "493817").await,
        None,
        "the central PIN no longer signs in"
    );
    assert_eq!(otps_of(&svc, &ana).await, 0);

    // A new central PIN, then a tombstone: withdrawn again.
    let pin = json!({"pin": sealed("551234")});
    pull(
        &svc,
        Some("3"),
        "e-1",
        ("e-1", "4", vec![change("credential", ANA, 3, pin)]),
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(pin_owner(&svc, "551234").await, Some(ana.clone()));
    pull(
        &svc,
        Some("4"),
        "e-1",
        ("e-1", "5", vec![tombstone("credential", ANA, 4)]),
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(pin_owner(&svc, "551234").await, None);

    // A PIN made on site after the central one is not the central system's to take back.
    let pin = json!({"pin": sealed("662345")});
    pull(
        &svc,
        Some("5"),
        "e-1",
        ("e-1", "6", vec![change("credential", ANA, 5, pin)]),
        Some(&key),
    )
    .await
    .unwrap();
    let site_pin = svc.issue_pin(Actor::Cli, ana.clone()).await.unwrap();
    pull(
        &svc,
        Some("6"),
        "e-1",
        ("e-1", "7", vec![tombstone("credential", ANA, 6)]),
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(
        pin_owner(&svc, &site_pin).await,
        Some(ana),
        "the site's PIN stays"
    );
}

#[tokio::test]
async fn site_edits_of_central_classes_and_users_survive_newer_pulled_versions() {
    let svc = joined("e-1").await;
    let group = Uuid::now_v7();
    let (cancelled, edited) = (Uuid::now_v7(), Uuid::now_v7());
    pull(
        &svc,
        None,
        "e-1",
        (
            "e-1",
            "1",
            vec![
                change("user", ANA, 1, user("instructor")),
                change("group", &group.to_string(), 1, json!({"name": "Welders"})),
                change("class", &cancelled.to_string(), 1, class("Fire safety")),
                change("class", &edited.to_string(), 1, class("Hot work")),
            ],
        ),
        None,
    )
    .await
    .unwrap();
    let ana = UserId::central(ANA).unwrap();

    // On site: one class cancelled, one moved to another room, Ana put in a group.
    svc.cancel_class(Actor::Cli, cancelled).await.unwrap();
    let moved = ClassInput {
        room: Some("Yard".into()),
        ..Default::default()
    };
    svc.edit_class(Actor::Cli, edited, moved).await.unwrap();
    svc.join_unit(Actor::Cli, ana.clone(), group).await.unwrap();

    // The central system sends newer versions before it has accepted those events.
    let mut newer_user = user("instructor");
    newer_user["employer"] = json!("Nordic Steel");
    pull(
        &svc,
        Some("1"),
        "e-1",
        (
            "e-1",
            "2",
            vec![
                change("user", ANA, 2, newer_user),
                change("class", &cancelled.to_string(), 2, class("Fire safety, moved")),
                change("class", &edited.to_string(), 2, class("Hot work")),
            ],
        ),
        None,
    )
    .await
    .unwrap();
    let (c, e, u) = svc
        .store
        .read(move |tx| {
            Ok((
                store::classes::get_class(tx, cancelled)?.unwrap(),
                store::classes::get_class(tx, edited)?.unwrap(),
                store::users::get_user(tx, &ana)?.unwrap(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(c.state, ClassState::Cancelled, "still cancelled");
    assert_eq!(c.title, "Fire safety, moved", "the central change to it applies");
    assert_eq!((e.room.as_str(), e.state), ("Yard", ClassState::Scheduled));
    assert!(u.groups.contains(&group), "the unit added on site stays");
    assert_eq!(u.employer.as_deref(), Some("Nordic Steel"));
}

#[tokio::test]
async fn a_refused_site_token_is_named_as_such_at_join() {
    use super::join::JoinInput;
    use crate::sync::credential::Trust;
    use crate::sync::test_central::{TestCentral, TestCentralOptions};

    let central = TestCentral::start(TestCentralOptions::default()).await.unwrap();
    let svc = services();
    let dir = tempfile::tempdir().unwrap();
    let input = |token: &str| JoinInput {
        url: central.url(),
        site_token: token.into(),
        trust: Trust {
            ca_pem: None,
            fingerprint: central.fingerprint(),
        },
    };
    let wrong = svc
        .join_central(Actor::Cli, dir.path(), input("not-a-site-token"))
        .await
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("refused the site token"), "{wrong}");
    assert!(!wrong.contains("credential"), "not about a credential: {wrong}");

    let token = central.site_token();
    svc.join_central(Actor::Cli, dir.path(), input(&token))
        .await
        .unwrap();
    svc.leave_central(Actor::Cli, dir.path()).await.unwrap();
    let spent = svc
        .join_central(Actor::Cli, dir.path(), input(&token))
        .await
        .unwrap_err()
        .to_string();
    assert!(spent.contains("refused the site token (used already"), "{spent}");
}
