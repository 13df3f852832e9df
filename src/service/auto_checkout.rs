//! Automatic check-out: people still checked in at the daily cut-off (or N hours after check-in) are checked out, flagged "auto", by a background task on the Clock.

use super::classroom::end_classroom_sessions;
use super::roster_events::RosterChanged;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::activity::{ActivityEntry, ActivityKind};
use crate::domain::classroom::{CheckMethod, CheckOutResult};
use crate::store;

impl Services {
    /// Check out everyone whose auto check-out time has come, at that time, in one commit.
    /// Returns how many were checked out.
    pub async fn run_auto_checkout(&self) -> ServiceResult<usize> {
        let rule = self.settings.classroom.auto_checkout;
        if rule.daily_at.is_none() && rule.after.is_none() {
            return Ok(0);
        }
        let svc = self.clone();
        let count = self
            .store
            .write(move |tx| {
                let now = svc.now();
                let mut count = 0;
                for class in store::classes::open_classes(tx)? {
                    for mut a in store::classes::class_attendance(tx, class.id)? {
                        let Some(due) = a.checked_in_at.and_then(|at| rule.due(at)) else {
                            continue;
                        };
                        if !a.is_present() || due > now {
                            continue;
                        }
                        if a.check_out(CheckMethod::Auto, due) != CheckOutResult::CheckedOut {
                            continue;
                        }
                        store::classes::put_attendance(tx, &a)?;
                        store::activity::append_activity(
                            tx,
                            &a.user_id,
                            &ActivityEntry {
                                at: due,
                                kind: ActivityKind::CheckedOut {
                                    class_title: class.title.clone(),
                                    method: CheckMethod::Auto.as_str().into(),
                                    auto: true,
                                },
                                actor: "auto".into(),
                            },
                        )?;
                        store::outbox::append_event(
                            tx,
                            "class.check_out",
                            serde_json::json!({ "class_id": class.id, "user_id": a.user_id, "method": "auto", "at": crate::clock::rfc3339(due), "auto": true }),
                            now,
                        )?;
                        let mut entry = svc.audit("class.check_out", "success", &Actor::SelfService);
                        entry.actor = Some("auto".into());
                        entry.subject = Some(a.user_id.to_string());
                        entry.detail = Some(format!("class {}: automatic check-out", class.id));
                        store::audit::append_audit(tx, &entry)?;
                        if let Some(user) = store::users::get_user(tx, &a.user_id)? {
                            end_classroom_sessions(&svc, tx, &user, "checked out automatically")?;
                        }
                        count += 1;
                    }
                }
                Ok::<_, ServiceError>(count)
            })
            .await?;
        if count > 0 {
            tracing::info!(count, "automatic check-out");
            self.roster_events.notify(RosterChanged(None));
        }
        Ok(count)
    }
}

/// The background task: look every `auto_checkout_every` until shutdown.
pub async fn run(svc: Services, shutdown: crate::tasks::Shutdown) {
    let every = svc.settings.classroom.auto_checkout_every;
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(every) => {
                if let Err(e) = svc.run_auto_checkout().await {
                    tracing::warn!(error = %e, "automatic check-out failed; it is tried again");
                }
            }
        }
    }
}
