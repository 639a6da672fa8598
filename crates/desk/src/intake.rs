//! Intake: every arriving report (SMTP, HTTP, `ingest`) goes through here. Concurrent
//! arrivals are committed together (group commit): one transaction, one fsync, many
//! acknowledgements. A submitter gets its answer only after the commit, so nothing it
//! acknowledges can be lost.
use std::sync::Arc;

use abusedesk_store::{Accepted, NewReport, Store};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::metrics::Metrics;

/// Why a report was not stored.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IntakeError {
    #[error("report is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: u64 },
    #[error("the store is unavailable")]
    Unavailable,
    #[error("the server is shutting down")]
    ShuttingDown,
}

struct Pending {
    report: NewReport,
    reply: oneshot::Sender<Result<Accepted, IntakeError>>,
}

/// A handle for submitting reports. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Pending>,
    max_bytes: u64,
}

/// Bytes committed in one transaction at most (on top of the count limit).
const BATCH_BYTES: usize = 64 * 1024 * 1024;

impl Intake {
    /// Start the committer task. `wake` is notified after each commit (the workers wait
    /// on it).
    pub fn start(
        store: Store,
        max_bytes: u64,
        batch: usize,
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> (Intake, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(batch.max(1) * 4);
        let task = tokio::spawn(committer(store, rx, batch.max(1), metrics, wake));
        (Intake { tx, max_bytes }, task)
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Store one report durably and queue it. Returns after the commit.
    pub async fn submit(&self, report: NewReport) -> Result<Accepted, IntakeError> {
        if report.raw.len() as u64 > self.max_bytes {
            return Err(IntakeError::TooLarge {
                size: report.raw.len(),
                limit: self.max_bytes,
            });
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending { report, reply })
            .await
            .map_err(|_| IntakeError::ShuttingDown)?;
        answer.await.unwrap_or(Err(IntakeError::ShuttingDown))
    }
}

async fn committer(
    store: Store,
    mut rx: mpsc::Receiver<Pending>,
    batch: usize,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
) {
    let mut pending: Vec<Pending> = Vec::with_capacity(batch);
    while let Some(first) = rx.recv().await {
        let mut bytes = first.report.raw.len();
        pending.push(first);
        // Wait for the turn to write first, then take everything that arrived meanwhile.
        let turn = store.write_turn().await;
        while pending.len() < batch && bytes < BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) => {
                    bytes += p.report.raw.len();
                    pending.push(p);
                }
                Err(_) => break,
            }
        }
        let (reports, replies): (Vec<NewReport>, Vec<_>) =
            pending.drain(..).map(|p| (p.report, p.reply)).unzip();
        let started = std::time::Instant::now();
        let stored = store.accept_in_turn(&turn, &reports).await;
        drop(turn);
        match stored {
            Ok(accepted) => {
                metrics.intake_commit(started.elapsed(), &reports, &accepted);
                for (reply, a) in replies.into_iter().zip(accepted) {
                    let _ = reply.send(Ok(a));
                }
                wake.notify_waiters();
            }
            Err(e) => {
                tracing::error!(error = %e, reports = reports.len(), "could not store reports; refusing them");
                metrics.intake_failed(reports.len());
                for reply in replies {
                    let _ = reply.send(Err(IntakeError::Unavailable));
                }
            }
        }
    }
}
