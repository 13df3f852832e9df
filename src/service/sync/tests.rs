//! The sync's use cases on an in-memory store: a refetch across an epoch change and records whose version went down in a new epoch.

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::engine::PageReport;
use crate::clock::ManualClock;
use crate::keys::Keys;
use crate::service::{Actor, ServiceResult, Services};
use crate::store::{self, Store};
use crate::sync::seal::KeyPair;
use crate::sync::wire::{ChangesPage, JoinAnswer};

const T0: OffsetDateTime = datetime!(2026-11-25 08:00 UTC);

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
