//! Self-enrollment rules: the site's contact requirement, accepting the current terms, and the kiosk's languages.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::user::NewUser;

/// The languages the kiosk offers at launch (English first; it is the fallback).
pub const KIOSK_LANGUAGES: [&str; 4] = ["en", "es", "pt", "pl"];

/// Why an enrollment form is refused before anything is stored, beyond a malformed field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollmentRefusal {
    /// The terms were not accepted, or the accepted version is not the current one.
    #[error("{detail}")]
    TermsNotAccepted { field: &'static str, detail: String },
    /// The site needs a way to reach the worker that the form lacks.
    #[error("{detail}")]
    ContactRequired {
        /// The one field that is missing, when the rule names one.
        field: Option<&'static str>,
        detail: String,
    },
}

/// How a worker must be reachable, as the site requires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactRule {
    /// At least one of email and phone.
    #[default]
    EmailOrPhone,
    Email,
    Phone,
    /// Neither is required.
    None,
}

impl ContactRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRule::EmailOrPhone => "email_or_phone",
            ContactRule::Email => "email",
            ContactRule::Phone => "phone",
            ContactRule::None => "none",
        }
    }

    /// Check a validated form against the rule.
    pub fn check(self, user: &NewUser) -> Result<(), DomainError> {
        let (email, phone) = (user.email.is_some(), user.phone.is_some());
        let refuse = |field: Option<&'static str>, detail: &str| {
            Err(DomainError::Enrollment(EnrollmentRefusal::ContactRequired {
                field,
                detail: detail.to_string(),
            }))
        };
        match self {
            ContactRule::EmailOrPhone if !email && !phone => {
                refuse(None, "give an email address or a phone number")
            }
            ContactRule::Email if !email => refuse(Some("email"), "give an email address"),
            ContactRule::Phone if !phone => refuse(Some("phone"), "give a phone number"),
            _ => Ok(()),
        }
    }
}

/// The worker must tick the terms, and the version they saw must be the site's current one.
pub fn check_terms(accepted: bool, seen_version: &str, current_version: &str) -> Result<(), DomainError> {
    if !accepted {
        return Err(DomainError::Enrollment(EnrollmentRefusal::TermsNotAccepted {
            field: "accept_terms",
            detail: "the site's terms must be accepted to enroll".into(),
        }));
    }
    if seen_version.trim() != current_version {
        return Err(DomainError::Enrollment(EnrollmentRefusal::TermsNotAccepted {
            field: "terms_version",
            detail: format!(
                "the site's terms have changed (now version {current_version}); read and accept them again"
            ),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::NewUserInput;

    fn form(email: Option<&str>, phone: Option<&str>) -> NewUser {
        NewUserInput {
            given_name: "Алексей".into(),
            family_name: "Смирнов".into(),
            email: email.map(str::to_string),
            phone: phone.map(str::to_string),
            ..Default::default()
        }
        .validate()
        .unwrap()
    }

    fn code(r: Result<(), DomainError>) -> Option<Option<&'static str>> {
        match r {
            Ok(()) => None,
            Err(DomainError::Enrollment(EnrollmentRefusal::ContactRequired { field, .. })) => Some(field),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn contact_rules() {
        let none = form(None, None);
        let email = form(Some("a@example.com"), None);
        let phone = form(None, Some("+48 601 234 567"));
        // A blank field counts as absent.
        let blank = form(Some("  "), Some(""));
        assert_eq!(code(ContactRule::EmailOrPhone.check(&none)), Some(None));
        assert_eq!(code(ContactRule::EmailOrPhone.check(&blank)), Some(None));
        assert_eq!(code(ContactRule::EmailOrPhone.check(&email)), None);
        assert_eq!(code(ContactRule::EmailOrPhone.check(&phone)), None);
        assert_eq!(code(ContactRule::Email.check(&phone)), Some(Some("email")));
        assert_eq!(code(ContactRule::Email.check(&email)), None);
        assert_eq!(code(ContactRule::Phone.check(&email)), Some(Some("phone")));
        assert_eq!(code(ContactRule::Phone.check(&phone)), None);
        assert_eq!(code(ContactRule::None.check(&none)), None);
    }

    #[test]
    fn terms_need_ticking_and_the_current_version() {
        assert!(check_terms(true, "2026-01", "2026-01").is_ok());
        assert!(check_terms(true, " 2026-01 ", "2026-01").is_ok());
        let field = |r: Result<(), DomainError>| match r {
            Err(DomainError::Enrollment(EnrollmentRefusal::TermsNotAccepted { field, .. })) => field,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(field(check_terms(false, "2026-01", "2026-01")), "accept_terms");
        assert_eq!(field(check_terms(true, "2025-06", "2026-01")), "terms_version");
    }

    #[test]
    fn contact_rule_names_are_the_config_and_api_spelling() {
        for rule in [
            ContactRule::EmailOrPhone,
            ContactRule::Email,
            ContactRule::Phone,
            ContactRule::None,
        ] {
            let json = serde_json::to_value(rule).unwrap();
            assert_eq!(json, rule.as_str());
        }
    }
}
