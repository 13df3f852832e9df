//! The OpenAPI document of the central side's sync endpoints (v1), generated from the wire types, for the platform's engineers.
//!
//! These functions are never called: they carry the `#[utoipa::path]` declarations of the
//! endpoints the central system implements. The gateway serves the document at
//! `GET /api/sync/central-openapi.json` and prints it with `sitegate sync openapi`.

#![allow(dead_code)] // declaration-only functions

use utoipa::OpenApi;

use super::wire::{
    CentralProblem, Change, ChangesPage, ChangesQuery, Envelope, EventBatch, EventResult, EventResults,
    JoinAnswer, JoinRequest, LeaseGrant, LeaseRequest, LeaveRequest, LinkConsumed, Outcome, Sealed,
    SealedOtp, WireAllocation, WireAssignment, WireClass, WireCredential, WireEvent, WireLink, WireModule,
    WireTarget, WireUnit, WireUser,
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "sitegate sync protocol, central side",
        version = "1",
        description = "The endpoints a central training system implements so that sitegate gateways \
            can join a site, pull central changes, push site events and lease link slots. \
            See docs/sync-protocol.md for the rules (ordering, idempotency, epochs, sealing)."
    ),
    paths(join, leave, changes, events, leases),
    components(schemas(
        JoinRequest, JoinAnswer, LeaveRequest, LinkConsumed, ChangesPage, Change,
        Envelope<WireUser>, Envelope<WireUnit>, Envelope<WireModule>, Envelope<WireAssignment>,
        Envelope<WireLink>, Envelope<WireClass>, Envelope<WireCredential>,
        WireUser, WireUnit, WireModule, WireAssignment, WireTarget, WireAllocation, WireLink,
        WireClass, WireCredential, SealedOtp, Sealed, EventBatch, WireEvent, EventResults,
        EventResult, Outcome, LeaseRequest, LeaseGrant, CentralProblem
    )),
    modifiers(&BearerAuth),
    tags((name = "sync", description = "Gateway ↔ central synchronisation, v1"))
)]
pub struct CentralApi;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "gateway_credential",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as pretty JSON.
pub fn document_json() -> String {
    CentralApi::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Join a site with a one-time site token; the answer carries the gateway's credential.
#[utoipa::path(post, path = "/v1/gateways/join", tag = "sync", request_body = JoinRequest, responses(
    (status = 200, body = JoinAnswer, description = "Joined. The token is spent."),
    (status = 401, body = CentralProblem, content_type = "application/problem+json", description = "Unknown, expired or spent site token (`unauthorized`)"),
    (status = 422, body = CentralProblem, content_type = "application/problem+json", description = "A field is malformed (`invalid`)"),
    (status = 503, body = CentralProblem, content_type = "application/problem+json"),
))]
fn join() {}

/// Leave the site: the credential stops working and unused leased slots go back.
#[utoipa::path(post, path = "/v1/gateways/leave", tag = "sync", request_body = LeaveRequest,
    security(("gateway_credential" = [])), responses(
    (status = 204, description = "Left; a repeat is also 204"),
    (status = 401, body = CentralProblem, content_type = "application/problem+json"),
    (status = 503, body = CentralProblem, content_type = "application/problem+json"),
))]
fn leave() {}

/// Changes after a cursor, oldest first, one page at a time. With `wait`, the central side may
/// hold the request open until something changes (long poll).
#[utoipa::path(get, path = "/v1/changes", tag = "sync", params(ChangesQuery),
    security(("gateway_credential" = [])), responses(
    (status = 200, body = ChangesPage),
    (status = 401, body = CentralProblem, content_type = "application/problem+json"),
    (status = 410, body = CentralProblem, content_type = "application/problem+json", description = "`refetch`: start again from no cursor in the epoch given"),
    (status = 422, body = CentralProblem, content_type = "application/problem+json"),
    (status = 503, body = CentralProblem, content_type = "application/problem+json", description = "With `Retry-After`"),
))]
fn changes() {}

/// Site events, in sequence order. Each is answered on its own; a repeat is `duplicate`.
#[utoipa::path(post, path = "/v1/events", tag = "sync", request_body = EventBatch,
    security(("gateway_credential" = [])), responses(
    (status = 200, body = EventResults),
    (status = 400, body = CentralProblem, content_type = "application/problem+json", description = "The batch as a whole is malformed"),
    (status = 401, body = CentralProblem, content_type = "application/problem+json"),
    (status = 409, body = CentralProblem, content_type = "application/problem+json", description = "A `seq` already received with another `event_id` (`conflict`): the gateway's database was probably restored and reuses numbers"),
    (status = 413, body = CentralProblem, content_type = "application/problem+json"),
    (status = 422, body = CentralProblem, content_type = "application/problem+json", description = "The batch as a whole is malformed"),
    (status = 503, body = CentralProblem, content_type = "application/problem+json", description = "With `Retry-After`"),
))]
fn events() {}

/// Hold (or give back) unused slots of a capped link. Absolute: repeats are harmless.
#[utoipa::path(post, path = "/v1/leases", tag = "sync", request_body = LeaseRequest,
    security(("gateway_credential" = [])), responses(
    (status = 200, body = LeaseGrant),
    (status = 401, body = CentralProblem, content_type = "application/problem+json"),
    (status = 404, body = CentralProblem, content_type = "application/problem+json", description = "No such link, or it has no cap"),
    (status = 422, body = CentralProblem, content_type = "application/problem+json"),
    (status = 503, body = CentralProblem, content_type = "application/problem+json"),
))]
fn leases() {}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn schema(doc: &Value, name: &str) -> Value {
        doc["components"]["schemas"][name].clone()
    }

    fn required(schema: &Value) -> Vec<String> {
        schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_schema_requires_what_the_gateway_refuses_without() {
        let doc: Value = serde_json::from_str(&super::document_json()).unwrap();
        let class = schema(&doc, "WireClass");
        for field in ["title", "room", "starts_at", "ends_at", "instructors", "state"] {
            assert!(
                required(&class).contains(&field.to_string()),
                "WireClass.{field}: {class}"
            );
        }
        assert_eq!(class["properties"]["room"]["minLength"], 1, "{class}");
        assert_eq!(class["properties"]["instructors"]["minItems"], 1, "{class}");
        assert!(class["properties"]["room"].get("default").is_none());
        let user = schema(&doc, "WireUser");
        assert!(required(&user).contains(&"family_name".to_string()), "{user}");
        assert_eq!(user["properties"]["family_name"]["minLength"], 1, "{user}");
    }

    #[test]
    fn a_class_without_room_or_instructors_is_not_a_class_record() {
        let base = serde_json::json!({"title": "T", "room": "R", "starts_at": "2026-11-25T08:00:00Z",
            "ends_at": "2026-11-25T09:00:00Z", "instructors": ["C1"], "state": "scheduled"});
        assert!(serde_json::from_value::<crate::sync::wire::WireClass>(base.clone()).is_ok());
        for field in ["room", "instructors"] {
            let mut without = base.clone();
            without.as_object_mut().unwrap().remove(field);
            assert!(
                serde_json::from_value::<crate::sync::wire::WireClass>(without).is_err(),
                "{field} is required"
            );
        }
    }
}
