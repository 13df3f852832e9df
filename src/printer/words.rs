//! The badge's own words (role names, the "issued … · badge …" line) in the kiosk's four languages,
//! picked by the holder's preferred language; English for any other.

use crate::domain::staff::Role;

fn lang(code: &str) -> &str {
    // "pt-BR" reads as "pt"; anything else not offered falls back to English.
    let base = code.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    match base.as_str() {
        "es" => "es",
        "pt" => "pt",
        "pl" => "pl",
        _ => "en",
    }
}

/// The role as printed on a badge.
pub fn role_name(language: &str, role: Role) -> &'static str {
    match (lang(language), role) {
        ("es", Role::Trainee) => "Participante",
        ("es", Role::Instructor) => "Instructor",
        ("es", Role::Manager) => "Responsable",
        ("es", Role::Admin) => "Administrador",
        ("pt", Role::Trainee) => "Formando",
        ("pt", Role::Instructor) => "Formador",
        ("pt", Role::Manager) => "Gestor",
        ("pt", Role::Admin) => "Administrador",
        ("pl", Role::Trainee) => "Kursant",
        ("pl", Role::Instructor) => "Instruktor",
        ("pl", Role::Manager) => "Kierownik",
        ("pl", Role::Admin) => "Administrator",
        (_, Role::Trainee) => "Trainee",
        (_, Role::Instructor) => "Instructor",
        (_, Role::Manager) => "Manager",
        (_, Role::Admin) => "Admin",
    }
}

/// The last line: issue date (ISO, the same everywhere) and the badge's serial.
pub fn issued_line(language: &str, issued: &str, serial: u32) -> String {
    match lang(language) {
        "es" => format!("Emitida {issued} · credencial {serial}"),
        "pt" => format!("Emitido {issued} · crachá {serial}"),
        "pl" => format!("Wydano {issued} · identyfikator {serial}"),
        _ => format!("Issued {issued} · badge {serial}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kiosk_language_has_its_words_and_others_read_english() {
        assert_eq!(role_name("pl", Role::Trainee), "Kursant");
        assert_eq!(role_name("pt-BR", Role::Instructor), "Formador");
        assert_eq!(role_name("de", Role::Manager), "Manager");
        assert_eq!(
            issued_line("es", "2026-11-25", 2),
            "Emitida 2026-11-25 · credencial 2"
        );
        assert_eq!(issued_line("", "2026-11-25", 1), "Issued 2026-11-25 · badge 1");
    }
}
