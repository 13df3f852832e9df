//! A class's roster over HTTP: as JSON, as CSV for a spreadsheet, and live as server-sent events.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;

use super::AppState;
use super::auth::rfc3339;
use super::classes::{ClassOut, class_id};
use super::csv::{BOM, SiteTime, csv_response, row};
use super::error::{ApiResult, Problem};
use crate::domain::classroom::{CheckMethod, Outcome};
use crate::service::ServiceError;
use crate::service::auth::Principal;
use crate::service::classroom::{RosterLine, RosterView};

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterLineOut {
    pub user_id: String,
    pub given_name: String,
    pub family_name: String,
    /// "Given F.", for the shared screen.
    pub short_name: String,
    pub expected: bool,
    pub walk_in: bool,
    pub present: bool,
    #[schema(format = DateTime)]
    pub checked_in_at: Option<String>,
    pub check_in_method: Option<CheckMethod>,
    #[schema(format = DateTime)]
    pub checked_out_at: Option<String>,
    pub check_out_method: Option<CheckMethod>,
    /// Checked out by the gateway at the cut-off.
    pub auto_checked_out: bool,
    pub outcome: Option<Outcome>,
}

impl From<&RosterLine> for RosterLineOut {
    fn from(l: &RosterLine) -> Self {
        let a = l.attendance.as_ref();
        RosterLineOut {
            user_id: l.user.id.to_string(),
            given_name: l.user.name.given.clone(),
            family_name: l.user.name.family.clone(),
            short_name: l.user.name.short(),
            expected: l.expected,
            walk_in: !l.expected,
            present: l.present(),
            checked_in_at: a.and_then(|a| a.checked_in_at).map(rfc3339),
            check_in_method: a.and_then(|a| a.check_in_method),
            checked_out_at: a.and_then(|a| a.checked_out_at).map(rfc3339),
            check_out_method: a.and_then(|a| a.check_out_method),
            auto_checked_out: a.and_then(|a| a.check_out_method) == Some(CheckMethod::Auto),
            outcome: a.and_then(|a| a.outcome),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterCounts {
    pub expected: usize,
    pub present: usize,
    pub walk_ins: usize,
    pub not_arrived: usize,
    pub left: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassRosterOut {
    pub class: ClassOut,
    pub counts: RosterCounts,
    pub lines: Vec<RosterLineOut>,
}

impl From<&RosterView> for ClassRosterOut {
    fn from(v: &RosterView) -> Self {
        let lines: Vec<RosterLineOut> = v.lines.iter().map(RosterLineOut::from).collect();
        ClassRosterOut {
            class: ClassOut::from(&v.class),
            counts: RosterCounts {
                expected: lines.iter().filter(|l| l.expected).count(),
                present: lines.iter().filter(|l| l.present).count(),
                walk_ins: lines.iter().filter(|l| l.walk_in).count(),
                not_arrived: lines.iter().filter(|l| l.checked_in_at.is_none()).count(),
                left: lines.iter().filter(|l| l.checked_out_at.is_some()).count(),
            },
            lines,
        }
    }
}

/// The class and its roster: expected, present (time and method), walk-ins, not yet arrived. For
/// the class's instructors, managers and admins.
#[utoipa::path(get, path = "/api/classes/{id}", tag = "classroom",
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, body = ClassRosterOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json", description = "`not_class_instructor`: staff who do not run this class"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
pub(super) async fn roster(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClassRosterOut>> {
    let view = state.services.class_roster(&p, class_id(&id)?).await?;
    Ok(Json(ClassRosterOut::from(&view)))
}

/// The roster as CSV for a spreadsheet (RFC 4180, UTF-8 with BOM, times in site time).
pub(crate) fn roster_to_csv(v: &RosterView, times: SiteTime) -> String {
    let mut out = String::from(BOM);
    let checked_in = times.header("Checked in at");
    let checked_out = times.header("Checked out at");
    out.push_str(&row(&[
        "User ID",
        "Given name",
        "Family name",
        "Employer",
        "Expected",
        &checked_in,
        "Check-in method",
        &checked_out,
        "Check-out method",
        "Auto check-out",
        "Outcome",
        "Class",
        "Room",
    ]));
    for l in &v.lines {
        let o = RosterLineOut::from(l);
        let a = l.attendance.as_ref();
        let method = |m: Option<CheckMethod>| m.map(CheckMethod::as_str).unwrap_or("");
        out.push_str(&row(&[
            &o.user_id,
            &o.given_name,
            &o.family_name,
            l.user.employer.as_deref().unwrap_or(""),
            if o.expected { "yes" } else { "walk-in" },
            &times.cell(a.and_then(|a| a.checked_in_at)),
            method(o.check_in_method),
            &times.cell(a.and_then(|a| a.checked_out_at)),
            method(o.check_out_method),
            if o.auto_checked_out { "yes" } else { "no" },
            o.outcome.map(Outcome::as_str).unwrap_or(""),
            &v.class.title,
            &v.class.room,
        ]));
    }
    out
}

/// The roster as CSV (RFC 4180, UTF-8 with BOM): opens cleanly in a spreadsheet, times in site
/// time to the second (`2026-12-03 09:14:05`, the offset in the column's header). For the class's
/// instructors, managers and admins.
#[utoipa::path(get, path = "/api/classes/{id}/roster.csv", tag = "classroom",
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, description = "CSV, UTF-8 with BOM", content_type = "text/csv", body = String),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json", description = "`not_class_instructor`: staff who do not run this class"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
pub(super) async fn roster_csv(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = class_id(&id)?;
    let view = state.services.class_roster(&p, id).await?;
    let date = view.class.starts_at.date();
    let times = SiteTime::new(state.services.site_offset());
    csv_response(&format!("class-{date}-{id}.csv"), roster_to_csv(&view, times))
}

/// The live roster: a `roster` event with the whole roster now, and again after every change
/// (check-in, check-out, open, close). A screen that reconnects gets the roster at once. For the
/// class's instructors, managers and admins; the stream ends when that is no longer so.
#[utoipa::path(get, path = "/api/classes/{id}/events", tag = "classroom",
    params(("id" = String, Path, format = Uuid, description = "Class ID")), responses(
    (status = 200, description = "Server-sent events: `roster` with a ClassRosterOut as data", content_type = "text/event-stream", body = String),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json", description = "`not_class_instructor`: staff who do not run this class"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
pub(super) async fn roster_events(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = class_id(&id)?;
    // Subscribe before the first read, so no change between the two is missed.
    let rx = state.services.roster_events.subscribe();
    let first = state.services.class_roster(&p, id).await?;
    let services = state.services.clone();
    let stream = futures_util::stream::unfold(
        (Some(first), rx, services, p),
        move |(first, mut rx, services, p)| async move {
            if let Some(view) = first {
                return Some((
                    Ok::<Event, Infallible>(roster_event(&view)),
                    (None, rx, services, p),
                ));
            }
            loop {
                match rx.recv().await {
                    Ok(change) if !change.concerns(id) => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
                // Each read checks again: someone taken off the class stops getting its roster.
                match services.class_roster(&p, id).await {
                    Ok(view) => return Some((Ok(roster_event(&view)), (None, rx, services, p))),
                    Err(ServiceError::NotClassInstructor) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "live roster: cannot read the roster");
                        return None;
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

fn roster_event(view: &RosterView) -> Event {
    let data = serde_json::to_string(&ClassRosterOut::from(view)).unwrap_or_default();
    Event::default().event("roster").data(data)
}
