//! How access links print on the technician's console: one line per link, or a link with its usage.

use std::fmt::Write;

use crate::domain::link::AccessLink;
use crate::service::admin::AdminResponse;
use crate::service::links::LinkDetail;

fn date(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn url(link: &AccessLink, base: Option<&str>) -> String {
    match base {
        Some(b) => format!("{b}/enroll/{}", link.token),
        None => format!(
            "none: {} (link token {})",
            crate::discovery::setup::NO_PHONE_URL,
            link.token
        ),
    }
}

fn state(link: &AccessLink) -> String {
    // Expiry needs a clock; the console shows the stored flags and the expiry date instead.
    let mut s = if link.active { "active" } else { "deactivated" }.to_string();
    if link.is_full() {
        s.push_str(",full");
    }
    s
}

fn line(link: &AccessLink) -> String {
    let cap = link.cap.map_or("-".to_string(), |c| c.to_string());
    format!(
        "{}  {:<16} {:>6}/{:<6} {:<6} {}",
        link.id,
        state(link),
        link.used,
        cap,
        if link.pinned { "pinned" } else { "" },
        link.name
    )
}

fn detail(s: &mut String, d: &LinkDetail, base: Option<&str>) {
    let l = &d.link;
    let _ = writeln!(s, "ID:          {}", l.id);
    let _ = writeln!(s, "Name:        {}", l.name);
    let _ = writeln!(
        s,
        "Description: {}",
        if l.description.is_empty() {
            "-"
        } else {
            &l.description
        }
    );
    let _ = writeln!(s, "URL:         {}", url(l, base));
    let _ = writeln!(s, "State:       {}", state(l));
    let _ = writeln!(s, "Expires:     {}", l.expires_at.map_or("never".into(), date));
    let _ = writeln!(
        s,
        "Used:        {} of {}",
        l.used,
        l.cap.map_or("no cap".into(), |c| c.to_string())
    );
    let _ = writeln!(
        s,
        "Kiosk:       {}",
        if l.pinned { "pinned" } else { "not pinned" }
    );
    let units: Vec<String> = d
        .units
        .iter()
        .map(|u| format!("{} {}", u.kind.as_str(), u.name))
        .collect();
    let _ = writeln!(
        s,
        "Allocates:   {}",
        if units.is_empty() {
            "-".into()
        } else {
            units.join(", ")
        }
    );
}

/// Render a link answer as text.
pub fn render(resp: &AdminResponse) -> String {
    let mut s = String::new();
    match resp {
        AdminResponse::Link { link, base_url } => detail(&mut s, link, base_url.as_deref()),
        AdminResponse::Links { links, .. } => {
            let _ = writeln!(
                s,
                "{:<36}  {:<16} {:>13} {:<6} NAME",
                "ID", "STATE", "USED/CAP", "KIOSK"
            );
            for d in links {
                let _ = writeln!(s, "{}", line(&d.link));
            }
            let _ = writeln!(s, "({} links)", links.len());
        }
        AdminResponse::LinkReport {
            link,
            usage,
            base_url,
        } => {
            detail(&mut s, link, base_url.as_deref());
            let _ = writeln!(s, "Usage ({} users):", usage.rows.len());
            for r in &usage.rows {
                let name = r.user.as_ref().map_or("(no record)".into(), |u| u.name.full());
                let how = if r.entry.existing_user { "existing" } else { "new" };
                let units: Vec<&str> = r.entry.allocated.iter().map(|u| u.name.as_str()).collect();
                let _ = writeln!(
                    s,
                    "  {}  {:<12} {:<8} {}  [{}]",
                    date(r.entry.at),
                    r.entry.user_id.to_string(),
                    how,
                    name,
                    units.join(", ")
                );
            }
        }
        _ => {}
    }
    s
}
