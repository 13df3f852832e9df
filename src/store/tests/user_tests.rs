//! Users: insert, update with re-indexing, lookups by email and phone, paging, uniqueness.

use super::user;
use crate::domain::person::{Email, Phone};
use crate::store::{Store, StoreError, users};

#[test]
fn insert_get_find_list_count() {
    let store = Store::open_in_memory().unwrap();
    let people: Vec<_> = (0..5)
        .map(|i| {
            user(
                &format!("P{i}"),
                Some(&format!("p{i}@example.com")),
                Some(&format!("+4477009001{i:02}")),
            )
        })
        .collect();
    store
        .write_blocking(|tx| {
            for p in &people {
                users::insert_user(tx, p)?;
            }
            // A write transaction sees its own writes.
            assert_eq!(users::count_users(tx)?, 5);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let mut sorted = people.clone();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    store
        .read_blocking(|tx| {
            assert_eq!(users::count_users(tx)?, 5);
            assert_eq!(users::get_user(tx, &people[2].id)?.as_ref(), Some(&people[2]));
            let by_email = users::find_user_by_email(tx, &Email::parse("P3@Example.com").unwrap())?;
            assert_eq!(by_email.as_ref(), Some(&people[3]));
            let by_phone = users::find_user_by_phone(tx, &Phone::parse("+44 7700 900104").unwrap())?;
            assert_eq!(by_phone.as_ref(), Some(&people[4]));
            assert_eq!(
                users::find_user_by_email(tx, &Email::parse("nobody@example.com").unwrap())?,
                None
            );
            assert_eq!(users::list_users(tx, None, 100)?, sorted);
            let first = users::list_users(tx, None, 2)?;
            assert_eq!(first, sorted[..2]);
            let next = users::list_users(tx, Some(&first[1].id), 2)?;
            assert_eq!(next, sorted[2..4]);
            assert_eq!(users::list_users(tx, Some(&sorted[4].id), 2)?, vec![]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn duplicate_email_phone_or_id_is_refused() {
    let store = Store::open_in_memory().unwrap();
    let ana = user("Ana", Some("ana@example.com"), Some("+447700900123"));
    store.write_blocking(|tx| users::insert_user(tx, &ana)).unwrap();
    let same_phone = user("Bea", None, Some("+44 (7700) 900-123"));
    let err = store
        .write_blocking(|tx| users::insert_user(tx, &same_phone))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { field: "phone", owner } if owner == &ana.id),
        "{err:?}"
    );
    let err = store
        .write_blocking(|tx| users::insert_user(tx, &ana))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { field: "id", .. }),
        "{err:?}"
    );
    assert_eq!(store.read_blocking(users::count_users).unwrap(), 1);
}

#[test]
fn update_moves_the_index_entries() {
    let store = Store::open_in_memory().unwrap();
    let mut ana = user("Ana", Some("ana@example.com"), Some("+447700900123"));
    let bea = user("Bea", Some("bea@example.com"), None);
    store
        .write_blocking(|tx| {
            users::insert_user(tx, &ana)?;
            users::insert_user(tx, &bea)
        })
        .unwrap();

    // Taking Bea's email is refused and changes nothing.
    let mut stolen = ana.clone();
    stolen.email = bea.email.clone();
    let err = store
        .write_blocking(|tx| users::update_user(tx, &stolen))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { field: "email", owner } if owner == &bea.id),
        "{err:?}"
    );

    ana.email = Some(Email::parse("ana.silva@example.com").unwrap());
    ana.phone = None;
    store.write_blocking(|tx| users::update_user(tx, &ana)).unwrap();
    store
        .read_blocking(|tx| {
            assert_eq!(users::get_user(tx, &ana.id)?.as_ref(), Some(&ana));
            let old_email = Email::parse("ana@example.com").unwrap();
            assert_eq!(users::find_user_by_email(tx, &old_email)?, None);
            assert_eq!(
                users::find_user_by_email(tx, ana.email.as_ref().unwrap())?.as_ref(),
                Some(&ana)
            );
            assert_eq!(
                users::find_user_by_phone(tx, &Phone::parse("+447700900123").unwrap())?,
                None
            );
            Ok(())
        })
        .unwrap();

    // The released email and phone are free for someone else now.
    let cara = user("Cara", Some("ana@example.com"), Some("+447700900123"));
    store.write_blocking(|tx| users::insert_user(tx, &cara)).unwrap();
}

#[test]
fn names_in_any_script_round_trip() {
    let store = Store::open_in_memory().unwrap();
    let data = include_str!("../../../tests/data/names.tsv");
    let mut ids = Vec::new();
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let mut u = user("X", None, None);
        u.name = crate::domain::person::PersonName::new(cols[0], cols[1]).unwrap();
        store.write_blocking(|tx| users::insert_user(tx, &u)).unwrap();
        ids.push(u);
    }
    assert!(!ids.is_empty());
    for u in ids {
        assert_eq!(
            store.read_blocking(|tx| users::get_user(tx, &u.id)).unwrap(),
            Some(u)
        );
    }
}
