//! The test central's fault plan (rules taken one request at a time) and the delivery of an answer whole, late, cut off or dribbled.
//!
//! A [`FaultRule`] names an endpoint (or `any`), a fault and how many requests it spoils; then
//! it is used up. Rules are tried in the order they were pushed; the first that matches the
//! endpoint (and whose fault makes sense there) fires. Every firing is recorded for tests.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::{StreamExt as _, stream};
use serde::{Deserialize, Serialize};

use crate::sync::wire::CentralProblem;

/// Which endpoint a rule spoils.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Join,
    Leave,
    Changes,
    Events,
    Leases,
    Any,
}

/// A field of a user record the `invalid_record` fault spoils.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadField {
    /// `email: "not-an-email"`.
    Email,
    /// A given name of 10,000 characters.
    LongGivenName,
}

/// What goes wrong. JSON form: `{"type": "unavailable", "retry_after": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fault {
    /// 500 `internal`; nothing is done.
    ServerError,
    /// 503 `unavailable` with `Retry-After: retry_after` (seconds); nothing is done.
    Unavailable { retry_after: u32 },
    /// 401 `unauthorized` even with a good credential; nothing is done.
    Unauthorized,
    /// This HTTP status (e.g. 403 or 404 from a proxy in front of the central system) with a
    /// problem body, `code` `fault`; nothing is done.
    Status { status: u16 },
    /// The work is done, the answer held `millis`; then sent, or with `drop` the connection is
    /// closed without an answer.
    Stall {
        millis: u64,
        #[serde(default)]
        drop: bool,
    },
    /// The work is done; the status and the first `after_bytes` bytes of the body are sent
    /// (with the full `Content-Length`), then the connection is aborted.
    ResetMidBody { after_bytes: usize },
    /// The work is done; the body is sent `bytes` bytes every 100 ms.
    Trickle { bytes: usize },
    /// The work is done; the answer is 200 with the first half of its JSON body only.
    MalformedJson,
    /// changes: the page answered for the previous request is answered again, same changes and
    /// same cursor (the log does not advance).
    RepeatPage,
    /// changes: the page starts `back` changes before the cursor.
    OverlapPage { back: usize },
    /// changes: an older version of a record follows its newer one in the page (the page's
    /// first record that has one); versions still tell which is newest.
    Reorder,
    /// changes: the central epoch changes first (a restore or re-seed), then the request is
    /// answered as usual: 410 `refetch` with the new epoch when it named an epoch (with or
    /// without a cursor), the new epoch's first snapshot page when it named none.
    EpochChange,
    /// changes: a request with no cursor is answered with the current epoch's snapshot (200)
    /// whatever `epoch` it named, as a central system that checks `epoch` only with a cursor
    /// would; with a cursor, the usual rules.
    EpochUnchecked,
    /// changes: a change of kind `spaceship` is added at the front of the page.
    UnknownKind,
    /// changes: a user that fails validation is added at the front of the page (not stored).
    InvalidRecord { field: BadField },
    /// changes: the page's cursor is one before the cursor asked with (or `0`).
    CursorBackwards,
    /// changes: the page is padded past `wire::PAGE_BYTES_MAX` bytes.
    OversizePage,
    /// events: the event with this `seq`, or at this 0-based `index` of the batch, is rejected
    /// with `reason`; the others are answered as usual.
    RejectEvent {
        #[serde(default)]
        seq: Option<u64>,
        #[serde(default)]
        index: Option<usize>,
        #[serde(default = "default_reason")]
        reason: String,
    },
}

fn default_reason() -> String {
    "rejected by the test central's fault plan".into()
}

impl Fault {
    /// Whether this fault means anything on `endpoint`.
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        match self {
            Fault::RepeatPage
            | Fault::OverlapPage { .. }
            | Fault::Reorder
            | Fault::EpochChange
            | Fault::EpochUnchecked
            | Fault::UnknownKind
            | Fault::InvalidRecord { .. }
            | Fault::CursorBackwards
            | Fault::OversizePage => endpoint == Endpoint::Changes,
            Fault::RejectEvent { .. } => endpoint == Endpoint::Events,
            _ => true,
        }
    }
}

fn one() -> u32 {
    1
}

/// One rule of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    pub endpoint: Endpoint,
    /// Requests it spoils before it is used up (default 1).
    #[serde(default = "one")]
    pub times: u32,
    pub fault: Fault,
}

impl FaultRule {
    pub fn once(endpoint: Endpoint, fault: Fault) -> FaultRule {
        FaultRule {
            endpoint,
            times: 1,
            fault,
        }
    }
}

/// A fault that fired, for tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub endpoint: Endpoint,
    pub fault: Fault,
}

#[derive(Debug, Default)]
struct Plan {
    rules: VecDeque<FaultRule>,
    fired: Vec<Fired>,
}

/// The shared fault plan of one test central.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan(Arc<Mutex<Plan>>);

impl FaultPlan {
    fn lock(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, rule: FaultRule) {
        if rule.times > 0 {
            self.lock().rules.push_back(rule);
        }
    }

    /// Replace the plan.
    pub fn set(&self, rules: Vec<FaultRule>) {
        let mut plan = self.lock();
        plan.rules = rules.into_iter().filter(|r| r.times > 0).collect();
    }

    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Rules not yet used up.
    pub fn remaining(&self) -> Vec<FaultRule> {
        self.lock().rules.iter().cloned().collect()
    }

