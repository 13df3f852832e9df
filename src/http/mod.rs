//! HTTP: the router of the whole API, its state and layers. Areas live one per file; errors map in `error.rs`.

pub mod attendance;
pub mod auth;
pub mod badges;
pub mod class_roster;
pub mod classes;
pub mod credentials;
pub mod csv;
pub mod devices;
pub mod enroll;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod headset;
pub mod health;
pub mod kiosk;
pub mod layers;
pub mod link_export;
pub mod links;
pub mod metrics;
pub mod on_site_print;
pub mod openapi;
pub mod security;
pub mod serve;
pub mod sync;
pub mod tls;
pub mod training;
pub mod users;
pub mod walk_in;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::domain::staff::roles;
use crate::service::Services;
use crate::tasks::TaskHealth;
use extract::ListenerKind;
use layers::{Access, area};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub services: Services,
    pub tasks: TaskHealth,
    /// Certificate fingerprint (base64url), for status screens.
    pub fingerprint: Arc<str>,
    pub gateway_id: Arc<str>,
    /// mDNS status and the facts for setting a headset up by hand.
    pub discovery: crate::discovery::DiscoveryHandle,
    /// Where the kiosk UI's files come from.
    pub kiosk_ui: Arc<kiosk::UiSource>,
    openapi: Arc<OnceLock<String>>,
}

impl AppState {
    pub fn new(services: Services, tasks: TaskHealth, fingerprint: String, gateway_id: String) -> AppState {
        AppState {
            services,
            tasks,
            fingerprint: fingerprint.into(),
            gateway_id: gateway_id.into(),
            discovery: crate::discovery::DiscoveryHandle::default(),
            kiosk_ui: Arc::new(kiosk::UiSource::Embedded),
            openapi: Arc::new(OnceLock::new()),
        }
    }

    pub fn with_discovery(mut self, discovery: crate::discovery::DiscoveryHandle) -> AppState {
        self.discovery = discovery;
        self
    }

    /// Serve the kiosk UI from `source` (the embedded copy by default).
    pub fn with_kiosk_ui(mut self, source: kiosk::UiSource) -> AppState {
        self.kiosk_ui = Arc::new(source);
        self
    }
}

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body_bytes: usize,
    pub timeout: Duration,
}

/// Every route of the API with its access rule, and the OpenAPI document generated from them.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(area(state, Access::Public, health::routes()))
        .merge(area(state, Access::Public, auth::public_routes()))
        .merge(area(state, Access::Roles(roles::STAFF), auth::staff_routes()))
        .merge(area(state, Access::Roles(roles::STAFF), users::read_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            users::manage_routes(),
        ))
        .merge(area(state, Access::Roles(roles::STAFF), training::read_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            training::manage_routes(),
        ))
        .merge(area(state, Access::Roles(roles::STAFF), health::staff_routes()))
        .merge(area(state, Access::Roles(roles::STAFF), security::read_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            security::manage_routes(),
        ))
        .merge(area(
            state,
            Access::Roles(roles::STAFF),
            credentials::self_routes(),
        ))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            credentials::manage_routes(),
        ))
        .merge(area(state, Access::Public, devices::public_routes()))
        .merge(area(state, Access::Roles(roles::STAFF), devices::read_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            devices::manage_routes(),
        ))
        .merge(area(state, Access::Device, headset::device_routes()))
        .merge(area(state, Access::HeadsetSession, headset::session_routes()))
        .merge(area(state, Access::Roles(roles::STAFF), gateway::staff_routes()))
        .merge(area(state, Access::Public, enroll::public_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            links::manage_routes(),
        ))
        .merge(area(state, Access::Roles(roles::STAFF), classes::staff_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            classes::manage_routes(),
        ))
        .merge(area(
            state,
            Access::Roles(roles::STAFF),
            attendance::staff_routes(),
        ))
        .merge(area(state, Access::Roles(roles::STAFF), walk_in::staff_routes()))
        .merge(area(
            state,
            Access::Roles(roles::STAFF),
            on_site_print::staff_routes(),
        ))
        .merge(area(state, Access::Public, attendance::kiosk_routes()))
        .merge(area(
            state,
            Access::Roles(roles::MANAGERS),
            badges::manage_routes(),
        ))
        .merge(area(state, Access::Roles(roles::STAFF), badges::staff_routes()))
        .merge(area(state, Access::Public, badges::kiosk_routes()))
        .merge(area(state, Access::Public, sync::public_routes()))
        .merge(area(state, Access::Roles(roles::STAFF), sync::read_routes()))
        .merge(area(state, Access::Roles(roles::MANAGERS), sync::manage_routes()))
        .split_for_parts()
}

/// The router for one listener, with all layers.
pub fn router(state: AppState, listener: ListenerKind, limits: Limits) -> Router {
    let (routes, doc) = api(&state);
    let json = doc.to_pretty_json().unwrap_or_default();
    let _ = state.openapi.set(json);
    let mut routes = routes.merge(kiosk::routes());
    // Metrics only where no one but the box itself can ask (docs/ARCHITECTURE.md says why).
    if listener == ListenerKind::Kiosk {
        routes = routes.merge(metrics::routes());
    }
    let counted = state.services.metrics.clone();
    let router = routes
        .route_layer(axum::middleware::from_fn(metrics::tag_route))
        .fallback(not_found)
        .with_state(state);
    layers::wrap(router, listener, limits.body_bytes, limits.timeout, counted)
}

async fn not_found() -> error::ApiError {
    error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "no such page or API endpoint",
    )
}
