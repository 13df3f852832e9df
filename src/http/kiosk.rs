//! The kiosk UI's static files: the app's one page at `/` and `/enroll/{token}`, its assets under
//! `/ui/`, from the copy built into the binary or, in development, from a folder on disk.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;

/// `kiosk-ui/`, read at compile time (always embedded, in debug builds too, so that a debug and a
/// release binary serve the same thing; `kiosk.ui_dir` is the explicit way to serve from disk).
#[derive(RustEmbed)]
#[folder = "kiosk-ui/"]
#[exclude = "README.md"]
#[exclude = "package.json"]
struct Embedded;

/// Where the kiosk UI's files come from.
#[derive(Debug, Clone, Default)]
pub enum UiSource {
    /// The copy built into the binary.
    #[default]
    Embedded,
    /// A folder read on every request (config `kiosk.ui_dir`, for development).
    Disk(PathBuf),
}

impl UiSource {
    pub fn from_config(ui_dir: Option<&Path>) -> UiSource {
        match ui_dir {
            Some(dir) => UiSource::Disk(dir.to_path_buf()),
            None => UiSource::Embedded,
        }
    }

    /// The bytes of `rel` (a checked relative path) and its ETag, or `None` when there is no such file.
    async fn load(&self, rel: &str) -> Option<(Cow<'static, [u8]>, String)> {
        match self {
            UiSource::Embedded => {
                let file = Embedded::get(rel)?;
                let etag = etag_of(&file.metadata.sha256_hash());
                Some((file.data, etag))
            }
            UiSource::Disk(dir) => {
                let bytes = match tokio::fs::read(dir.join(rel)).await {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            tracing::warn!(error = %e, file = rel, "kiosk UI file unreadable");
                        }
                        return None;
                    }
                };
                let etag = etag_of(&Sha256::digest(&bytes).into());
                Some((Cow::Owned(bytes), etag))
            }
        }
    }
}

/// The routes of the kiosk UI: public, outside `/api`, not part of the OpenAPI document.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(start_page))
        .route("/enroll/{token}", get(enroll_page))
        .route("/ui/{*path}", get(asset))
}

const PAGE: &str = "index.html";

async fn start_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state.kiosk_ui, PAGE, &headers).await
}

/// The same page: the app reads the link's token from the address (phones open this from a QR).
async fn enroll_page(
    State(state): State<AppState>,
    UrlPath(_token): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state.kiosk_ui, PAGE, &headers).await
}

async fn asset(
    State(state): State<AppState>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if !is_safe_path(&path) {
        return not_found();
    }
    serve(&state.kiosk_ui, &path, &headers).await
}

/// Only plain relative paths: segments of letters, digits, `.`, `_` and `-`, none starting with a
/// dot (no `..`, no hidden files), so a folder on disk cannot be escaped.
fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

async fn serve(source: &UiSource, rel: &str, headers: &HeaderMap) -> Response {
    let Some((body, etag)) = source.load(rel).await else {
        return not_found();
    };
    let mut res = if matches_etag(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = body.into_owned().into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(rel)));
        res
    };
    let h = res.headers_mut();
    // Files keep their names across releases, so the browser revalidates every time; an
    // unchanged file costs a 304 on the loopback, and an upgrade shows at the next load.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

fn etag_of(hash: &[u8; 32]) -> String {
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// Content types of the files the UI ships; anything else is opaque bytes.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page or file").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_pass() {
        for ok in ["app.js", "js/screens/start.js", "i18n/pt.json", "kiosk.css"] {
            assert!(is_safe_path(ok), "{ok}");
        }
        for bad in [
            "",
            "../Cargo.toml",
            "js/../../etc/passwd",
            ".hidden",
            "js//a.js",
            "/etc/passwd",
            "a\\b.js",
            "js/%2e%2e/x",
        ] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }

    #[test]
    fn the_embedded_copy_holds_the_page_and_catalogues() {
        assert!(Embedded::get(PAGE).is_some());
        assert!(Embedded::get("i18n/en.json").is_some());
        assert!(Embedded::get("README.md").is_none());
    }
}
