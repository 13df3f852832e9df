//! Finding users by part of their ID or name, for the staff screens ("who needs a PIN?").

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::users::LIST_MAX;
use super::{ServiceResult, Services};
use crate::domain::ids::UserId;
use crate::domain::user::User;
use crate::store;

/// What a search may be: 1 to this many characters after trimming.
pub const QUERY_MAX_CHARS: usize = 64;

/// Lower case without accents, as someone types on a keyboard without them: `Wiśniewski`,
/// `wisniewski` and `WIŚNIEWSKI` are one name; `Łódź` is `lodz`.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        match c {
            'ł' => out.push('l'),
            'đ' => out.push('d'),
            'ø' => out.push('o'),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            other => out.push(other),
        }
    }
    out
}

/// Letters and digits only, folded: `abcde-fghjk`, `ABCDE FGHJK` and `abcdefghjk` are one ID.
fn compact(text: &str) -> String {
    fold(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Whether `user` answers `query`: part of the ID (separators ignored), or every word of the
/// query found in the full name (case and accents ignored).
pub fn user_matches(user: &User, query: &str) -> bool {
    let q = compact(query);
    if q.is_empty() {
        return false;
    }
    if compact(user.id.as_str()).contains(&q) {
        return true;
    }
    let name = fold(&user.name.full());
    fold(query).split_whitespace().all(|word| name.contains(word))
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

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Wiśniewski"), "wisniewski");
        assert_eq!(fold("ŁÓDŹ"), "lodz");
        assert_eq!(fold("João Gonçalves"), "joao goncalves");
        assert_eq!(fold("Straße"), "strasse");
    }
}
