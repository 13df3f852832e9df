//! Staff credentials, the PIN index and sessions.

use time::macros::datetime;

use super::user;
use crate::domain::staff::{Role, ScreenKind, SessionTimes};
use crate::store::credentials::{self, StaffCredential};
use crate::store::sessions::{self, StoredSession};
use crate::store::{Store, StoreError};

#[test]
fn credentials_round_trip_with_tags_as_hex() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", None, None);
    let cred = StaffCredential {
        pin_tag: None,
        bootstrap_tag: Some([0xab; 32]),
        bootstrap_expires_at: Some(datetime!(2026-03-02 9:00 UTC)),
        ..Default::default()
    };
    store
        .write_blocking(|tx| credentials::put_credential(tx, &ana.id, &cred))
        .unwrap();
    let back = store
        .read_blocking(|tx| credentials::get_credential(tx, &ana.id))
        .unwrap();
    assert_eq!(back, Some(cred.clone()));
    let json = serde_json::to_string(&cred).unwrap();
    assert!(json.contains(&"ab".repeat(32)), "{json}");
    assert_eq!(serde_json::from_str::<StaffCredential>(&json).unwrap(), cred);
    assert!(
        serde_json::from_str::<StaffCredential>(
            r#"{"pin_tag":"zz","bootstrap_tag":null,"bootstrap_expires_at":null}"#
        )
        .is_err()
    );
}

#[test]
fn pins_are_unique_and_a_new_pin_releases_the_old() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", None, None);
    let bea = user("Bea", None, None);
    let (one, two) = ([1u8; 32], [2u8; 32]);
    store
        .write_blocking(|tx| credentials::set_pin(tx, &ana.id, one))
        .unwrap();
    let err = store
        .write_blocking(|tx| credentials::set_pin(tx, &bea.id, one))
        .unwrap_err();
    assert!(matches!(err, StoreError::PinTaken), "{err:?}");
    assert_eq!(
        store
            .read_blocking(|tx| credentials::get_credential(tx, &bea.id))
            .unwrap(),
        None
    );
    // Setting the same PIN again is fine; a new one frees the old.
    store
        .write_blocking(|tx| credentials::set_pin(tx, &ana.id, one))
        .unwrap();
    store
        .write_blocking(|tx| credentials::set_pin(tx, &ana.id, two))
        .unwrap();
    store
        .read_blocking(|tx| {
            assert_eq!(credentials::pin_owner(tx, &one)?, None);
            assert_eq!(credentials::pin_owner(tx, &two)?, Some(ana.id.clone()));
            assert_eq!(
                credentials::get_credential(tx, &ana.id)?.and_then(|c| c.pin_tag),
                Some(two)
            );
            Ok(())
        })
        .unwrap();
    store
        .write_blocking(|tx| credentials::set_pin(tx, &bea.id, one))
        .unwrap();
    assert!(
        store
            .write_blocking(|tx| credentials::clear_pin(tx, &ana.id))
            .unwrap()
    );
    assert!(
        !store
            .write_blocking(|tx| credentials::clear_pin(tx, &ana.id))
            .unwrap()
    );
    store
        .read_blocking(|tx| {
            assert_eq!(credentials::pin_owner(tx, &two)?, None);
            assert_eq!(credentials::pin_owner(tx, &one)?, Some(bea.id.clone()));
            assert_eq!(
                credentials::get_credential(tx, &ana.id)?.map(|c| c.pin_tag),
                Some(None)
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn sessions_round_trip_and_end_per_user() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", None, None);
    let bea = user("Bea", None, None);
    let t0 = datetime!(2026-03-01 9:00 UTC);
    let times = SessionTimes {
        created_at: t0,
        last_seen: t0,
        screen: ScreenKind::Kiosk,
    };
    let session = |u: &crate::domain::user::User| StoredSession {
        user_id: u.id.clone(),
        role: Role::Instructor,
        times,
    };
    store
        .write_blocking(|tx| {
            sessions::put_session(tx, &[1; 32], &session(&ana))?;
            sessions::put_session(tx, &[2; 32], &session(&ana))?;
            sessions::put_session(tx, &[3; 32], &session(&bea))
        })
        .unwrap();
    assert_eq!(
        store
            .read_blocking(|tx| sessions::get_session(tx, &[3; 32]))
            .unwrap(),
        Some(session(&bea))
    );
    assert!(
        store
            .write_blocking(|tx| sessions::delete_session(tx, &[3; 32]))
            .unwrap()
    );
    assert!(
        !store
            .write_blocking(|tx| sessions::delete_session(tx, &[3; 32]))
            .unwrap()
    );
    store
        .write_blocking(|tx| sessions::put_session(tx, &[3; 32], &session(&bea)))
        .unwrap();
    assert_eq!(
        store
            .write_blocking(|tx| sessions::delete_sessions_of(tx, &ana.id))
            .unwrap(),
        2
    );
    store
        .read_blocking(|tx| {
            assert_eq!(sessions::get_session(tx, &[1; 32])?, None);
            assert_eq!(sessions::get_session(tx, &[2; 32])?, None);
            assert_eq!(sessions::get_session(tx, &[3; 32])?, Some(session(&bea)));
            Ok(())
        })
        .unwrap();
}
