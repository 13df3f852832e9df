//! The one rule for finding a person by a typed part of their name (staff user search, class check-in by name): word prefixes, blind to case and accents in any script.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Whether a name (given and family) answers a typed search: every word of the query begins some
/// word of the name, compared after [`fold`]. "ana s", "SIL" and "silva" find Ana Silva; "hakon"
/// finds Håkon, "obrien" O'Brien, "wrobel" Łukasiewicz-Wróbel; "na" does not find Ana. A query
/// with no letters or digits finds nobody.
pub fn name_matches(query: &str, given: &str, family: &str) -> bool {
    let query = fold(query);
    let wanted = words(&query);
    if wanted.is_empty() {
        return false;
    }
    let name = fold(&format!("{given} {family}"));
    let parts = words(&name);
    wanted.iter().all(|w| parts.iter().any(|p| p.starts_with(w)))
}

/// Text as someone types it on a keyboard without accents: compatibility forms unfolded (full-width
/// letters, ligatures), lower case, accents dropped from Latin, Greek and Cyrillic letters
/// (`Wiśniewski`, `WIŚNIEWSKI` and `wisniewski` are one; `Ελένη` is `ελενη`), the optional vowel
/// points of Hebrew and Arabic dropped, letters with no decomposition spelled as people type them
/// (`Ł` l, `ß` ss, `ø` o, `ı` i), apostrophes dropped. Marks that are letters of their script
/// (Devanagari vowel signs, Japanese voicing marks) are kept.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut accented_base = false;
    for c in text.nfkd().flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            if !(accented_base || is_optional_vowel_point(c)) {
                out.push(c);
            }
            continue;
        }
        accented_base = takes_accents(c);
        match c {
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'ø' => out.push('o'),
            'ħ' => out.push('h'),
            'ŧ' => out.push('t'),
            'ı' => out.push('i'),
            'ς' => out.push('σ'),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'ß' => out.push_str("ss"),
            'þ' => out.push_str("th"),
            '\'' | '\u{2018}' | '\u{2019}' | '\u{02bb}' | '\u{02bc}' | '`' | '\u{00b4}' => {}
            other => out.push(other),
        }
    }
    out
}

/// The words of folded text: split at spaces and punctuation (a hyphen too), never inside a word
/// of a script whose marks are part of its letters.
fn words(folded: &str) -> Vec<&str> {
    folded
        .split(|c: char| c.is_whitespace() || !(c.is_alphanumeric() || is_combining_mark(c)))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Letters whose marks are accents people leave out when typing: Latin, IPA, Greek, Cyrillic.
fn takes_accents(c: char) -> bool {
    matches!(u32::from(c),
        0x0000..=0x052F | 0x1D00..=0x1DBF | 0x1E00..=0x1FFF | 0x2C60..=0x2C7F
        | 0xA640..=0xA69F | 0xA720..=0xA7FF | 0xAB30..=0xAB6F)
}

/// Hebrew points and cantillation, Arabic harakat: written or left out at will.
fn is_optional_vowel_point(c: char) -> bool {
    matches!(u32::from(c), 0x0591..=0x05C7 | 0x064B..=0x065F | 0x0670)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Wiśniewski"), "wisniewski");
        assert_eq!(fold("ŁÓDŹ"), "lodz");
        assert_eq!(fold("João Gonçalves"), "joao goncalves");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Nguyễn Thị"), "nguyen thi");
        assert_eq!(fold("ΕΛΈΝΗ Παπαδοπούλου"), "ελενη παπαδοπουλου");
        assert_eq!(fold("Çağrı İnce"), "cagri ince");
        assert_eq!(fold("Ｈåkon"), "hakon");
        assert_eq!(fold("ʻIolani O'Brien"), "iolani obrien");
    }

    #[test]
    fn marks_that_are_letters_stay() {
        // Devanagari vowel signs and Japanese voicing marks change the word; they are kept.
        assert_ne!(fold("राम"), fold("रम"));
        assert_ne!(fold("ガ"), fold("カ"));
        // Hebrew points are optional.
        assert_eq!(fold("שָׁלוֹם"), "שלום");
    }

    #[test]
    fn names_match_by_word_prefixes() {
        assert!(name_matches("ana s", "Ana", "Silva"));
        assert!(name_matches("SIL", "Ana", "Silva"));
        assert!(name_matches("żó", "Żółw", "Kowalski"));
        assert!(name_matches("zolw", "Żółw", "Kowalski"));
        assert!(name_matches("hakon", "Håkon", "Ødegård"));
        assert!(name_matches("odegard", "Håkon", "Ødegård"));
        assert!(name_matches("wrobel", "Zofia", "Łukasiewicz-Wróbel"));
        assert!(name_matches("zoe obrien", "Zoë", "O'Brien"));
        assert!(name_matches("алексей", "АЛЕКСЕЙ", "Смирнов"));
        assert!(name_matches("dorde petrovic", "Đorđe", "Petrović"));
        assert!(name_matches("weiss", "Jürgen", "Weiß"));
        assert!(name_matches("weiß", "Jürgen", "Weiss"));
        assert!(!name_matches("na", "Ana", "Silva"));
        assert!(!name_matches("  ", "Ana", "Silva"));
        assert!(!name_matches("-'", "Ana", "Silva"));
    }
}
