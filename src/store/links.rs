//! Training access links, their token index and who came through each (ACCESS_LINKS, LINK_BY_TOKEN, LINK_USAGE).

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use super::codec::{Record, Versioned};
use super::tables::{ACCESS_LINKS, LINK_BY_TOKEN, LINK_USAGE, names};
use super::tx::{ReadTx, all_records, get_record};
use crate::domain::ids::UserId;
use crate::domain::link::AccessLink;
use crate::domain::org::Unit;
use crate::keys::token_hash;

/// One user's use of one link: the first time they came through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUse {
    pub user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where they enrolled: `kiosk`, or the phone's or laptop's address.
    pub source: Option<String>,
    /// True when an existing user proved who they are, false for a sign-up.
    pub existing_user: bool,
    /// The units the link put them in, as they were named then.
    pub allocated: Vec<Unit>,
}

impl Record for LinkUse {
    const NAME: &'static str = "link_use";
}

/// Store a link, new or changed, and index its token (which never changes).
pub fn put_link(tx: &WriteTransaction, link: &AccessLink) -> Result<(), StoreError> {
    let encoded = Versioned::encode(link, names::ACCESS_LINKS)?;
    tx.open_table(LINK_BY_TOKEN)?
        .insert(&token_hash(&link.token), link.id.as_u128())?;
    tx.open_table(ACCESS_LINKS)?.insert(link.id.as_u128(), encoded)?;
    Ok(())
}

/// The link with this ID.
pub fn get_link(tx: &impl ReadTx, id: Uuid) -> Result<Option<AccessLink>, StoreError> {
    get_record(tx, ACCESS_LINKS, names::ACCESS_LINKS, id.as_u128())
}

/// The link whose URL carries this token.
pub fn find_link_by_token(tx: &impl ReadTx, token: &str) -> Result<Option<AccessLink>, StoreError> {
    let id = tx
        .table(LINK_BY_TOKEN)?
        .get(&token_hash(token))?
        .map(|v| v.value());
    match id {
        Some(id) => get_link(tx, Uuid::from_u128(id)),
        None => Ok(None),
    }
}

/// Every link, oldest first (IDs are UUIDv7).
pub fn list_links(tx: &impl ReadTx) -> Result<Vec<AccessLink>, StoreError> {
    all_records(tx, ACCESS_LINKS, names::ACCESS_LINKS)
}

/// This user's use of this link, if they used it.
pub fn get_use(tx: &impl ReadTx, link: Uuid, user: &UserId) -> Result<Option<LinkUse>, StoreError> {
    get_record(tx, LINK_USAGE, names::LINK_USAGE, (link.as_u128(), user.as_str()))
}

/// Record a user's use of a link.
pub fn put_use(tx: &WriteTransaction, link: Uuid, entry: &LinkUse) -> Result<(), StoreError> {
    let encoded = Versioned::encode(entry, names::LINK_USAGE)?;
    tx.open_table(LINK_USAGE)?
        .insert((link.as_u128(), entry.user_id.as_str()), encoded)?;
    Ok(())
}

/// Everyone who came through a link, in the order they came.
pub fn list_uses(tx: &impl ReadTx, link: Uuid) -> Result<Vec<LinkUse>, StoreError> {
    let table = tx.table(LINK_USAGE)?;
    let id = link.as_u128();
    let mut out = Vec::new();
    for row in table.range((id, "")..)? {
        let (k, v) = row?;
        if k.value().0 != id {
            break;
        }
        out.push(v.value().decode(names::LINK_USAGE)?);
    }
    out.sort_by(|a: &LinkUse, b| a.at.cmp(&b.at).then_with(|| a.user_id.cmp(&b.user_id)));
    Ok(out)
}

/// Remove a link (a central tombstone) and its token's index entry. Its usage rows stay, for
/// the users' history.
pub fn remove_link(tx: &WriteTransaction, id: Uuid) -> Result<bool, StoreError> {
    let Some(link) = get_link(tx, id)? else {
        return Ok(false);
    };
    forget_token(tx, &link)?;
    tx.open_table(ACCESS_LINKS)?.remove(id.as_u128())?;
    Ok(true)
}

/// Drop a link's token index entry (before its token changes or it is removed).
pub fn forget_token(tx: &WriteTransaction, link: &AccessLink) -> Result<(), StoreError> {
    let mut index = tx.open_table(LINK_BY_TOKEN)?;
    let ours = index
        .get(&token_hash(&link.token))?
        .is_some_and(|v| v.value() == link.id.as_u128());
    if ours {
        index.remove(&token_hash(&link.token))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::link::{LinkInput, new_token};
    use crate::domain::org::UnitKind;
    use crate::store::Store;
    use time::macros::datetime;

    fn link(name: &str) -> AccessLink {
        AccessLink::new(
            Uuid::now_v7(),
            new_token(&mut rand::rng()),
            LinkInput {
                name: name.into(),
                ..Default::default()
            },
            datetime!(2026-11-25 08:00 UTC),
        )
        .unwrap()
    }

    fn usage(user: &UserId, minute: u8) -> LinkUse {
        LinkUse {
            user_id: user.clone(),
            at: datetime!(2026-11-25 08:00 UTC).replace_minute(minute).unwrap(),
            source: Some("kiosk".into()),
            existing_user: false,
            allocated: vec![Unit::new(Uuid::from_u128(9), UnitKind::Site, "North gate").unwrap()],
        }
    }

    #[test]
    fn links_are_found_by_id_and_token_and_usage_stays_per_link() {
        let store = Store::open_in_memory().unwrap();
        let (a, b) = (link("A"), link("B"));
        let mut rng = rand::rng();
        let (u1, u2) = (UserId::mint(&mut rng), UserId::mint(&mut rng));
        store
            .write_blocking(|tx| -> Result<(), StoreError> {
                put_link(tx, &a)?;
                put_link(tx, &b)?;
                put_use(tx, a.id, &usage(&u1, 5))?;
                put_use(tx, a.id, &usage(&u2, 1))?;
                put_use(tx, b.id, &usage(&u1, 3))?;
                Ok(())
            })
            .unwrap();
        store
            .read_blocking(|tx| {
                assert_eq!(get_link(tx, a.id)?.unwrap(), a);
                assert_eq!(find_link_by_token(tx, &b.token)?.unwrap().id, b.id);
                assert!(find_link_by_token(tx, "nope")?.is_none());
                assert_eq!(list_links(tx)?.len(), 2);
                let uses = list_uses(tx, a.id)?;
                assert_eq!(uses.len(), 2);
                assert_eq!(uses[0].user_id, u2, "ordered by time");
                assert_eq!(list_uses(tx, b.id)?.len(), 1);
                assert!(get_use(tx, b.id, &u2)?.is_none());
                assert_eq!(get_use(tx, a.id, &u1)?.unwrap().allocated[0].name, "North gate");
                Ok(())
            })
            .unwrap();
    }
}
