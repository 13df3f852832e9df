//! `GET /metrics` (Prometheus, on the loopback kiosk listener only, no sign-in) and the layer that
//! counts and times every request by its route template and status.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::ApiResult;
use super::extract::ListenerKind;
use crate::metrics::{CONTENT_TYPE, Metrics, RequestLabels};

/// The route label of a request that matched no route (404s, probes of random paths): one
/// series for all of them, so scanning the gateway cannot make a series per path.
pub const UNMATCHED: &str = "unmatched";

/// Where the inner layer leaves the matched route's template for the outer one. Set before the
/// handler runs, so a request cut off by the timeout or a panic still has its route.
#[derive(Debug, Clone, Default)]
struct RouteSlot(Arc<OnceLock<String>>);

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text = state.services.metrics_text().await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// Inner layer (a route layer, where axum knows the matched route): note the template.
pub async fn tag_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        req.extensions().get::<RouteSlot>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.as_str().to_owned());
    }
    next.run(req).await
}

/// Outer layer: time the request to its response head and count it.
pub async fn track(State(metrics): State<Arc<Metrics>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let listener = match req.extensions().get::<ListenerKind>() {
        Some(ListenerKind::Kiosk) => "kiosk",
        _ => "https",
    };
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let res = next.run(req).await;
    let route = slot.0.get().cloned().unwrap_or_else(|| UNMATCHED.to_owned());
    metrics.observe_request(
        RequestLabels {
            listener,
            method,
            route,
            status: res.status().as_u16(),
        },
        started.elapsed().as_secs_f64(),
    );
    res
}
