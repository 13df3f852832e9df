//! A small central data set for trying sync by hand (`sitegate-central --demo`): units, modules, an assignment, users with a PIN, a capped link and a class.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{TestCentral, TestCentralError};

impl TestCentral {
    /// Put the demo data set; returns how many records it wrote. Meant for a new state.
    pub fn seed_demo(&self) -> Result<usize, TestCentralError> {
        let now = super::fold::rfc3339(self.shared.now());
        let site = self.site_id().to_string();
        let (welders, north) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
        let (heights, fire) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
        let at = |hours: i64| {
            let t = self.shared.now() + time::Duration::hours(hours);
            super::fold::rfc3339(t.replace_nanosecond(0).unwrap_or(OffsetDateTime::UNIX_EPOCH))
        };
        let user = |given: &str, family: &str, role: &str| {
            json!({"given_name": given, "family_name": family, "role": role, "access_level": "full",
                   "status": "active", "groups": [welders], "sites": [site], "language": "en",
                   "created_at": now})
        };
        let records = [
            ("site", site.clone(), json!({"name": "Demo site"})),
            ("group", welders.clone(), json!({"name": "Welders"})),
            ("region", north.clone(), json!({"name": "North"})),
            (
                "module",
                heights.clone(),
                json!({"title": "Working at heights", "duration_minutes": 20, "valid_for_days": 365}),
            ),
            (
                "module",
                fire.clone(),
                json!({"title": "Fire safety", "duration_minutes": 15}),
            ),
            (
                "assignment",
                Uuid::now_v7().to_string(),
                json!({"module_id": heights, "target": {"kind": "group", "id": welders}, "created_at": now}),
            ),
            ("user", "C100000000001".into(), user("Ana", "Lima", "trainee")),
            (
                "user",
                "C100000000002".into(),
                user("Søren", "Ødegård", "instructor"),
            ),
            ("user", "C100000000003".into(), user("李", "华", "trainee")),
            (
                "link",
                Uuid::now_v7().to_string(),
                json!({"token": crate::keys::new_token(), "name": "Spring intake",
                "cap": 5, "allocation": {"groups": [welders]}, "active": true, "created_at": now}),
            ),
            (
                "class",
                Uuid::now_v7().to_string(),
                json!({"title": "Fire safety, morning", "module_ids": [fire],
                "site_id": site, "room": "Hall B", "starts_at": at(1), "ends_at": at(2),
                "instructors": ["C100000000002"], "expected": ["C100000000001", "C100000000003"], "state": "scheduled"}),
            ),
        ];
        let count = records.len();
        for (kind, id, record) in records {
            self.put(kind, &id, record)?;
        }
        self.set_credential("C100000000001", Some("482913"), None)?;
        Ok(count + 1)
    }
}
