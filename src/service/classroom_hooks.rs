//! Where headsets meet classrooms: whether a classroom-only user may log in now, and the room roster a headset offers, both from live attendance.

use time::OffsetDateTime;

use crate::domain::device::Device;
use crate::domain::ids::UserId;
use crate::domain::user::User;
use crate::store::{self, ReadTx, StoreError};

/// One participant a headset may offer to pick from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterEntry {
    pub user_id: UserId,
    /// First name and family initial ("Ana S.").
    pub display_name: String,
}

/// Whether a classroom-only user may log in on this headset now: only while checked in to an
/// open class, in the headset's room when staff placed it in one.
pub fn classroom_admits(
    tx: &impl ReadTx,
    user: &User,
    device: &Device,
    _now: OffsetDateTime,
) -> Result<bool, StoreError> {
    for class in store::classes::open_classes(tx)? {
        if device.room.as_deref().is_some_and(|r| !class.in_room(r)) {
            continue;
        }
        if store::classes::get_attendance(tx, class.id, &user.id)?.is_some_and(|a| a.is_present()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The checked-in participants of the classes open in `room` now, by name.
pub fn room_roster(
    tx: &impl ReadTx,
    room: &str,
    _now: OffsetDateTime,
) -> Result<Vec<RosterEntry>, StoreError> {
    let mut out = Vec::new();
    for class in store::classes::open_classes(tx)? {
        if !class.in_room(room) {
            continue;
        }
        for a in store::classes::class_attendance(tx, class.id)? {
            if !a.is_present() {
                continue;
            }
            if let Some(user) = store::users::get_user(tx, &a.user_id)?
                && user.is_active()
            {
                out.push(RosterEntry {
                    user_id: user.id.clone(),
                    display_name: user.name.short(),
                });
            }
        }
    }
    out.sort_by_key(|e| e.display_name.to_lowercase());
    Ok(out)
}
