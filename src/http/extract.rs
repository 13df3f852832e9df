//! Request extractors: JSON bodies with problem+json rejections, and who is calling from where.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::staff::ScreenKind;

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// HTTPS on the LAN.
    Tls,
    /// Plain HTTP on loopback, for the kiosk browser on the box.
    Kiosk,
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sitegate_session";

/// A JSON body. Wrong content type, malformed JSON, unknown or missing fields and oversize bodies
/// all answer problem+json, naming the field when there is one.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    "the request body could not be read",
                )
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(value) => Ok(ApiJson(value)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                let (status, code) = if inner.is_syntax() || inner.is_eof() {
                    (StatusCode::BAD_REQUEST, "malformed_json")
                } else {
                    (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
                };
                let message = inner.to_string();
                let detail = if path == "." {
                    message.clone()
                } else {
                    format!("{path}: {message}")
                };
                let mut e = ApiError::new(status, code, detail);
                let field = if path == "." {
                    named_field(&message)
                } else {
                    Some(path)
                };
                if let Some(field) = field {
                    e = e.with_field(field);
                }
                Err(e)
            }
        }
    }
}

/// The field serde names in "missing field `x`" / "unknown field `x`", for the problem's `field`.
fn named_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next().map(str::to_string)
}

/// Whether the request declares a JSON body.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Where a request came from: listener, peer address, and whether a browser sent it.
#[derive(Debug, Clone)]
pub struct Client {
    pub listener: ListenerKind,
    pub peer: Option<SocketAddr>,
    /// A browser sends `Origin` on every state-changing fetch; scripts and headsets do not.
    pub browser: bool,
}

impl Client {
    /// The kind of screen a new session from this client lives on.
    pub fn screen(&self) -> ScreenKind {
        match (self.listener, self.browser) {
            (ListenerKind::Kiosk, _) => ScreenKind::Kiosk,
            (ListenerKind::Tls, true) => ScreenKind::Laptop,
            (ListenerKind::Tls, false) => ScreenKind::Api,
        }
    }

    pub fn source(&self) -> Option<String> {
        Some(match (self.listener, self.peer) {
            (ListenerKind::Kiosk, _) => "kiosk".to_string(),
            (ListenerKind::Tls, Some(p)) => p.ip().to_string(),
            (ListenerKind::Tls, None) => return None,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let listener = parts
            .extensions
            .get::<ListenerKind>()
            .copied()
            .unwrap_or(ListenerKind::Tls);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let browser = parts.headers.contains_key(header::ORIGIN);
        Ok(Client {
            listener,
            peer,
            browser,
        })
    }
}

/// The session token a request carries: a bearer token, else the session cookie.
pub fn session_token(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = auth.split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            return Some((token.trim().to_string(), false));
        }
        return None;
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| (value.to_string(), true))
}
