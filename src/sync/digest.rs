//! Counts and checksums of synced data per kind, computed the same way on both sides, so tests (and staff) can tell that a gateway holds what the central system holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How many records of one kind, and a SHA-256 over them (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KindDigest {
    pub count: u64,
    pub sha256: String,
}

/// Digest records given as (ID, wire record JSON): sorted by ID, each record's JSON written with
/// its object keys sorted, so key order and input order do not matter.
pub fn kind_digest(records: impl IntoIterator<Item = (String, serde_json::Value)>) -> KindDigest {
    let sorted: BTreeMap<String, serde_json::Value> = records.into_iter().collect();
    let mut hash = Sha256::new();
    for (id, record) in &sorted {
        hash.update(id.as_bytes());
        hash.update(b"\n");
        hash.update(canonical(record).as_bytes());
        hash.update(b"\n");
    }
    KindDigest {
        count: sorted.len() as u64,
        sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// JSON text with every object's keys in sorted order.
pub fn canonical(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<&String, &serde_json::Value> = map.iter().collect();
            let parts: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_records_and_keys_does_not_change_the_digest() {
        let a = kind_digest([
            (
                "1".to_string(),
                serde_json::json!({"a": 1, "b": [1, {"y": 2, "x": 1}]}),
            ),
            ("2".to_string(), serde_json::json!({"name": "Å"})),
        ]);
        let b = kind_digest([
            ("2".to_string(), serde_json::json!({"name": "Å"})),
            (
                "1".to_string(),
                serde_json::json!({"b": [1, {"x": 1, "y": 2}], "a": 1}),
            ),
        ]);
        assert_eq!(a, b);
        assert_eq!(a.count, 2);
        let c = kind_digest([("1".to_string(), serde_json::json!({"a": 2}))]);
        assert_ne!(a.sha256, c.sha256);
    }
}
