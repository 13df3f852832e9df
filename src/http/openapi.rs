//! The OpenAPI document's frame (title, tags, shared schemas); the paths come from the handlers themselves.

use utoipa::OpenApi;

use super::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "sitegate API", description = "The on-site gateway's one API, for the kiosk, staff screens, headsets and scripts."),
    components(schemas(Problem)),
    tags(
        (name = "health", description = "Liveness, readiness and status"),
        (name = "auth", description = "Staff sign-in and sessions"),
        (name = "users", description = "User records"),
        (name = "training", description = "Modules, assignments, groups, sites and regions"),
        (name = "credentials", description = "One-time passwords and authenticator (TOTP) enrollment"),
        (name = "security", description = "Throttling, the odds of guessing, the audit log"),
        (name = "devices", description = "Pairing headsets and kiosk tablets; headset sessions"),
        (name = "headset", description = "What a paired headset calls: login, roster, progress, logout"),
        (name = "enrollment", description = "The kiosk and phones: self-enrollment through training access links"),
        (name = "links", description = "Training access links for staff: settings, usage, CSV, poster"),
        (name = "sync", description = "Sync with the central system: status, sync now, dead letters, the central side's OpenAPI"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;
