//! Bulk import of users: a whole batch validated up front, then written in one write transaction.

use std::collections::HashMap;

use super::users::insert_new_user;
use super::{Actor, ServiceResult, Services};
use crate::domain::DomainError;
use crate::domain::user::{CreatedVia, NewUserInput, User};

/// Prefix a row's refusal with its index in the batch (0-based), keeping the field it is about.
fn at_row(i: usize, e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid { field, reason } => DomainError::invalid(field, format!("row {i}: {reason}")),
        other => DomainError::invalid("row", format!("row {i}: {other}")),
    }
}

/// Validate every row, and refuse an email or phone that appears twice in the batch. Reports the
/// first bad row (0-based index); nothing has been written when this fails.
fn validate_batch(inputs: &[NewUserInput]) -> Result<(), DomainError> {
    let mut emails: HashMap<String, usize> = HashMap::new();
    let mut phones: HashMap<String, usize> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let new = input.validate().map_err(|e| at_row(i, e))?;
        if let Some(email) = &new.email
            && let Some(first) = emails.insert(email.as_str().to_string(), i)
        {
            return Err(DomainError::invalid(
                "email",
                format!("row {i}: the same email as row {first}"),
            ));
        }
        if let Some(phone) = &new.phone
            && let Some(first) = phones.insert(phone.as_str().to_string(), i)
        {
            return Err(DomainError::invalid(
                "phone",
                format!("row {i}: the same phone as row {first}"),
            ));
        }
    }
    Ok(())
}

impl Services {
    /// Create a batch of users (staff or CLI import) in one write transaction: all or nothing.
    /// Every row is validated first and the first bad one reported by its 0-based index. Each
    /// user gets its activity entry, outbox event and audit entry in the same transaction, as with
    /// [`Services::create_user`]. An email or phone already used by a stored user refuses the
    /// whole batch with `Duplicate`, nothing written.
    pub async fn import_users(&self, actor: Actor, inputs: Vec<NewUserInput>) -> ServiceResult<Vec<User>> {
        validate_batch(&inputs)?;
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let svc = self.clone();
        self.store
            .write(move |tx| {
                let mut created = Vec::with_capacity(inputs.len());
                for input in &inputs {
                    created.push(insert_new_user(&svc, tx, input, &[], CreatedVia::Admin, &actor)?);
                }
                Ok(created)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::keys::Keys;
    use crate::service::ServiceError;
    use crate::store::{self, Store};

    fn services() -> Services {
        let store = Store::open_in_memory().unwrap();
        let settings = crate::site_settings(&crate::config::Config::default());
        Services::new(
            store,
            Arc::new(SystemClock),
            Arc::new(Keys::for_tests()),
            settings,
        )
    }

    fn person(i: usize) -> NewUserInput {
        NewUserInput {
            given_name: format!("Given{i}"),
            family_name: format!("Family{i}"),
            email: Some(format!("person{i}@example.com")),
            ..Default::default()
        }
    }

    /// (users, outbox events, audit entries, activity entries)
    fn counts(svc: &Services) -> (u64, u64, usize, usize) {
        svc.store
            .read_blocking(|tx| {
                let users = store::users::list_users(tx, None, usize::MAX)?;
                let mut activity = 0;
                for u in &users {
                    activity += store::activity::list_activity(tx, &u.id, 100)?.len();
                }
                Ok((
                    store::users::count_users(tx)?,
                    store::outbox::count_events(tx)?,
                    store::audit::list_audit(tx, usize::MAX)?.len(),
                    activity,
                ))
            })
            .unwrap()
    }

    #[tokio::test]
    async fn a_batch_with_one_bad_row_writes_nothing() {
        let svc = services();
        let mut batch: Vec<NewUserInput> = (0..5).map(person).collect();
        batch[3].email = Some("not-an-address".into());
        let err = svc.import_users(Actor::Cli, batch).await.unwrap_err();
        match &err {
            ServiceError::Domain(DomainError::Invalid { field, reason }) => {
                assert_eq!(*field, "email");
                assert!(reason.starts_with("row 3: "), "{reason}");
            }
            other => panic!("expected an invalid row, got {other:?}"),
        }
        assert_eq!(counts(&svc), (0, 0, 0, 0));
    }

    #[tokio::test]
    async fn the_same_email_twice_in_a_batch_is_refused_with_both_rows() {
        let svc = services();
        let mut batch: Vec<NewUserInput> = (0..4).map(person).collect();
        batch[2].email = Some(" PERSON0@example.com".into());
        let err = svc.import_users(Actor::Cli, batch).await.unwrap_err();
        assert!(
            err.to_string().contains("row 2: the same email as row 0"),
            "{err}"
        );
        assert_eq!(counts(&svc), (0, 0, 0, 0));
    }

    #[tokio::test]
    async fn a_clash_with_a_stored_user_aborts_the_whole_batch() {
        let svc = services();
        svc.create_user(Actor::Cli, person(2), Vec::new()).await.unwrap();
        let err = svc
            .import_users(Actor::Cli, (0..4).map(person).collect())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ServiceError::Duplicate { field: "email", .. }),
            "{err:?}"
        );
        assert_eq!(counts(&svc), (1, 1, 1, 1));
    }

    #[tokio::test]
    async fn a_good_batch_writes_every_user_with_activity_outbox_and_audit() {
        let svc = services();
        let batch: Vec<NewUserInput> = (0..25).map(person).collect();
        let created = svc.import_users(Actor::Cli, batch).await.unwrap();
        assert_eq!(created.len(), 25);
        assert!(created.iter().all(|u| u.created_via == CreatedVia::Admin));
        assert_eq!(
            created[7].email.as_ref().map(|e| e.as_str()),
            Some("person7@example.com")
        );
        assert_eq!(counts(&svc), (25, 25, 25, 25));
        let stored = svc
            .store
            .read_blocking(|tx| store::users::get_user(tx, &created[24].id))
            .unwrap();
        assert_eq!(stored.as_ref(), Some(&created[24]));
        assert!(svc.import_users(Actor::Cli, Vec::new()).await.unwrap().is_empty());
    }
}
