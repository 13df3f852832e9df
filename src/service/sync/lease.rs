//! Link caps across gateways: a joined gateway enrolls through a capped central link only within the slots the central system leased to it.

use redb::WriteTransaction;
use uuid::Uuid;

use crate::domain::link::{AccessLink, LinkRefusal};
use crate::store::sync::Lease;
use crate::store::{self, StoreError};
use crate::sync::wire::{LeaseGrant, LeaseRequest};

/// Unused slots a gateway tries to hold per capped link, so a morning's queue enrolls offline.
pub const WANT_FREE: u32 = 10;
/// Ask for more when fewer than this are free.
pub const LOW_WATER: u32 = 3;

/// Whether the link's cap is the central system's to share (a central link on a joined gateway).
fn leased_link(tx: &WriteTransaction, link: &AccessLink) -> Result<bool, StoreError> {
    if link.cap.is_none() || store::sync::get_state(tx)?.joined.is_none() {
        return Ok(false);
    }
    let id = link.id.to_string();
    Ok(store::sync::get_central(tx, "link", &id)?.is_some_and(|e| !e.deleted))
}

/// Use one leased slot for a newly counted user, in the enrollment's transaction. A standalone
/// gateway, an uncapped link or a link made here needs none. `Full` when no slot is left here
/// (other slots may be with other gateways).
pub fn take_slot(tx: &WriteTransaction, link: &AccessLink) -> Result<Result<(), LinkRefusal>, StoreError> {
    if !leased_link(tx, link)? {
        return Ok(Ok(()));
    }
    let mut lease = store::sync::get_lease(tx, link.id)?.unwrap_or_default();
    if lease.free() == 0 {
        return Ok(Err(LinkRefusal::Full));
    }
    lease.consumed += 1;
    store::sync::put_lease(tx, link.id, &lease)?;
    Ok(Ok(()))
}

/// The lease requests due now: capped central links, open, with too few free slots; and links
/// no longer open whose unused slots go back. A give-back lowers the slots held here only when
/// the central system confirms it ([`record_grant`]), so one that fails is sent again next
/// cycle; a link that is not open enrolls no one meanwhile.
pub fn due_requests(
    tx: &WriteTransaction,
    now: time::OffsetDateTime,
) -> Result<Vec<LeaseRequest>, StoreError> {
    let mut out = Vec::new();
    if store::sync::get_state(tx)?.joined.is_none() {
        return Ok(out);
    }
    for link in store::links::list_links(tx)? {
        if !leased_link(tx, &link)? {
            continue;
        }
        let lease = store::sync::get_lease(tx, link.id)?.unwrap_or_default();
        let open = link.check_open(now).is_ok();
        if open && lease.free() < LOW_WATER {
            out.push(LeaseRequest {
                link_id: link.id,
                consumed: lease.consumed,
                want_free: WANT_FREE,
            });
        } else if !open && lease.free() > 0 {
            out.push(LeaseRequest {
                link_id: link.id,
                consumed: lease.consumed,
                want_free: 0,
            });
        }
    }
    Ok(out)
}

/// Record a grant. A grant never lowers what the gateway already used; a grant smaller than
/// what the gateway holds is taken (central is the one that shares the cap).
pub fn record_grant(tx: &WriteTransaction, grant: &LeaseGrant) -> Result<Lease, StoreError> {
    let mut lease = store::sync::get_lease(tx, grant.link_id)?.unwrap_or_default();
    lease.granted = grant.granted.max(lease.consumed);
    store::sync::put_lease(tx, grant.link_id, &lease)?;
    Ok(lease)
}

/// Every lease, for leaving and for the status screen.
pub fn all(tx: &impl store::ReadTx) -> Result<Vec<(Uuid, Lease)>, StoreError> {
    store::sync::list_leases(tx)
}
