//! A test that cannot run on this machine says so where `scripts/test` looks: a green run must
//! not hide a check that did not run.

/// Note that `test` (its file, e.g. `tests/emupos.rs`) was skipped and why: on stderr, and as a
/// file in `$SKIPPED_CHECKS_DIR` when that is set (scripts/test sets it and lists the files).
pub fn skipped(test: &str, reason: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{test}: skipped: {reason}");
    }
    if let Some(dir) = std::env::var_os("SKIPPED_CHECKS_DIR") {
        let name: String = test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
        if let Err(e) = std::fs::write(&path, format!("{test}: {reason}\n")) {
            panic!("cannot note the skip in {}: {e}", path.display());
        }
    }
}
