//! CSV for spreadsheets (RFC 4180, UTF-8 with a BOM, formulas defused, times in site time to the second) and the HTTP answer that carries it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

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

/// How a spreadsheet reads a date-time typed into a cell (LibreOffice, Excel, Google Sheets).
const CELL_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Times in a CSV: site time (`classroom.utc_offset`) to the second, as `2026-12-03 09:14:05`, which
/// spreadsheets take for a date-time. The cell has no room for the offset, so the column's
/// header names it: `Checked in at (UTC+01:00)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SiteTime(UtcOffset);

impl SiteTime {
    pub(crate) fn new(offset: UtcOffset) -> SiteTime {
        SiteTime(offset)
    }

    /// A time column's header: `label (UTC±HH:MM)`.
    pub(crate) fn header(self, label: &str) -> String {
        let (h, m, _) = self.0.as_hms();
        let sign = if self.0.is_negative() { '-' } else { '+' };
        format!(
            "{label} (UTC{sign}{:02}:{:02})",
            h.unsigned_abs(),
            m.unsigned_abs()
        )
    }

    /// A time's cell; empty for none.
    pub(crate) fn cell(self, t: Option<OffsetDateTime>) -> String {
        t.and_then(|t| t.to_offset(self.0).format(CELL_TIME).ok())
            .unwrap_or_default()
    }
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

    #[test]
    fn times_are_site_time_to_the_second() {
        use time::macros::{datetime, offset};
        let t = datetime!(2026-12-03 08:14:05.123456789 UTC);
        let plus = SiteTime::new(offset!(+1));
        assert_eq!(plus.cell(Some(t)), "2026-12-03 09:14:05");
        assert_eq!(plus.header("Checked in at"), "Checked in at (UTC+01:00)");
        let minus = SiteTime::new(offset!(-3:30));
        assert_eq!(minus.cell(Some(t)), "2026-12-03 04:44:05");
        assert_eq!(minus.header("At"), "At (UTC-03:30)");
        assert_eq!(SiteTime::new(UtcOffset::UTC).header("At"), "At (UTC+00:00)");
        assert_eq!(plus.cell(None), "");
    }
}
