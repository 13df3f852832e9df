//! Print jobs: what they print (a badge or an on-site list), their states, why a print failed, and the retry rules (backoff, failover, giving up).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::{NoContext, Timestamp, Uuid};

use super::badge::BadgeNumber;
use super::ids::UserId;
use super::on_site::OnSiteList;

/// A new job ID: UUIDv7 at `now`, so the queue's key order is the order jobs were made.
pub fn new_job_id(now: OffsetDateTime) -> Uuid {
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(NoContext, secs, now.nanosecond()))
}

/// Where a job stands, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its printer (first try, or a retry after a fault).
    Queued,
    /// Being sent to the printer now.
    Printing,
    Printed,
    /// Given up on after the last retry; staff must look.
    Failed,
}

/// Why a printer did not take a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum PrintFault {
    #[error("the printer is out of paper")]
    PaperOut,
    #[error("the printer's cover is open")]
    CoverOpen,
    #[error("the printer is offline or in error")]
    Offline,
    #[error("the printer refused the connection")]
    Refused,
    #[error("the printer did not answer in time")]
    Timeout,
    #[error("the connection to the printer dropped")]
    Dropped,
    #[error("the printer or its device could not be reached")]
    Unreachable,
    #[error("the badge could not be made for this printer")]
    Unprintable,
}

/// Retry rules, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries before a job is failed for good (failover printer included).
    pub max_attempts: u32,
    /// Wait after the first failure; doubles per attempt.
    pub base: Duration,
    /// Longest wait between tries.
    pub max: Duration,
}

impl RetryPolicy {
    /// Wait before try number `attempts + 1`, after `attempts` failures.
    pub fn delay(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(20);
        let d = self.base.saturating_mul(1i32 << shift);
        if d > self.max { self.max } else { d }
    }
}

/// What a job prints. Stored flattened into the job and told apart by its fields, so a job
/// record written before lists could print (`badge` + `user_id` at the top) still reads as a
/// badge job, and a badge job is written exactly as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JobWork {
    /// A user's badge; the badge and its holder are read from the store when it prints.
    Badge { badge: BadgeNumber, user_id: UserId },
    /// The on-site list as it was when staff asked (the roll call needs that moment's list).
    OnSiteList { on_site_list: OnSiteList },
}

/// What a job prints, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Badge,
    OnSiteList,
}

/// One thing to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    pub id: Uuid,
    #[serde(flatten)]
    pub work: JobWork,
    /// The configured printer's name the job goes to now (it may move to the failover printer).
    pub printer: String,
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<PrintFault>,
    /// The failing printer's own words, for staff (e.g. "connection refused").
    #[serde(default)]
    pub last_error_detail: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
}

impl PrintJob {
    /// A badge job.
    pub fn new(
        id: Uuid,
        badge: BadgeNumber,
        user_id: UserId,
        printer: String,
        now: OffsetDateTime,
    ) -> PrintJob {
        PrintJob::queued(id, JobWork::Badge { badge, user_id }, printer, now)
    }

    /// A job printing `list`.
    pub fn on_site_list(id: Uuid, list: OnSiteList, printer: String, now: OffsetDateTime) -> PrintJob {
        PrintJob::queued(id, JobWork::OnSiteList { on_site_list: list }, printer, now)
    }

    fn queued(id: Uuid, work: JobWork, printer: String, now: OffsetDateTime) -> PrintJob {
        PrintJob {
            id,
            work,
            printer,
            state: JobState::Queued,
            attempts: 0,
            last_error: None,
            last_error_detail: None,
            created_at: now,
            updated_at: now,
            next_attempt_at: now,
        }
    }

    pub fn kind(&self) -> JobKind {
        match self.work {
            JobWork::Badge { .. } => JobKind::Badge,
            JobWork::OnSiteList { .. } => JobKind::OnSiteList,
        }
    }

