//! Sync with the central system, the use-case side: applying pages, pushing the outbox, leases, join and leave, status and dead letters, and the sync task.

pub mod apply;
pub mod convert;
pub mod digest;
pub mod engine;
pub mod join;
pub mod lease;
pub mod local_edits;
pub mod outgoing;
pub mod status;
#[cfg(test)]
mod tests;
pub mod withdraw;
pub mod worker;
