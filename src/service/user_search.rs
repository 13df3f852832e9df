//! Finding users by part of their ID or name, for the staff screens ("who needs a PIN?").

use super::users::LIST_MAX;
use super::{ServiceResult, Services};
use crate::domain::ids::UserId;
use crate::domain::name_search::{fold, name_matches};
use crate::domain::user::User;
use crate::store;

/// What a search may be: 1 to this many characters after trimming.
pub const QUERY_MAX_CHARS: usize = 64;

/// Letters and digits only, folded: `abcde-fghjk`, `ABCDE FGHJK` and `abcdefghjk` are one ID.
fn compact(text: &str) -> String {
    fold(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Whether `user` answers `query`: part of the ID (separators ignored), or their name by the one
/// name-search rule (`domain::name_search`, the same as a class's check-in by name).
pub fn user_matches(user: &User, query: &str) -> bool {
    let q = compact(query);
    if q.is_empty() {
        return false;
    }
    if compact(user.id.as_str()).contains(&q) {
        return true;
    }
    name_matches(query, &user.name.given, &user.name.family)
}

impl Services {
    /// Up to `limit` users (ID order, after `after`) whose ID or name answers `query`.
    pub async fn search_users(
        &self,
        query: String,
        after: Option<UserId>,
        limit: usize,
    ) -> ServiceResult<Vec<User>> {
        let limit = limit.clamp(1, LIST_MAX);
        Ok(self
            .store
            .read(move |tx| {
                let mut found = Vec::new();
                let mut cursor = after;
                loop {
                    let page = store::users::list_users(tx, cursor.as_ref(), LIST_MAX)?;
                    let last = page.last().map(|u| u.id.clone());
                    let full = page.len() == LIST_MAX;
                    for user in page {
                        if user_matches(&user, &query) {
                            found.push(user);
                            if found.len() == limit {
                                return Ok(found);
                            }
                        }
                    }
                    if !full {
                        return Ok(found);
                    }
                    cursor = last;
                }
            })
            .await?)
    }
}
