//! `sitegate config check FILE`: the file alone, validated, then everything `serve` would refuse at start from it: TLS files, and the printing section (profiles, profiles_dir, font_file, logo_file, printer URLs). One line and exit 2 on the first problem; a note when names in some scripts will not print.

use std::path::Path;

use super::Outcome;
use crate::config::{self, Config};
use crate::printer::Printing;

/// What the technician is told when no `printing.font_file` is set.
pub const NO_FONT_NOTE: &str = "note: printing.font_file is not set: names in scripts DejaVu Sans lacks (Chinese, Japanese, Korean, Thai, Devanagari and others) will not print on badges or the on-site list (they print as empty boxes); set it to a font that has them, e.g. /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

pub fn run(file: &Path) -> Outcome {
    let c = match config::check_file(file) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(2, e),
    };
    if let Err(e) = check_tls(&c) {
        return Outcome::fail(2, format!("{}: {e}", file.display()));
    }
    // The same loading `serve` does at start, so a setup this passes starts.
    if let Err(e) = Printing::from_config(&c) {
        return Outcome::fail(2, format!("{}: {e}", file.display()));
    }
    let mut out = format!("{}: ok\n", file.display());
    if c.printing.font_file.is_none() {
        out.push_str(NO_FONT_NOTE);
        out.push('\n');
    }
    Outcome::ok(out)
}

fn check_tls(c: &Config) -> Result<(), crate::http::tls::TlsError> {
    if let (Some(cert), Some(key)) = (&c.server.tls_cert_file, &c.server.tls_key_file) {
        crate::http::tls::install_crypto_provider();
        crate::http::tls::load_or_create(Some(cert), Some(key), &c.state_dir(), &[])?;
    }
    Ok(())
}
