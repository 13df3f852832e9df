//! How technician answers print: short, aligned text a person reads on the box's console.

use std::fmt::Write;

use crate::domain::training::AssignmentTarget;
use crate::domain::user::User;
use crate::service::admin::AdminResponse;

fn date(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn user_line(u: &User) -> String {
    format!(
        "{:<12} {:<10} {:<12} {:<11} {}",
        u.id.to_string(),
        u.role.as_str(),
        u.access_level.as_str(),
        u.status.as_str(),
        u.name.full()
    )
}

fn device_line(d: &crate::domain::device::Device) -> String {
    format!(
        "{:<36} {:<8} {:<9} {:<7} {:<20} {}{}",
        d.id,
        d.kind.as_str(),
        crate::domain::device::state_str(d.state),
        d.comparison_code,
        d.name,
        d.model,
        d.room.as_ref().map(|r| format!(" / {r}")).unwrap_or_default()
    )
}

/// Render an answer as text.
pub fn render(resp: &AdminResponse) -> String {
    let mut s = String::new();
    match resp {
        AdminResponse::Bootstrap(b) => {
            if b.reissued {
                let _ = writeln!(
                    s,
                    "An admin already exists: {} ({}), who has not exchanged a bootstrap code yet.",
                    b.user.id,
                    b.user.name.full()
                );
                let unused = b
                    .unused_name
                    .as_ref()
                    .map(|n| format!(" (the name given, {n}, was not used)"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "No admin was created{unused}: this issued a new code for {}; the earlier code no longer works.",
                    b.user.id
                );
            } else {
                let _ = writeln!(s, "Created admin {} ({})", b.user.id, b.user.name.full());
            }
            let _ = writeln!(s, "One-time bootstrap code: {}", b.code);
            let _ = writeln!(
                s,
                "It works once, until {}. Exchange it for your PIN:",
                date(b.expires_at)
            );
            let _ = writeln!(
                s,
                "  POST /api/auth/bootstrap {{\"user_id\": \"{}\", \"code\": \"{}\"}}",
                b.user.id, b.code
            );
        }
        AdminResponse::User { user } => {
            let _ = writeln!(s, "{}", user_line(user));
        }
        AdminResponse::Users { users } => {
            let _ = writeln!(
                s,
                "{:<12} {:<10} {:<12} {:<11} NAME",
                "ID", "ROLE", "ACCESS", "STATUS"
            );
            for u in users {
                let _ = writeln!(s, "{}", user_line(u));
            }
            let _ = writeln!(s, "({} users)", users.len());
        }
        AdminResponse::Profile(p) => {
            let u = &p.user;
            let _ = writeln!(s, "ID:        {}", u.id);
            let _ = writeln!(s, "Name:      {}", u.name.full());
            let _ = writeln!(s, "Email:     {}", u.email.as_ref().map_or("-", |e| e.as_str()));
            let _ = writeln!(s, "Phone:     {}", u.phone.as_ref().map_or("-", |p| p.as_str()));
            let _ = writeln!(s, "Employer:  {}", u.employer.as_deref().unwrap_or("-"));
            let _ = writeln!(s, "Language:  {}", u.language.as_str());
            let _ = writeln!(s, "Role:      {}", u.role.as_str());
            let _ = writeln!(s, "Access:    {}", u.access_level.as_str());
            let _ = writeln!(s, "Status:    {}", u.status.as_str());
            let units: Vec<String> = p
                .units
                .iter()
                .map(|x| format!("{} {}", x.kind.as_str(), x.name))
                .collect();
            let _ = writeln!(
                s,
                "Units:     {}",
                if units.is_empty() {
                    "-".into()
                } else {
                    units.join(", ")
                }
            );
            let _ = writeln!(s, "Training:");
            if p.training.is_empty() {
                let _ = writeln!(s, "  (none assigned)");
            }
            for t in &p.training {
                let due = t.due_at.map(|d| format!(" due {}", date(d))).unwrap_or_default();
                let _ = writeln!(s, "  {:<10} {}{}", t.status.as_str(), t.module.title, due);
            }
            let _ = writeln!(s, "Activity (newest first):");
            for a in &p.activity {
                let kind = serde_json::to_value(&a.kind)
                    .ok()
                    .and_then(|v| v.get("kind").and_then(|k| k.as_str().map(String::from)))
                    .unwrap_or_default();
                let _ = writeln!(s, "  {}  {:<20} by {}", date(a.at), kind, a.actor);
            }
        }
        AdminResponse::Unit { unit } => {
            let _ = writeln!(s, "{} {} {}", unit.kind.as_str(), unit.id, unit.name);
        }
        AdminResponse::Units { units } => {
            for u in units {
                let _ = writeln!(s, "{:<7} {} {}", u.kind.as_str(), u.id, u.name);
            }
            let _ = writeln!(s, "({} units)", units.len());
        }
        AdminResponse::Module { module } => {
            let _ = writeln!(s, "module {} {}", module.id, module.title);
        }
        AdminResponse::Catalogue {
            modules,
            assignments,
            units,
        } => {
            let _ = writeln!(s, "Modules:");
            for m in modules {
                let valid = m
                    .valid_for_days
                    .map_or("no expiry".to_string(), |d| format!("valid {d} days"));
                let _ = writeln!(
                    s,
                    "  {} {} ({} min, {})",
                    m.id, m.title, m.duration_minutes, valid
                );
            }
            let _ = writeln!(s, "Assignments:");
            for a in assignments {
                let title = modules
                    .iter()
                    .find(|m| m.id == a.module_id)
                    .map_or("?", |m| m.title.as_str());
                let unit_name = |id: &uuid::Uuid| {
                    units
                        .iter()
                        .find(|u| &u.id == id)
                        .map_or(id.to_string(), |u| u.name.clone())
                };
                let target = match &a.target {
                    AssignmentTarget::Group(id) => format!("group {}", unit_name(id)),
                    AssignmentTarget::Site(id) => format!("site {}", unit_name(id)),
                    AssignmentTarget::Region(id) => format!("region {}", unit_name(id)),
                    AssignmentTarget::User(u) => format!("user {u}"),
                };
                let due = a.due_at.map(|d| format!(" due {}", date(d))).unwrap_or_default();
                let _ = writeln!(s, "  {title} -> {target}{due}");
            }
        }
        AdminResponse::Assignment { assignment, module } => {
            let _ = writeln!(s, "assigned {} ({})", module.title, assignment.id);
        }
        AdminResponse::Pin { user_id, pin } => {
            let _ = writeln!(s, "New VR PIN for {user_id}: {pin}");
            let _ = writeln!(s, "Shown this once; the old PIN no longer works.");
        }
        AdminResponse::Otp(o) => {
            let _ = writeln!(s, "One-time password for {}: {}", o.otp.user_id, o.code);
            let _ = writeln!(
                s,
                "Works once, until {} (id {} to revoke).",
                date(o.otp.expires_at),
                o.otp.id
            );
        }
        AdminResponse::Devices { devices } => {
            let _ = writeln!(
                s,
                "{:<36} {:<8} {:<9} {:<7} {:<20} MODEL / ROOM",
                "ID", "KIND", "STATE", "CODE", "NAME"
            );
            for d in devices {
                let _ = writeln!(s, "{}", device_line(d));
            }
            let _ = writeln!(s, "({} devices)", devices.len());
        }
        AdminResponse::Device { device } => {
            let _ = writeln!(s, "{}", device_line(device));
        }
        AdminResponse::Link { .. } | AdminResponse::Links { .. } | AdminResponse::LinkReport { .. } => {
            s.push_str(&super::render_links::render(resp));
        }
        AdminResponse::Listening { listening: Some(l) } => {
            let kiosk = l.kiosk.map_or("off".to_string(), |k| format!("http://{k}"));
            let _ = writeln!(s, "HTTPS: {}\nKiosk: {kiosk}", l.https);
        }
        AdminResponse::Listening { listening: None } => s.push_str("no gateway is running\n"),
        // `sitegate doctor` renders its own report.
        AdminResponse::Doctor(_) => s.push_str("(doctor facts)\n"),
        AdminResponse::Joined(_)
        | AdminResponse::Left(_)
        | AdminResponse::SyncStatus(_)
        | AdminResponse::SyncWoken { .. }
        | AdminResponse::DeadLetterRetried { .. }
        | AdminResponse::DeadLetterDiscarded { .. } => {
            s.push_str(&super::sync::render(resp, false, false).unwrap_or_default());
        }
    }
    s
}
