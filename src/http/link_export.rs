//! A link's usage as CSV for spreadsheets, and its printable poster (HTML with an inline SVG QR, no outside resources).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::AppState;
use super::csv::{BOM, SiteTime, csv_response, row};
use super::error::{ApiError, ApiResult, Problem};
use super::links::{BaseUrl, link_id};
use crate::discovery::setup::NO_PHONE_URL;
use crate::domain::org::UnitKind;
use crate::service::links::LinkUsage;

/// The usage table as CSV: a header row, then one row per user, in the order they came; times in
/// site time.
pub(crate) fn usage_to_csv(usage: &LinkUsage, times: SiteTime) -> String {
    let mut out = String::from(BOM);
    out.push_str(&row(&[
        "User ID",
        "Given name",
        "Family name",
        "Employer",
        &times.header("Enrolled at"),
        "Existing user",
        "Groups",
        "Sites",
        "Regions",
    ]));
    for r in &usage.rows {
        let (given, family, employer) = match &r.user {
            Some(u) => (
                u.name.given.as_str(),
                u.name.family.as_str(),
                u.employer.as_deref().unwrap_or(""),
            ),
            None => ("", "", ""),
        };
        let names = |kind: UnitKind| {
            r.entry
                .allocated
                .iter()
                .filter(|u| u.kind == kind)
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&row(&[
            &r.entry.user_id.to_string(),
            given,
            family,
            employer,
            &times.cell(Some(r.entry.at)),
            if r.entry.existing_user { "yes" } else { "no" },
            &names(UnitKind::Group),
            &names(UnitKind::Site),
            &names(UnitKind::Region),
        ]));
    }
    out
}

/// A link's usage as CSV (UTF-8 with BOM, RFC 4180), ready for a spreadsheet: times in site time to
/// the second (`2026-12-03 09:14:05`), the offset in the column's header.
#[utoipa::path(get, path = "/api/links/{id}/usage.csv", tag = "links",
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv", body = String),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
pub(super) async fn usage_csv(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = link_id(&id)?;
    let usage = state.services.link_usage(id).await?;
    let times = SiteTime::new(state.services.site_offset());
    csv_response(&format!("link-usage-{id}.csv"), usage_to_csv(&usage, times))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The QR of `text` as an inline SVG element (one unit per module, a 4-module quiet zone).
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let svg = code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .build();
    // Inline in HTML the XML declaration has no place.
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen("<svg ", "<svg role=\"img\" aria-label=\"QR code\" ", 1))
}

const POSTER_CSS: &str = "@page{size:A4 portrait;margin:15mm}\
*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;color:#000;background:#fff;text-align:center}\
main{max-width:180mm;margin:0 auto;padding:10mm 0}\
.site{font-size:14pt;letter-spacing:.05em;text-transform:uppercase;margin:0 0 4mm}\
h1{font-size:30pt;line-height:1.15;margin:0 0 5mm;overflow-wrap:anywhere}\
.description{font-size:16pt;margin:0 0 8mm;overflow-wrap:anywhere}\
.qr svg{width:110mm;height:110mm;display:block;margin:0 auto}\
.scan{font-size:15pt;margin:6mm 0 2mm}.scan span{white-space:nowrap}\
.url{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:11pt;overflow-wrap:anywhere;margin:0}\
@media print{main{padding:0}}";

/// The poster's HTML page.
pub fn poster_html(site: &str, name: &str, description: &str, url: &str, svg: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{css}</style></head>\
<body><main>\
<p class=\"site\">{site}</p>\
<h1>{title}</h1>\
<p class=\"description\">{description}</p>\
<div class=\"qr\">{svg}</div>\
<p class=\"scan\"><span>Scan to enroll</span> · <span>Escanee para inscribirse</span> · <span>Leia para se inscrever</span> · <span>Zeskanuj, aby się zapisać</span></p>\
<p class=\"url\">{url}</p>\
</main></body></html>\n",
        title = escape_html(name),
        css = POSTER_CSS,
        site = escape_html(site),
        description = escape_html(description),
        svg = svg,
        url = escape_html(url),
    )
}

/// The content security policy of the poster: nothing may load from anywhere; only its own style runs.
fn poster_csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(POSTER_CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
}

/// A printable poster for the link: its name, description, URL and QR. Refused with
/// `no_public_url` when the gateway knows no address a phone on the site LAN can open.
#[utoipa::path(get, path = "/api/links/{id}/poster", tag = "links",
    params(("id" = String, Path, format = Uuid, description = "Link ID")), responses(
    (status = 200, description = "A printable HTML page", content_type = "text/html", body = String),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "No address a phone on the site LAN can open is known (`no_public_url`)", body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
pub(super) async fn poster(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let d = state.services.link_detail(link_id(&id)?).await?;
    let url = base
        .link(&d.link.token)
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "no_public_url", NO_PHONE_URL))?;
    let svg = qr_svg(&url).ok_or_else(ApiError::internal)?;
    let html = poster_html(
        &state.services.settings.site_name,
        &d.link.name,
        &d.link.description,
        &url,
        &svg,
    );
    let csp = HeaderValue::from_str(&poster_csp()).map_err(|_| ApiError::internal())?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        html,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poster_escapes_text_and_its_csp_allows_its_own_style() {
        let html = poster_html(
            "Site <A>",
            "Induction & \"more\"",
            "x",
            "https://g/enroll/t",
            "<svg></svg>",
        );
        assert!(html.contains("Induction &amp; &quot;more&quot;"));
        assert!(html.contains("Site &lt;A&gt;"));
        assert!(!html.contains("<script"));
        assert!(poster_csp().contains("style-src 'sha256-"));
        let svg = qr_svg("https://gateway.example:8443/enroll/abc").unwrap();
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(svg.ends_with("</svg>"));
    }
}
