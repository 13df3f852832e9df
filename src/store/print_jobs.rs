//! The stored print queue: jobs by UUIDv7, so key order is the order they were queued (PRINT_JOBS).

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::StoreError;
use super::codec::Versioned;
use super::tables::{PRINT_JOBS, names};
use super::tx::{ReadTx, get_record};
use crate::domain::print_job::{JobState, PrintJob};

pub fn get_job(tx: &impl ReadTx, id: Uuid) -> Result<Option<PrintJob>, StoreError> {
    get_record(tx, PRINT_JOBS, names::PRINT_JOBS, id.as_u128())
}

pub fn put_job(tx: &WriteTransaction, job: &PrintJob) -> Result<(), StoreError> {
    let encoded = Versioned::encode(job, names::PRINT_JOBS)?;
    tx.open_table(PRINT_JOBS)?.insert(job.id.as_u128(), encoded)?;
    Ok(())
}

/// Up to `limit` jobs, newest first.
pub fn list_jobs(tx: &impl ReadTx, limit: usize) -> Result<Vec<PrintJob>, StoreError> {
    let table = tx.table(PRINT_JOBS)?;
    let mut out = Vec::new();
    for row in table.iter()?.rev().take(limit) {
        let (_, v) = row?;
        out.push(v.value().decode(names::PRINT_JOBS)?);
    }
    Ok(out)
}

/// Jobs not finished (queued or printing), oldest first.
pub fn open_jobs(tx: &impl ReadTx) -> Result<Vec<PrintJob>, StoreError> {
    let table = tx.table(PRINT_JOBS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        let job: PrintJob = v.value().decode(names::PRINT_JOBS)?;
        if matches!(job.state, JobState::Queued | JobState::Printing) {
            out.push(job);
        }
    }
    Ok(out)
}

/// How many jobs the store holds in each state (every state named, zero included).
pub fn count_by_state(tx: &impl ReadTx) -> Result<[(JobState, u64); 4], StoreError> {
    let mut counts = [
        (JobState::Queued, 0),
        (JobState::Printing, 0),
        (JobState::Printed, 0),
        (JobState::Failed, 0),
    ];
    let table = tx.table(PRINT_JOBS)?;
    for row in table.iter()? {
        let (_, v) = row?;
        let job: PrintJob = v.value().decode(names::PRINT_JOBS)?;
        if let Some(c) = counts.iter_mut().find(|(s, _)| *s == job.state) {
            c.1 += 1;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::print_job::JobKind;

    #[test]
    fn a_stored_job_row_from_before_lists_still_decodes() {
        // Version byte 1 + the JSON a badge job was stored as before jobs had a kind.
        let mut row = vec![1u8];
        row.extend_from_slice(
            br#"{"id":"0192f0a4-5b6c-7d8e-9f00-112233445566","badge":"0123456789","user_id":"ABCDEFGHJK","printer":"front","state":"queued","attempts":0,"last_error":null,"created_at":"2026-11-25T08:55:00Z","updated_at":"2026-11-25T08:55:00Z","next_attempt_at":"2026-11-25T08:55:00Z"}"#,
        );
        let job: PrintJob = Versioned::<PrintJob>::from_raw(row)
            .decode(names::PRINT_JOBS)
            .unwrap();
        assert_eq!(job.kind(), JobKind::Badge);
        assert_eq!(job.state, JobState::Queued);
        assert_eq!(job.badge().map(|(b, _)| b.as_str()), Some("0123456789"));
    }
}
