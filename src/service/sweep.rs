//! The `session-sweep` task: staff and headset sessions that expired unnoticed (the screen or the
//! headset walked away) are ended and audited as they are when found expired on use, so the
//! session tables hold live sessions only.

use std::time::Duration;

use super::security::security_peek;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::staff::SessionEnd;
use crate::store;

/// How often the sweep looks.
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// What one sweep ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub staff: usize,
    pub headset: usize,
}

impl Services {
    /// End every expired staff and headset session, one audit entry each, in one commit.
    pub async fn sweep_expired_sessions(&self) -> ServiceResult<Swept> {
        let svc = self.clone();
        let swept = self
            .store
            .write(move |tx| -> Result<Swept, ServiceError> {
                let now = svc.now();
                let policy = svc.settings.sessions;
                let staff = store::sessions::delete_where(tx, |s| s.times.check(&policy, now).is_err())?;
                for s in &staff {
                    let reason = match s.times.check(&policy, now) {
                        Err(SessionEnd::Absolute) => "absolute",
                        _ => "idle",
                    };
                    let actor = Actor::Staff {
                        user_id: s.user_id.to_string(),
                    };
                    let mut a = svc.audit("staff.session_end", "success", &actor);
                    a.detail = Some(format!("{reason} (swept)"));
                    store::audit::append_audit(tx, &a)?;
                }
                let hnow = security_peek(&svc, tx)?;
                let hpolicy = svc.settings.credentials.headset;
                let headset = store::headset_sessions::delete_where(tx, |s| !s.is_alive(&hpolicy, hnow))?;
                for s in &headset {
                    let mut a = svc.audit("headset.session_end", "success", &Actor::SelfService);
                    a.subject = Some(s.user_id.to_string());
                    a.detail = Some("expired (swept)".into());
                    store::audit::append_audit(tx, &a)?;
                }
                Ok(Swept {
                    staff: staff.len(),
                    headset: headset.len(),
                })
            })
            .await?;
        if swept != Swept::default() {
            tracing::info!(
                staff = swept.staff,
                headset = swept.headset,
                "expired sessions ended"
            );
        }
        Ok(swept)
    }
}

/// The background task: sweep every [`SWEEP_EVERY`] until shutdown.
pub async fn run(svc: Services, shutdown: crate::tasks::Shutdown) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(SWEEP_EVERY) => {
                if let Err(e) = svc.sweep_expired_sessions().await {
                    tracing::warn!(error = %e, "the session sweep failed; it is tried again");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::Duration as TimeDuration;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::device::HeadsetSession;
    use crate::domain::ids::UserId;
    use crate::domain::staff::{Role, ScreenKind, SessionTimes};
    use crate::keys::Keys;
    use crate::store::Store;
    use crate::store::sessions::StoredSession;

    #[tokio::test]
    async fn expired_sessions_are_ended_and_audited_live_ones_stay() {
        let clock = ManualClock::new(datetime!(2026-11-25 08:00 UTC));
        let svc = Services::new(
            Store::open_in_memory().unwrap(),
            Arc::new(clock.clone()),
            Arc::new(Keys::for_tests()),
            crate::site_settings(&crate::config::Config::default()),
        );
        let staff = |screen, at| StoredSession {
            user_id: UserId::from_canonical("ABCDE12345".into()),
            role: Role::Instructor,
            times: SessionTimes {
                created_at: at,
                last_seen: at,
                screen,
            },
        };
        let headset = |at| HeadsetSession {
            id: Uuid::from_u128(1),
            user_id: UserId::from_canonical("ABCDE12345".into()),
            device_id: Uuid::from_u128(7),
            created_at: at,
            last_seen: at,
        };
        let t0 = clock.now();
        svc.store
            .write(move |tx| -> Result<(), ServiceError> {
                // A kiosk session (2 minutes idle) and a laptop one (15 minutes).
                store::sessions::put_session(tx, &[1; 32], &staff(ScreenKind::Kiosk, t0))?;
                store::sessions::put_session(tx, &[2; 32], &staff(ScreenKind::Laptop, t0))?;
                store::headset_sessions::put_session(tx, &[3; 32], &headset(t0))?;
                Ok(())
            })
            .await
            .unwrap();

        clock.advance(TimeDuration::minutes(5));
        let swept = svc.sweep_expired_sessions().await.unwrap();
        assert_eq!(
            swept,
            Swept { staff: 1, headset: 0 },
            "only the kiosk session idled out"
        );
        let (left, audit) = svc
            .store
            .read(|tx| {
                Ok((
                    store::sessions::get_session(tx, &[2; 32])?.is_some(),
                    store::audit::list_audit(tx, 10)?,
                ))
            })
            .await
            .unwrap();
        assert!(left, "the laptop session is alive");
        assert_eq!(audit[0].event, "staff.session_end");
        assert_eq!(audit[0].detail.as_deref(), Some("idle (swept)"));

        clock.advance(TimeDuration::days(2));
        let swept = svc.sweep_expired_sessions().await.unwrap();
        assert_eq!(swept, Swept { staff: 1, headset: 1 });
        assert_eq!(svc.sweep_expired_sessions().await.unwrap(), Swept::default());
    }
}