    /// Every fault that fired so far, oldest first.
    pub fn fired(&self) -> Vec<Fired> {
        self.lock().fired.clone()
    }

    /// The fault for one request to `endpoint`, using up one of its rule's times.
    pub fn take(&self, endpoint: Endpoint) -> Option<Fault> {
        let mut plan = self.lock();
        let at = plan.rules.iter().position(|r| {
            (r.endpoint == endpoint || r.endpoint == Endpoint::Any) && r.fault.applies_to(endpoint)
        })?;
        let rule = plan.rules.get_mut(at)?;
        rule.times -= 1;
        let fault = rule.fault.clone();
        if rule.times == 0 {
            plan.rules.remove(at);
        }
        plan.fired.push(Fired {
            endpoint,
            fault: fault.clone(),
        });
        Some(fault)
    }
}

/// An answer before delivery.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub retry_after: Option<u32>,
}

impl Answer {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(value).unwrap_or_default(),
            retry_after: None,
        }
    }

    pub fn empty(status: StatusCode) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: Vec::new(),
            retry_after: None,
        }
    }

    /// A problem+json answer (RFC 9457) with a stable `code`.
    pub fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Answer {
        Answer::problem_with(
            status,
            CentralProblem {
                code: code.into(),
                detail: Some(detail.into()),
                epoch: None,
            },
        )
    }

    pub fn problem_with(status: StatusCode, problem: CentralProblem) -> Answer {
        Answer {
            content_type: "application/problem+json",
            ..Answer::json(status, &problem)
        }
    }

    /// The answer a fault gives before any work is done, if it is such a fault.
    pub fn refusal_for(fault: Option<&Fault>) -> Option<Answer> {
        match fault? {
            Fault::ServerError => Some(Answer::problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the test central's fault plan",
            )),
            Fault::Unavailable { retry_after } => Some(Answer {
                retry_after: Some(*retry_after),
                ..Answer::problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later")
            }),
            Fault::Unauthorized => Some(Answer::problem(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the credential is not accepted",
            )),
            Fault::Status { status } => Some(Answer::problem(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "fault",
                "the test central's fault plan",
            )),
            _ => None,
        }
    }

    fn head(self, body: Body, full_length: bool) -> Response {
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if !self.body.is_empty() || self.status != StatusCode::NO_CONTENT {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        }
        if full_length {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }

    /// Send the answer, spoiled by `fault` if it is a delivery fault.
    pub async fn deliver(mut self, fault: Option<&Fault>) -> Response {
        match fault {
            Some(Fault::Stall { millis, drop }) => {
                tokio::time::sleep(Duration::from_millis(*millis)).await;
                if *drop {
                    return self.head(
                        Body::from_stream(stream::once(async { Err::<Bytes, _>(cut()) })),
                        false,
                    );
                }
                let body = Body::from(std::mem::take(&mut self.body));
                self.head(body, false)
            }
            Some(Fault::ResetMidBody { after_bytes }) => {
                let part = Bytes::copy_from_slice(&self.body[..(*after_bytes).min(self.body.len() / 2)]);
                // hyper flushes what it holds only while the body is pending, so wait a moment
                // before the error: the head and the part reach the client, then the cut.
                let cut_later = stream::once(async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err(cut())
                });
                let chunks = stream::iter([Ok(part)]).chain(cut_later);
                self.head(Body::from_stream(chunks), true)
            }
            Some(Fault::Trickle { bytes }) => {
                let body = Bytes::from(std::mem::take(&mut self.body));
                let step = (*bytes).max(1);
                let chunks = stream::unfold((body, true), move |(rest, first)| async move {
                    if rest.is_empty() {
                        return None;
                    }
                    if !first {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    let mut rest = rest;
                    let chunk = rest.split_to(step.min(rest.len()));
                    Some((Ok::<_, Infallible>(chunk), (rest, false)))
                });
                self.head(Body::from_stream(chunks), false)
            }
            Some(Fault::MalformedJson) => {
                let mut body = std::mem::take(&mut self.body);
                body.truncate(body.len() / 2);
                if body.is_empty() {
                    body = b"{\"".to_vec();
                }
                self.status = StatusCode::OK;
                self.content_type = "application/json";
                self.body = body.clone();
                self.head(Body::from(body), false)
            }
            _ => {
                let body = Body::from(std::mem::take(&mut self.body));
                self.head(body, false)
            }
        }
    }
}

fn cut() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "the test central's fault plan cut the connection",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fires_its_times_on_its_endpoint_then_is_used_up() {
        let plan = FaultPlan::default();
        plan.push(FaultRule {
            endpoint: Endpoint::Events,
            times: 2,
            fault: Fault::ServerError,
        });
        plan.push(FaultRule::once(Endpoint::Any, Fault::RepeatPage));
        assert_eq!(
            plan.take(Endpoint::Join),
            None,
            "repeat_page means nothing on join"
        );
        assert_eq!(plan.take(Endpoint::Events), Some(Fault::ServerError));
        assert_eq!(plan.take(Endpoint::Changes), Some(Fault::RepeatPage));
        assert_eq!(plan.take(Endpoint::Events), Some(Fault::ServerError));
        assert_eq!(plan.take(Endpoint::Events), None);
        assert_eq!(plan.fired().len(), 3);
        let json: FaultRule =
            serde_json::from_str(r#"{"endpoint":"changes","fault":{"type":"unavailable","retry_after":2}}"#)
                .unwrap();
        assert_eq!(json.times, 1);
    }
}
