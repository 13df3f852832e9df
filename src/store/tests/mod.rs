//! Store-level tests on real databases (temp files and the in-memory backend): opening, locking, durability, aborts.

mod outbox_tests;
mod record_tests;
mod staff_tests;
mod user_tests;

use time::macros::datetime;

use super::*;
use crate::domain::ids::UserId;
use crate::domain::user::{CreatedVia, NewUserInput, User};
use crate::store::codec::Versioned;
use crate::store::tables::{USERS, names};

pub(super) fn user(given: &str, email: Option<&str>, phone: Option<&str>) -> User {
    NewUserInput {
        given_name: given.into(),
        family_name: "Tester".into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        ..Default::default()
    }
    .validate()
    .unwrap()
    .into_user(
        UserId::mint(&mut rand::rng()),
        CreatedVia::Admin,
        datetime!(2026-03-01 9:00 UTC),
    )
}

#[test]
fn opening_the_same_file_twice_is_in_use_with_a_helpful_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("sitegate.redb");
    let first = Store::open(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(&err, StoreError::InUse(p) if p == &path), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "database {} is already in use by another sitegate (is `sitegate serve` running?)",
            path.display()
        )
    );
    // The first handle is unharmed, and once it is gone the file opens again.
    assert!(first.is_empty_of_users().unwrap());
    drop(first);
    Store::open(&path).unwrap();
}

#[test]
fn open_creates_missing_folders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("sitegate.redb");
    Store::open(&path).unwrap();
    assert!(path.exists());
}

#[test]
fn an_unopenable_path_is_an_open_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Open { path, .. } if path == dir.path()),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sitegate.redb");
    let ana = user("Ana", Some("ana@example.com"), None);
    {
        let store = Store::open(&path).unwrap();
        assert!(store.is_empty_of_users().unwrap());
        store.write_blocking(|tx| users::insert_user(tx, &ana)).unwrap();
        store
            .write_blocking(|tx| {
                outbox::append_event(tx, "user.created", serde_json::json!({}), ana.created_at)
            })
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert!(!store.is_empty_of_users().unwrap());
    let back = store.read_blocking(|tx| users::get_user(tx, &ana.id)).unwrap();
    assert_eq!(back, Some(ana.clone()));
    let email = ana.email.clone().unwrap();
    assert_eq!(
        store
            .read_blocking(|tx| users::find_user_by_email(tx, &email))
            .unwrap(),
        Some(ana)
    );
    assert_eq!(store.read_blocking(outbox::last_seq).unwrap(), 1);
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", Some("ana@example.com"), None);
    let bea = user("Bea", Some("ANA@example.com"), Some("+44 7700 900123"));
    store.write_blocking(|tx| users::insert_user(tx, &ana)).unwrap();
    let err = store
        .write_blocking(|tx| {
            outbox::append_event(tx, "user.created", serde_json::json!({}), bea.created_at)?;
            users::insert_user(tx, &bea)
        })
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { field: "email", owner } if owner == &ana.id),
        "{err:?}"
    );
    store
        .read_blocking(|tx| {
            assert_eq!(users::get_user(tx, &bea.id)?, None);
            assert_eq!(users::count_users(tx)?, 1);
            let phone = bea.phone.clone().unwrap();
            assert_eq!(
                users::find_user_by_phone(tx, &phone)?,
                None,
                "the phone index was not written either"
            );
            assert_eq!(outbox::count_events(tx)?, 0);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_row_in_an_unknown_codec_version_reads_as_corrupt() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", None, None);
    store
        .write_blocking(|tx| {
            let row: Versioned<User> = Versioned::from_raw(b"\x07{}".to_vec());
            tx.open_table(USERS)?.insert(ana.id.as_str(), row)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let err = store
        .read_blocking(|tx| users::get_user(tx, &ana.id))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                table: names::USERS,
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .read_blocking(|tx| users::list_users(tx, None, 10))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt { table: "users", .. }),
        "{err:?}"
    );
}

#[test]
fn gateway_id_and_schema_version_of_a_fresh_store() {
    let store = Store::open_in_memory().unwrap();
    let id = store.gateway_id().unwrap();
    assert!(id.starts_with("gw-") && id.len() == 15, "{id}");
    assert!(
        id[3..].bytes().all(|b| crate::domain::ids::ALPHABET.contains(&b)),
        "{id}"
    );
    assert_eq!(store.schema_version().unwrap(), migrations::LATEST);
    assert_ne!(Store::open_in_memory().unwrap().gateway_id().unwrap(), id);
}

#[tokio::test]
async fn async_read_and_write_run_off_the_async_threads() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", None, None);
    let inserted = ana.clone();
    store
        .write(move |tx| users::insert_user(tx, &inserted))
        .await
        .unwrap();
    let id = ana.id.clone();
    assert_eq!(
        store.read(move |tx| users::get_user(tx, &id)).await.unwrap(),
        Some(ana)
    );
    // A panicking task is an error, not a crash.
    let err = store
        .read(|_| -> Result<(), StoreError> { panic!("boom") })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Join));
    // Functions are usable directly as the closure.
    assert_eq!(store.read(users::count_users).await.unwrap(), 1);
}

#[test]
fn concurrent_writers_share_durable_commits_and_every_write_survives_a_reopen() {
    use redb::TableDefinition;
    const T: TableDefinition<u64, u64> = TableDefinition::new("group_commit_test");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sitegate.redb");
    let store = Store::open(&path).unwrap();
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..25u64 {
                    store
                        .write_blocking(|tx| -> Result<(), StoreError> {
                            tx.open_table(T)?.insert(t * 1000 + i, i)?;
                            Ok(())
                        })
                        .unwrap();
                }
            });
        }
    });
    drop(store);
    let store = Store::open(&path).unwrap();
    let n = store.read_blocking(|tx| Ok(tx.open_table(T)?.len()?)).unwrap();
    assert_eq!(n, 200);
}
