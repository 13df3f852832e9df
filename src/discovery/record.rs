//! What the gateway announces: the service type, the instance and host names, and the TXT record
//! with its size limits (keys ≤ 9 characters, the whole record ≤ 200 bytes).

/// The DNS-SD service type.
pub const SERVICE_TYPE: &str = "_sitegate._tcp.local.";
/// The API's path, announced as `api`.
pub const API_PATH: &str = "/api";
/// The TXT record's version, announced as `txtvers`.
pub const TXT_VERSION: &str = "1";
/// Largest TXT record on the wire (each entry is a length byte + `key=value`).
pub const TXT_MAX_BYTES: usize = 200;
/// Longest instance name: a DNS label is 63 bytes, less room for mdns-sd's " (N)" on a conflict.
pub const INSTANCE_MAX_BYTES: usize = 57;
const ELLIPSIS: char = '…';

/// The facts the gateway announces about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertisement {
    pub site_name: String,
    pub gateway_id: String,
    /// Certificate fingerprint, unpadded base64url.
    pub fingerprint: String,
    /// The HTTPS listener's port.
    pub port: u16,
}

impl Advertisement {
    /// The instance name: the site's name, without control characters, shortened to fit a label.
    pub fn instance_name(&self) -> String {
        let clean: String = self
            .site_name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let clean = clean.trim();
        if clean.is_empty() {
            return "sitegate".to_owned();
        }
        shorten(clean, INSTANCE_MAX_BYTES)
    }

    /// The host name in the SRV record: `sitegate-<gateway id>.local.`, our own, so that it never
    /// fights the machine's own `<hostname>.local` (avahi) over addresses.
    pub fn host_name(&self) -> String {
        let mut label: String = self
            .gateway_id
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(63 - "sitegate-".len())
            .collect();
        label = label.trim_matches('-').to_owned();
        if label.is_empty() {
            "sitegate.local.".to_owned()
        } else {
            format!("sitegate-{label}.local.")
        }
    }

    /// The TXT entries in order: `txtvers`, `id`, `site`, `api`, `fp`. The site's name is
    /// shortened (ending in "…") so that the whole record stays within [`TXT_MAX_BYTES`]; an
    /// absurdly long gateway id is cut as a last resort.
    pub fn txt(&self) -> Vec<(&'static str, String)> {
        let fixed = [
            ("txtvers", TXT_VERSION.to_owned()),
            ("api", API_PATH.to_owned()),
            ("fp", self.fingerprint.clone()),
        ];
        let fixed_len: usize = fixed.iter().map(|(k, v)| entry_len(k, v)).sum();
        let empty_site = entry_len("site", "");
        let id_room = TXT_MAX_BYTES.saturating_sub(fixed_len + empty_site + entry_len("id", ""));
        let id = truncate_bytes(&self.gateway_id, id_room).to_owned();
        let site_room = TXT_MAX_BYTES.saturating_sub(fixed_len + entry_len("id", &id) + empty_site);
        let site = shorten(self.site_name.trim(), site_room);
        vec![
            fixed[0].clone(),
            ("id", id),
            ("site", site),
            fixed[1].clone(),
            fixed[2].clone(),
        ]
    }
}

/// Bytes a TXT entry takes on the wire.
pub fn entry_len(key: &str, value: &str) -> usize {
    1 + key.len() + 1 + value.len()
}

/// Bytes the whole TXT record takes on the wire.
pub fn txt_len(entries: &[(&str, String)]) -> usize {
    entries.iter().map(|(k, v)| entry_len(k, v)).sum()
}

/// `text` if it fits in `max` bytes, else its longest prefix (at a character boundary) that fits
/// with "…" after it.
fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let room = max.saturating_sub(ELLIPSIS.len_utf8());
    let cut = truncate_bytes(text, room).trim_end();
    if cut.is_empty() {
        truncate_bytes(text, max).to_owned()
    } else {
        format!("{cut}{ELLIPSIS}")
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends at a character boundary.
fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ad(site: &str) -> Advertisement {
        Advertisement {
            site_name: site.into(),
            gateway_id: "0190b9a4-7c1e-7d2a-9b1f-3c5e7a9d1f20".into(),
            fingerprint: "q".repeat(43),
            port: 8443,
        }
    }

    #[test]
    fn the_txt_record_carries_every_key_in_order_with_short_keys() {
        let txt = ad("Riverside plant").txt();
        let keys: Vec<&str> = txt.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec!["txtvers", "id", "site", "api", "fp"]);
        assert!(keys.iter().all(|k| k.len() <= 9));
        assert_eq!(txt[0].1, "1");
        assert_eq!(txt[2].1, "Riverside plant");
        assert_eq!(txt[3].1, "/api");
        assert!(txt_len(&txt) <= TXT_MAX_BYTES);
    }

    #[test]
    fn a_long_site_name_is_shortened_at_a_character_boundary_to_keep_the_txt_within_200_bytes() {
        let long =
            "Zakład produkcyjny — Ośrodek szkoleniowy BHP nr 7, hala północna, brama wschodnia i magazyn";
        let txt = ad(long).txt();
        assert!(txt_len(&txt) <= TXT_MAX_BYTES);
        let site = &txt[2].1;
        assert!(site.ends_with('…'), "{site}");
        assert!(long.starts_with(site.trim_end_matches('…')));
        // It uses the room there is: one more character would not fit.
        assert!(txt_len(&txt) > TXT_MAX_BYTES - 4, "{}", txt_len(&txt));
    }

    #[test]
    fn an_absurd_gateway_id_still_keeps_the_record_within_200_bytes() {
        let mut a = ad("Site");
        a.gateway_id = "x".repeat(400);
        assert!(txt_len(&a.txt()) <= TXT_MAX_BYTES);
    }

    #[test]
    fn the_instance_name_is_the_site_name_shortened_to_fit_a_dns_label() {
        assert_eq!(ad("Riverside plant").instance_name(), "Riverside plant");
        let name = ad(&"Ärztehaus Nord ".repeat(10)).instance_name();
        assert!(name.len() <= INSTANCE_MAX_BYTES && name.ends_with('…'), "{name}");
        assert_eq!(ad("  \t ").instance_name(), "sitegate");
        assert_eq!(ad("Gate\n2").instance_name(), "Gate 2");
    }

    #[test]
    fn the_host_name_is_derived_from_the_gateway_id() {
        assert_eq!(
            ad("x").host_name(),
            "sitegate-0190b9a4-7c1e-7d2a-9b1f-3c5e7a9d1f20.local."
        );
        let mut a = ad("x");
        a.gateway_id = "GW_01.Nord".into();
        assert_eq!(a.host_name(), "sitegate-gw01nord.local.");
        a.gateway_id = "___".into();
        assert_eq!(a.host_name(), "sitegate.local.");
    }
}