    /// The badge and its holder, for a badge job.
    pub fn badge(&self) -> Option<(&BadgeNumber, &UserId)> {
        match &self.work {
            JobWork::Badge { badge, user_id } => Some((badge, user_id)),
            JobWork::OnSiteList { .. } => None,
        }
    }

    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        self.state == JobState::Queued && self.next_attempt_at <= now
    }

    pub fn start(&mut self, now: OffsetDateTime) {
        self.state = JobState::Printing;
        self.updated_at = now;
    }

    pub fn printed(&mut self, now: OffsetDateTime) {
        self.state = JobState::Printed;
        self.attempts = self.attempts.saturating_add(1);
        self.updated_at = now;
    }

    /// A try failed. The job moves to the failover printer when there is one it has not tried
    /// yet, waits its backoff, or fails for good after the last attempt.
    pub fn failed(
        &mut self,
        fault: PrintFault,
        detail: String,
        failover: Option<&str>,
        policy: &RetryPolicy,
        now: OffsetDateTime,
    ) {
        self.attempts = self.attempts.saturating_add(1);
        self.last_error = Some(fault);
        self.last_error_detail = Some(detail);
        self.updated_at = now;
        if self.attempts >= policy.max_attempts {
            self.state = JobState::Failed;
            return;
        }
        self.state = JobState::Queued;
        match failover {
            Some(other) if other != self.printer => {
                // A second printer is there: try it at once rather than wait for the first.
                self.printer = other.to_string();
                self.next_attempt_at = now;
            }
            _ => self.next_attempt_at = now + policy.delay(self.attempts),
        }
    }

    /// After a restart, a job caught mid-print is sent again (a duplicate badge beats a lost one).
    pub fn recover(&mut self, now: OffsetDateTime) {
        if self.state == JobState::Printing {
            self.state = JobState::Queued;
            self.next_attempt_at = now;
            self.updated_at = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::seconds(2),
            max: Duration::seconds(5),
        }
    }

    fn job() -> PrintJob {
        PrintJob::new(
            Uuid::nil(),
            BadgeNumber::from_canonical("0123456789".into()),
            UserId::from_canonical("ABCDEFGHJK".into()),
            "front".into(),
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.delay(1), Duration::seconds(2));
        assert_eq!(p.delay(2), Duration::seconds(4));
        assert_eq!(p.delay(3), Duration::seconds(5));
        assert_eq!(p.delay(100), Duration::seconds(5));
    }

    #[test]
    fn a_fault_waits_then_fails_for_good_after_the_last_attempt() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut j = job();
        j.start(t0);
        j.failed(PrintFault::PaperOut, "paper".into(), None, &policy(), t0);
        assert_eq!(j.state, JobState::Queued);
        assert!(!j.is_due(t0));
        assert!(j.is_due(t0 + Duration::seconds(2)));
        for _ in 0..3 {
            j.failed(PrintFault::Timeout, "t".into(), None, &policy(), t0);
        }
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.last_error, Some(PrintFault::Timeout));
    }

    #[test]
    fn a_fault_moves_the_job_to_the_failover_printer_at_once() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut j = job();
        j.failed(PrintFault::Refused, "r".into(), Some("back"), &policy(), t0);
        assert_eq!(j.printer, "back");
        assert!(j.is_due(t0));
        j.failed(PrintFault::Refused, "r".into(), Some("back"), &policy(), t0);
        assert_eq!(j.printer, "back");
        assert!(!j.is_due(t0));
    }

    /// A job record as sitegate wrote it before jobs could print anything but a badge.
    const OLD_BADGE_JOB: &str = r#"{"id":"0192f0a4-5b6c-7d8e-9f00-112233445566","badge":"0123456789","user_id":"ABCDEFGHJK","printer":"front","state":"printed","attempts":1,"last_error":null,"created_at":"2026-11-25T08:55:00Z","updated_at":"2026-11-25T08:55:02Z","next_attempt_at":"2026-11-25T08:55:00Z"}"#;

    #[test]
    fn a_job_record_from_before_lists_still_reads_as_a_badge_job() {
        let j: PrintJob = serde_json::from_str(OLD_BADGE_JOB).unwrap();
        assert_eq!(j.kind(), JobKind::Badge);
        let (badge, user) = j.badge().unwrap();
        assert_eq!(badge.as_str(), "0123456789");
        assert_eq!(user, &UserId::from_canonical("ABCDEFGHJK".into()));
        assert_eq!(j.state, JobState::Printed);
        assert_eq!(j.last_error_detail, None);
    }

    #[test]
    fn a_badge_job_is_written_as_before_and_a_list_job_round_trips() {
        let v = serde_json::to_value(job()).unwrap();
        assert_eq!(v["badge"], "0123456789");
        assert_eq!(v["user_id"], "ABCDEFGHJK");
        assert!(v.get("on_site_list").is_none());

        let list = OnSiteList {
            site: "Gate".into(),
            generated_at: OffsetDateTime::UNIX_EPOCH,
            people: vec![crate::domain::on_site::OnSitePerson {
                given_name: "Алексей".into(),
                family_name: "Смирнов".into(),
                user_id: "ABCDE-FGHJK".into(),
                class_title: "Heights".into(),
                room: "Room 2".into(),
                checked_in_at: None,
            }],
        };
        let j = PrintJob::on_site_list(
            Uuid::nil(),
            list.clone(),
            "front".into(),
            OffsetDateTime::UNIX_EPOCH,
        );
        let back: PrintJob = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
        assert_eq!(back, j);
        assert_eq!(back.kind(), JobKind::OnSiteList);
        assert!(back.badge().is_none());
        assert_eq!(back.work, JobWork::OnSiteList { on_site_list: list });
    }

    #[test]
    fn a_job_caught_printing_is_queued_again() {
        let mut j = job();
        j.start(OffsetDateTime::UNIX_EPOCH);
        j.recover(OffsetDateTime::UNIX_EPOCH);
        assert!(j.is_due(OffsetDateTime::UNIX_EPOCH));
    }
}
