//! The test central's control API under `/test/...`: what a test (or a person with curl) does on the central side. No credential; loopback clients only.
//!
//! | call | does |
//! | --- | --- |
//! | `POST /test/site-tokens` | mint a one-time site token → `{"site_token"}` |
//! | `PUT /test/records/{kind}/{id}` (body: the wire record) | put a record → `{"version"}` |
//! | `GET` / `DELETE /test/records/{kind}/{id}` | read a live record / delete it (a tombstone) |
//! | `PUT /test/credentials/{user}` (`{"pin"?, "otp"?: {"code", "expires_at"}}`) | issue a PIN / OTP; `{}` withdraws |
//! | `POST /test/links/{id}/direct-uses` (`{"uses"}`) | count enrollments made centrally |
//! | `POST /test/epoch` | a new epoch → `{"epoch"}` |
//! | `POST /test/horizon` (`{"seq"?}`, default the current sequence) | move the tombstone horizon → `{"horizon"}` |
//! | `PUT /test/clock` (`{"offset_secs"}`) | skew `server_time` |
//! | `GET` / `POST` / `DELETE /test/faults` | the plan (`{"left", "fired"}`) / add a rule or a list / clear |
//! | `GET /test/snapshot` | counts and digests per kind, events per gateway, leases, faults |

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::faults::{Answer, FaultRule};
use super::handlers::parse;
use super::shared::Shared;
use super::state::ClearCredential;

type Ctx = State<Arc<Shared>>;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/site-tokens", post(site_token))
        .route(
            "/records/{kind}/{id}",
            put(put_record).get(get_record).delete(delete_record),
        )
        .route("/credentials/{user}", put(set_credential))
        .route("/links/{id}/direct-uses", post(direct_uses))
        .route("/epoch", post(bump_epoch))
        .route("/horizon", post(horizon))
        .route("/clock", put(clock))
        .route("/faults", get(faults).post(push_faults).delete(clear_faults))
        .route("/snapshot", get(snapshot))
        .layer(middleware::from_fn(loopback_only))
}

async fn loopback_only(ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request, next: Next) -> Response {
    if peer.ip().to_canonical().is_loopback() {
        next.run(req).await
    } else {
        Answer::problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the control API answers loopback clients only",
        )
        .deliver(None)
        .await
    }
}

async fn reply(result: Result<Value, Answer>) -> Response {
    match result {
        Ok(value) => Answer::json(StatusCode::OK, &value),
        Err(answer) => answer,
    }
    .deliver(None)
    .await
}

fn absent(what: String) -> Answer {
    Answer::problem(StatusCode::NOT_FOUND, "not_found", what)
}

async fn site_token(State(shared): Ctx) -> Response {
    reply(Ok(json!({ "site_token": shared.mint_site_token() }))).await
}

async fn put_record(State(shared): Ctx, Path((kind, id)): Path<(String, String)>, body: Bytes) -> Response {
    let result = parse::<Value>(&body).and_then(|record| {
        let version = shared.put(&kind, &id, record)?;
        Ok(json!({ "version": version }))
    });
    reply(result).await
}

async fn get_record(State(shared): Ctx, Path((kind, id)): Path<(String, String)>) -> Response {
    let record = shared.read(|s| s.live(&kind, &id).cloned());
    reply(record.ok_or_else(|| absent(format!("no live {kind} {id}")))).await
}

async fn delete_record(State(shared): Ctx, Path((kind, id)): Path<(String, String)>) -> Response {
    let version = shared.delete(&kind, &id);
    reply(
        version
            .map(|v| json!({ "version": v }))
            .ok_or_else(|| absent(format!("no live {kind} {id}"))),
    )
    .await
}

async fn set_credential(State(shared): Ctx, Path(user): Path<String>, body: Bytes) -> Response {
    let result = parse::<ClearCredential>(&body).and_then(|clear| {
        let version = shared.set_credential(&user, clear)?;
        Ok(json!({ "version": version }))
    });
    reply(result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Uses {
    uses: u32,
}

async fn direct_uses(State(shared): Ctx, Path(id): Path<Uuid>, body: Bytes) -> Response {
    let result = parse::<Uses>(&body).and_then(|u| {
        let version = shared.add_direct_uses(id, u.uses)?;
        Ok(json!({ "version": version }))
    });
    reply(result).await
}

async fn bump_epoch(State(shared): Ctx) -> Response {
    reply(Ok(json!({ "epoch": shared.change(|s| s.bump_epoch()) }))).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Horizon {
    #[serde(default)]
    seq: Option<u64>,
}

async fn horizon(State(shared): Ctx, body: Bytes) -> Response {
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    let result = parse::<Horizon>(&body).map(|h| {
        let horizon = shared.change(|s| {
            let seq = h.seq.unwrap_or(s.seq);
            s.set_horizon(seq)
        });
        json!({ "horizon": horizon })
    });
    reply(result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clock {
    offset_secs: i64,
}

async fn clock(State(shared): Ctx, body: Bytes) -> Response {
    let result = parse::<Clock>(&body).map(|c| {
        shared.set_skew(time::Duration::seconds(c.offset_secs));
        json!({ "server_time": super::fold::rfc3339(shared.now()) })
    });
    reply(result).await
}

fn plan(shared: &Shared) -> Value {
    json!({ "left": shared.faults.remaining(), "fired": shared.faults.fired() })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Rules {
    One(FaultRule),
    Many(Vec<FaultRule>),
}

async fn push_faults(State(shared): Ctx, body: Bytes) -> Response {
    let result = parse::<Rules>(&body).map(|rules| {
        let rules = match rules {
            Rules::One(r) => vec![r],
            Rules::Many(rs) => rs,
        };
        for rule in rules {
            shared.faults.push(rule);
        }
        plan(&shared)
    });
    reply(result).await
}

async fn faults(State(shared): Ctx) -> Response {
    reply(Ok(plan(&shared))).await
}

async fn clear_faults(State(shared): Ctx) -> Response {
    shared.faults.clear();
    reply(Ok(plan(&shared))).await
}

async fn snapshot(State(shared): Ctx) -> Response {
    reply(
        serde_json::to_value(shared.snapshot())
            .map_err(|e| Answer::problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())),
    )
    .await
}
