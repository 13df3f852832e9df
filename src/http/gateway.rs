//! The gateway's own facts for the staff screen: its URLs, certificate fingerprint and the setup
//! QR, for headsets set up by hand where multicast is blocked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult, Problem};
use crate::discovery::interfaces::read_links;
use crate::discovery::setup::{SetupInfo, qr_svg};

pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(gateway_info))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayInfo {
    #[serde(flatten)]
    pub info: SetupInfo,
    /// The QR of `setup_url` as an SVG document. Absent when there is no setup URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

/// How to reach this gateway: URLs, certificate fingerprint (base64url and hex) and a QR of the
/// setup URL `https://<host>:<port>/?fp=<fingerprint>`.
#[utoipa::path(get, path = "/api/gateway/info", tag = "health", responses(
    (status = 200, body = GatewayInfo),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn gateway_info(State(state): State<AppState>) -> ApiResult<Json<GatewayInfo>> {
    let unavailable = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the gateway's addresses are not known yet",
        )
    };
    let setup = state.discovery.setup().ok_or_else(unavailable)?;
    let links = tokio::task::spawn_blocking(read_links)
        .await
        .map_err(|_| unavailable())?
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot list network interfaces");
            Vec::new()
        });
    let info = setup.info(&links);
    let qr_svg = info.setup_url.as_deref().and_then(qr_svg);
    Ok(Json(GatewayInfo { info, qr_svg }))
}
