//! Group commit: write transactions commit without an fsync, and one durable commit at a time
//! makes every commit before it durable; each writer answers only once its own commit is covered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use redb::{Database, Durability};

use super::StoreError;

/// Sequence numbers of write transactions and how far they are durable.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    /// The number of write transactions begun (each takes the next number while it holds redb's
    /// single writer slot, so numbers follow commit order).
    begun: AtomicU64,
    state: Mutex<State>,
    flushed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Every transaction numbered up to this is durable (or was never committed).
    durable: u64,
    /// A writer is running the durable commit now.
    flushing: bool,
}

impl GroupCommit {
    /// Number a write transaction; call while holding it.
    pub(super) fn begun(&self) -> u64 {
        self.begun.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Return once transaction `seq` (committed) is durable. The first waiter with no flush
    /// running runs `flush`, which returns the highest number it covered; the others wait for it.
    pub(super) fn wait_durable(
        &self,
        seq: u64,
        flush: impl Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        loop {
            if state.durable >= seq {
                return Ok(());
            }
            if state.flushing {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            state.flushing = true;
            drop(state);
            // Every transaction numbered before this read has committed or given up by the time
            // the flush's own write transaction begins, which waits for the writer slot.
            let result = flush_covering(&self.begun, &flush);
            state = self.lock();
            state.flushing = false;
            if let Ok(covered) = result {
                state.durable = state.durable.max(covered);
            }
            self.flushed.notify_all();
            result?;
        }
    }
}

fn flush_covering(begun: &AtomicU64, flush: &impl Fn() -> Result<(), StoreError>) -> Result<u64, StoreError> {
    // Read before the flush begins: numbers taken later may not be covered, and are not claimed.
    let covered = begun.load(Ordering::SeqCst);
    flush()?;
    Ok(covered)
}

/// One empty write transaction committed durably: redb then fsyncs, which makes every earlier
/// non-durable commit durable too.
pub(super) fn flush(db: &Database) -> Result<(), StoreError> {
    let mut tx = db.begin_write()?;
    tx.set_durability(Durability::Immediate)
        .map_err(|e| StoreError::Redb(e.to_string()))?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn one_flush_covers_every_transaction_begun_before_it() {
        let g = GroupCommit::default();
        let (a, b, c) = (g.begun(), g.begun(), g.begun());
        let calls = Cell::new(0);
        let flush = || {
            calls.set(calls.get() + 1);
            Ok(())
        };
        g.wait_durable(a, flush).unwrap();
        g.wait_durable(b, flush).unwrap();
        g.wait_durable(c, flush).unwrap();
        assert_eq!(calls.get(), 1, "b and c were covered by a's flush");
        let d = g.begun();
        g.wait_durable(d, flush).unwrap();
        assert_eq!(
            calls.get(),
            2,
            "a transaction begun after the flush needs its own"
        );
    }

    #[test]
    fn a_failed_flush_is_an_error_and_the_next_waiter_tries_again() {
        let g = GroupCommit::default();
        let a = g.begun();
        let err = g
            .wait_durable(a, || Err(StoreError::Redb("disk full".into())))
            .unwrap_err();
        assert!(err.to_string().contains("disk full"));
        let calls = Cell::new(0);
        g.wait_durable(a, || {
            calls.set(calls.get() + 1);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls.get(), 1);
    }
}
