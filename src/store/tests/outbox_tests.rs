//! The outbox: gap-free numbering, aborted transactions, paging, failures and removal.

use serde_json::json;
use time::macros::datetime;

use crate::store::outbox;
use crate::store::{Store, StoreError};

#[test]
fn numbers_are_gap_free_and_an_aborted_transaction_uses_none() {
    let store = Store::open_in_memory().unwrap();
    let now = datetime!(2026-03-01 9:00 UTC);
    assert_eq!(store.read_blocking(outbox::last_seq).unwrap(), 0);
    let first = store
        .write_blocking(|tx| outbox::append_event(tx, "user.created", json!({"n": 1}), now))
        .unwrap();
    assert_eq!(first, 1);
    let aborted: Result<u64, StoreError> = store.write_blocking(|tx| {
        let seq = outbox::append_event(tx, "user.created", json!({"n": "lost"}), now)?;
        assert_eq!(seq, 2);
        Err(StoreError::Redb("the state change failed".into()))
    });
    assert!(aborted.is_err());
    let (a, b) = store
        .write_blocking(|tx| {
            let a = outbox::append_event(tx, "unit.created", json!({"n": 2}), now)?;
            let b = outbox::append_event(tx, "module.created", json!({"n": 3}), now)?;
            Ok::<_, StoreError>((a, b))
        })
        .unwrap();
    assert_eq!((a, b), (2, 3));
    let events = store.read_blocking(|tx| outbox::list_events(tx, 0, 100)).unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(events[1].kind, "unit.created");
    assert_eq!(events[1].payload, json!({"n": 2}));
    assert_eq!(events[1].created_at, now);
    assert_eq!((events[1].attempts, events[1].last_error.as_deref()), (0, None));
    assert_eq!(events[0].event_id.get_version_num(), 7);
    assert_ne!(events[0].event_id, events[1].event_id);
    let page = store.read_blocking(|tx| outbox::list_events(tx, 1, 1)).unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);
    assert_eq!(store.read_blocking(outbox::count_events).unwrap(), 3);
    assert_eq!(store.read_blocking(outbox::last_seq).unwrap(), 3);
}

#[test]
fn failures_are_counted_and_sent_events_removed_without_reusing_numbers() {
    let store = Store::open_in_memory().unwrap();
    let now = datetime!(2026-03-01 9:00 UTC);
    store
        .write_blocking(|tx| {
            for i in 0..3 {
                outbox::append_event(tx, "x", json!(i), now)?;
            }
            assert!(outbox::record_failure(tx, 2, "central unreachable")?);
            assert!(outbox::record_failure(tx, 2, "HTTP 503")?);
            assert!(!outbox::record_failure(tx, 99, "no such event")?);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let second = store
        .read_blocking(|tx| outbox::get_event(tx, 2))
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.attempts, second.last_error.as_deref()),
        (2, Some("HTTP 503"))
    );
    assert_eq!(
        store
            .write_blocking(|tx| outbox::remove_events_through(tx, 3))
            .unwrap(),
        3
    );
    assert_eq!(store.read_blocking(outbox::count_events).unwrap(), 0);
    let next = store
        .write_blocking(|tx| outbox::append_event(tx, "x", json!(4), now))
        .unwrap();
    assert_eq!(next, 4, "a number is never handed out twice");
}
