//! A person's details as typed at a kiosk or sent by the central system: names, email, phone, employer, language.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::DomainError;

/// Longest given or family name, in characters (after NFC normalisation).
pub const NAME_MAX_CHARS: usize = 100;
/// Longest employer name, in characters.
pub const EMPLOYER_MAX_CHARS: usize = 120;
/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX_LEN: usize = 254;

/// Trim, NFC-normalise and check one line of free text typed by a person.
pub fn clean_text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, DomainError> {
    let text: String = raw.trim().nfc().collect();
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if collapsed.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, "must not contain control characters"));
    }
    let n = collapsed.chars().count();
    if n > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("is {n} characters long; at most {max_chars} allowed"),
        ));
    }
    Ok(collapsed)
}

/// Given and family name, in any script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub given: String,
    pub family: String,
}

impl PersonName {
    pub fn new(given: &str, family: &str) -> Result<PersonName, DomainError> {
        Ok(PersonName {
            given: clean_text("given_name", given, NAME_MAX_CHARS)?,
            family: clean_text("family_name", family, NAME_MAX_CHARS)?,
        })
    }

    /// "Given Family", for screens and badges.
    pub fn full(&self) -> String {
        format!("{} {}", self.given, self.family)
    }

    /// "Given F.", for rosters shown on shared screens and headsets.
    pub fn short(&self) -> String {
        match self.family.chars().next() {
            Some(initial) => format!("{} {}.", self.given, initial),
            None => self.given.clone(),
        }
    }
}

/// A validated, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, DomainError> {
        let s: String = raw.trim().nfc().collect::<String>().to_lowercase();
        let bad = |why: &str| Err(DomainError::invalid("email", why.to_string()));
        if s.is_empty() {
            return bad("must not be empty");
        }
        if s.len() > EMAIL_MAX_LEN {
            return bad("is too long");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return bad("must look like name@example.com");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return bad("the part before @ is not valid");
        }
        if s.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
                )
        }) {
            return bad("contains a character not allowed in an address");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
        {
            return bad("the part after @ must be a domain like example.com");
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in international form: `+` and 7 to 15 digits (E.164), spaces and punctuation dropped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, DomainError> {
        let raw = raw.trim();
        let mut digits = String::new();
        let mut plus = false;
        for (i, c) in raw.chars().enumerate() {
            match c {
                '+' if i == 0 => plus = true,
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => {
                    return Err(DomainError::invalid(
                        "phone",
                        format!("may hold only digits, spaces and + - ( ) . (found {c:?})"),
                    ));
                }
            }
        }
        if raw.starts_with("00") && !plus {
            digits.drain(..2);
            plus = true;
        }
        if !plus {
            return Err(DomainError::invalid(
                "phone",
                "must start with + and the country code, e.g. +44 7700 900123",
            ));
        }
        if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(DomainError::invalid(
                "phone",
                "must have a country code and 7 to 15 digits",
            ));
        }
        Ok(Phone(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A preferred language as a lower-case BCP 47 primary tag, optionally with a region (`pt`, `pt-br`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Language, DomainError> {
        let s = raw.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = s.split('-');
        let primary = parts.next().unwrap_or_default();
        let region = parts.next();
        let ok = (2..=3).contains(&primary.len())
            && primary.chars().all(|c| c.is_ascii_lowercase())
            && region
                .is_none_or(|r| (2..=3).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()))
            && parts.next().is_none();
        if ok {
            Ok(Language(s))
        } else {
            Err(DomainError::invalid(
                "language",
                "must be a language code such as en, es, pt or pl",
            ))
        }
    }

    pub fn english() -> Language {
        Language("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Language {
    fn default() -> Self {
        Language::english()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_nfc_normalised_trimmed_and_limited() {
        // "José" typed as e + combining acute accent becomes the single precomposed é.
        let n = PersonName::new("  Jose\u{301}  ", "Núñez   Peña").unwrap();
        assert_eq!(n.given, "Jos\u{e9}");
        assert_eq!(n.family, "Núñez Peña");
        assert_eq!(n.short(), "José N.");
        assert!(PersonName::new("", "X").is_err());
        assert!(PersonName::new("A", &"ж".repeat(101)).is_err());
        assert!(PersonName::new("A", &"ж".repeat(100)).is_ok());
        assert!(PersonName::new("A\u{7}", "B").is_err());
    }

    #[test]
    fn names_in_any_script_survive() {
        let data = include_str!("../../tests/data/names.tsv");
        for line in data
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let cols: Vec<&str> = line.split('\t').collect();
            let n = PersonName::new(cols[0], cols[1]).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(n.given, cols[0].trim().nfc().collect::<String>());
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ana.Silva@Example.COM ").unwrap().as_str(),
            "ana.silva@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "ana@localhost",
            "a b@x.com",
            "ana@-x.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("+44 7700 900-123").unwrap().as_str(),
            "+447700900123"
        );
        assert_eq!(Phone::parse("0048 601 234 567").unwrap().as_str(), "+48601234567");
        for bad in ["", "7700900123", "+12", "+44 7700 900123 ext 5", "+0 123 4567"] {
            assert!(Phone::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn languages() {
        assert_eq!(Language::parse("PT_BR").unwrap().as_str(), "pt-br");
        assert!(Language::parse("english").is_err());
        assert!(Language::parse("").is_err());
    }
}
