//! `sitegate print test`: a sample badge (accents and Cyrillic) straight to a printer, for the technician installing it. No gateway, no `init`, no state directory needed.

use super::Outcome;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::domain::badge::{self, BadgeNumber};
use crate::domain::print_job::new_job_id;
use crate::keys::{Keys, os_rng};
use crate::printer::Printing;
use crate::printer::profile::DEFAULT_PROFILE;
use crate::printer::render::BadgeContent;
use crate::printer::transport::{self, Delivery, PrinterUrl};

/// The sample's names: accents and Cyrillic, as the contract asks.
pub const SAMPLE_GIVEN: &str = "José Алексей";
pub const SAMPLE_FAMILY: &str = "Núñez-Смирнов";

pub async fn test(config: &Config, printer: &str, profile_id: Option<&str>) -> Outcome {
    let url = match PrinterUrl::parse(printer) {
        Ok(u) => u,
        Err(e) => return Outcome::fail(2, format!("--printer {e}")),
    };
    let printing = match Printing::from_config(config) {
        Ok(p) => p,
        Err(e) => return Outcome::fail(2, e),
    };
    let profile_id = profile_id.unwrap_or(DEFAULT_PROFILE);
    let Some(profile) = printing.profiles.get(profile_id).cloned() else {
        let known: Vec<&str> = printing.profiles.ids().collect();
        return Outcome::fail(
            2,
            format!(
                "--profile: no firmware profile {profile_id:?} (known: {})",
                known.join(", ")
            ),
        );
    };
    let key_file = config.key_file();
    let (keys, which) = match Keys::load_existing(&key_file) {
        Ok(Some(k)) => (k, format!("the badge key of {}", key_file.display())),
        Ok(None) => (
            Keys::throwaway(),
            format!(
                "a throwaway key (no key file at {}): this sample will not verify on a gateway",
                key_file.display()
            ),
        ),
        Err(e) => return Outcome::fail(1, e),
    };
    let now = SystemClock.now();
    let number = BadgeNumber::random(&mut os_rng());
    let content = BadgeContent {
        given_name: SAMPLE_GIVEN.into(),
        family_name: SAMPLE_FAMILY.into(),
        user_id: "00000-00000".into(),
        payload: badge::payload(&number, &keys.badge_mac(&number.mac_input())),
        site: config.site.name.clone(),
        detail: format!("Sample badge · {}", profile.name),
        issued: now.date().to_string(),
        serial: 1,
        language: "en".into(),
    };
    let footer = vec![
        "sitegate print test".to_string(),
        format!("profile: {} ({})", profile.id, profile.name),
        "text: Zofia Łukasiewicz-Wróbel · Алексей Смирнов · Ελένη".to_string(),
    ];
    let built = match printing.build(&profile, &content, &footer) {
        Ok(b) => b,
        Err(e) => return Outcome::fail(1, e),
    };
    let job = Delivery {
        name: format!("print-test-{}", new_job_id(now)),
        bytes: &built.bytes,
        png: &built.png,
        meta: serde_json::json!({ "print_test": true, "profile": profile.id, "payload": content.payload }),
    };
    match transport::deliver(&url, &profile, &job, printing.timeouts).await {
        Ok(status) => Outcome::ok(format!(
            "sample badge delivered to {url} (profile {}, {} bytes); printer status: {}; signed with {which}\n",
            profile.id,
            built.bytes.len(),
            serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        )),
        Err(e) => Outcome::fail(1, format!("printing to {url} failed: {e}")),
    }
}
