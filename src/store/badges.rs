//! Badges by number and each user's current badge (BADGES, BADGE_BY_USER).

use redb::{ReadableTable, WriteTransaction};

use super::StoreError;
use super::codec::Versioned;
use super::tables::{BADGE_BY_USER, BADGES, names};
use super::tx::{ReadTx, get_record};
use crate::domain::badge::{Badge, BadgeNumber, BadgeState};
use crate::domain::ids::UserId;

/// The badge with this number, active or retired.
pub fn get_badge(tx: &impl ReadTx, number: &BadgeNumber) -> Result<Option<Badge>, StoreError> {
    get_record(tx, BADGES, names::BADGES, number.as_str())
}

/// Store a badge; an active one becomes its holder's current badge.
pub fn put_badge(tx: &WriteTransaction, badge: &Badge) -> Result<(), StoreError> {
    let encoded = Versioned::encode(badge, names::BADGES)?;
    tx.open_table(BADGES)?.insert(badge.number.as_str(), encoded)?;
    if badge.state == BadgeState::Active {
        tx.open_table(BADGE_BY_USER)?
            .insert(badge.user_id.as_str(), badge.number.as_str())?;
    }
    Ok(())
}

/// The user's latest badge (active, or retired when they were deactivated since).
pub fn current_badge(tx: &impl ReadTx, user: &UserId) -> Result<Option<Badge>, StoreError> {
    let number = tx
        .table(BADGE_BY_USER)?
        .get(user.as_str())?
        .map(|v| BadgeNumber::from_canonical(v.value().to_string()));
    match number {
        Some(n) => get_badge(tx, &n),
        None => Ok(None),
    }
}
