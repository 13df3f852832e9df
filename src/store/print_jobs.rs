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
