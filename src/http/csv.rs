//! CSV for spreadsheets (RFC 4180, UTF-8 with a BOM, formulas defused) and the HTTP answer that carries it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult};

/// A UTF-8 byte order mark: spreadsheet programs then read the file as UTF-8, so names in any script survive.
pub(crate) const BOM: &str = "\u{feff}";

/// One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
/// `@`, tab or carriage return) gets a leading `'`, so it shows as text.
pub(crate) fn cell(value: &str) -> String {
    let guarded = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

pub(crate) fn row(cells: &[&str]) -> String {
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// A CSV download named `name`.
pub(crate) fn csv_response(name: &str, body: String) -> ApiResult<Response> {
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| ApiError::internal())?,
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_quote_and_defuse_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("O'Brien"), "O'Brien");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+48"), "'+48");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(row(&["a", "b"]), "a,b\r\n");
    }
}
