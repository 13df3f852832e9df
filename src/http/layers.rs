//! Cross-cutting layers: who may call what, browser request rules, security headers, spans, limits, panics.

use std::any::Any;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::error::ApiError;
use super::extract::{ListenerKind, is_json, session_token};
use crate::domain::staff::Role;

/// Who may call the routes of an area. There is no default: every area names one.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, signed in or not (health, sign-in, the API document).
    Public,
    /// Signed-in users holding one of these roles.
    Roles(&'static [Role]),
    /// An approved device, by its device token (`Authorization: Bearer`).
    Device,
    /// A headset session, on the approved device it is bound to: the device token as bearer
    /// and the session token in `X-Sitegate-Session`.
    HeadsetSession,
}

/// Put a set of routes behind an access rule.
pub fn area(state: &AppState, access: Access, routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    match access {
        Access::Public => routes,
        Access::Roles(roles) => routes.route_layer(middleware::from_fn_with_state(
            (state.clone(), roles),
            require_roles,
        )),
        Access::Device => routes.route_layer(middleware::from_fn_with_state(
            (state.clone(), false),
            super::headset::require_device,
        )),
        Access::HeadsetSession => routes.route_layer(middleware::from_fn_with_state(
            (state.clone(), true),
            super::headset::require_device,
        )),
    }
}

fn state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn require_roles(
    State((state, roles)): State<(AppState, &'static [Role])>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some((token, from_cookie)) = session_token(req.headers()) else {
        return ApiError::unauthenticated().into_response();
    };
    if from_cookie && state_changing(req.method()) && !req.headers().contains_key(header::ORIGIN) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_mismatch",
            "a browser request must carry the gateway's Origin",
        )
        .into_response();
    }
    let principal = match state.services.authenticate(&token).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if !roles.contains(&principal.role) {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs one of the roles: {}", names.join(", ")),
        )
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Browser rules for state-changing requests: a JSON content type, and an `Origin` (when sent) equal to ours.
pub async fn browser_rules(req: Request, next: Next) -> Response {
    if state_changing(req.method()) && req.uri().path().starts_with("/api/") {
        if !is_json(req.headers()) {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "state-changing requests need Content-Type: application/json",
            )
            .into_response();
        }
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let listener = req
                .extensions()
                .get::<ListenerKind>()
                .copied()
                .unwrap_or(ListenerKind::Tls);
            let scheme = if listener == ListenerKind::Tls {
                "https"
            } else {
                "http"
            };
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .or(req.uri().authority().map(|a| a.as_str()));
            let ok = host.is_some_and(|h| origin.to_str().ok() == Some(format!("{scheme}://{h}").as_str()));
            if !ok {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "origin_mismatch",
                    "the request's Origin is not this gateway",
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// Security headers on every answer.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let tls = req.extensions().get::<ListenerKind>().copied() != Some(ListenerKind::Kiosk);
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // A page that set its own (stricter) policy keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        );
    }
    if tls {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A panic inside a handler becomes a logged 500 problem, and the connection lives on.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic)");
    tracing::error!(panic = msg, "handler panicked");
    ApiError::internal().into_response()
}

/// Map errors of the timeout layer to problem+json.
pub async fn timeout_error(err: BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the gateway took too long to answer; try again",
        )
        .into_response()
    } else {
        tracing::error!(error = %err, "middleware error");
        ApiError::internal().into_response()
    }
}

/// Wrap a router in the layers every listener shares.
pub fn wrap(
    router: Router,
    listener: ListenerKind,
    body_limit: usize,
    timeout: Duration,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> Router {
    use axum::error_handling::HandleErrorLayer;
    use tower::ServiceBuilder;
    use tower_http::catch_panic::CatchPanicLayer;
    use tower_http::trace::TraceLayer;

    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id = %uuid::Uuid::now_v7())
        })
        .on_request(())
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG));
    router.layer(
        ServiceBuilder::new()
            .layer(axum::Extension(listener))
            // Outside the timeout and the panic catcher, so their answers are counted too.
            .layer(middleware::from_fn_with_state(metrics, super::metrics::track))
            .layer(trace)
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(HandleErrorLayer::new(timeout_error))
            .timeout(timeout)
            .layer(axum::extract::DefaultBodyLimit::max(body_limit))
            .layer(middleware::from_fn(security_headers))
            .layer(middleware::from_fn(browser_rules)),
    )
}
