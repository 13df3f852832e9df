//! Where headsets meet classrooms. Until the classroom feature lands these answer "no class"; its engineer replaces the two bodies.

use time::OffsetDateTime;

use crate::domain::device::Device;
use crate::domain::ids::UserId;
use crate::domain::user::User;
use crate::store::{ReadTx, StoreError};

/// One participant a headset may offer to pick from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterEntry {
    pub user_id: UserId,
    /// First name and family initial ("Ana S.").
    pub display_name: String,
}

/// Whether a classroom-only user may log in on this headset now: only while checked in to an
/// open class (in the headset's room). Until the classroom feature lands: never.
pub fn classroom_admits(
    _tx: &impl ReadTx,
    _user: &User,
    _device: &Device,
    _now: OffsetDateTime,
) -> Result<bool, StoreError> {
    Ok(false)
}

/// The checked-in participants of the class open in `room` now. Until the classroom feature
/// lands: nobody.
pub fn room_roster(
    _tx: &impl ReadTx,
    _room: &str,
    _now: OffsetDateTime,
) -> Result<Vec<RosterEntry>, StoreError> {
    Ok(Vec::new())
}
