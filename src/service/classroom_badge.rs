//! Check-in by badge scan: a scanned QR payload → the active badge's holder, through the badges capability's one check (shape, MAC, number, state).

use crate::domain::badge::BadgeRefusal;
use crate::domain::ids::UserId;
use crate::store::ReadTx;

use super::badges::check_badge;
use super::{ServiceError, Services};

/// The holder of the active badge scanned, or why the scan is refused (`badge_not_sitegate` for
/// garbage or half a payload, `badge_forged`, `badge_unknown`, `badge_retired`, each its own
/// code). The outer `Result` is storage.
pub fn resolve_badge(
    svc: &Services,
    tx: &impl ReadTx,
    scanned: &str,
) -> Result<Result<UserId, BadgeRefusal>, ServiceError> {
    Ok(check_badge(svc, tx, scanned)?.map(|v| v.user.id))
}
