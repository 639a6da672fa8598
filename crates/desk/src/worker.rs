//! Processing workers: claim jobs from the durable queue, process them, write the results
//! and the case bookkeeping in one transaction. Several workers (and several processes
//! on one PostgreSQL) run side by side; the queue makes every job take effect once.
use std::future::Future;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use abusedesk_smtp::CancellationToken;
use abusedesk_store::{ClaimedJob, Completion, Millis, Processed, Store};
use tokio::sync::Notify;

use crate::Clock;
use crate::config::WorkersConfig;
use crate::metrics::Metrics;
use crate::pipeline::{Draft, ExternalNetwork, ParseOutcome, Pipeline, ReportParser, unparseable};
use crate::registry_data::IndexCache;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Looks up an external address's network (RDAP).
pub trait NetworkLookup: Send + Sync + 'static {
    fn lookup(&self, ip: IpAddr) -> BoxFuture<'_, Result<ExternalNetwork, String>>;
}

/// What every worker shares.
pub struct WorkerContext {
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub parser: Arc<dyn ReportParser>,
    pub rdap: Option<Arc<dyn NetworkLookup>>,
    pub index: Arc<IndexCache>,
    pub metrics: Arc<Metrics>,
    pub wake: Arc<Notify>,
    pub config: WorkersConfig,
    pub clock: Arc<dyn Clock>,
    /// Names this process in claim tokens.
    pub process_name: String,
}

enum Step {
    Done(abusedesk_store::ProcessResult),
    Draft(Box<Draft>),
}

fn process_one(
    ctx: &WorkerContext,
    job: &ClaimedJob,
    index: &abusedesk_registry::RegistryIndex,
) -> Step {
    if job.attempts > ctx.config.max_attempts {
        return Step::Done(unparseable(
            None,
            format!(
                "processing was started {} times without completing; giving up",
                job.attempts - 1
            ),
            vec![],
        ));
    }
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        ctx.parser.parse(&job.raw, job.content_type)
    }));
    let complaint = match parsed {
        Ok(ParseOutcome::Parsed(c)) => c,
        Ok(ParseOutcome::Unparseable {
            format,
            error,
            problems,
        }) => return Step::Done(unparseable(format, error, problems)),
        Err(_) => {
            tracing::error!(
                report = job.report_id,
                "the report parser panicked (a bug); report marked unparseable"
            );
            return Step::Done(unparseable(None, "internal error in the report parser (a bug); the report is kept and can be re-processed".into(), vec![]));
        }
    };
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        ctx.pipeline
            .analyze(job.report_id, *complaint, job.received_at, index)
    })) {
        Ok(d) => Step::Draft(Box::new(d)),
        Err(_) => {
            tracing::error!(
                report = job.report_id,
                "analysis panicked (a bug); report marked unparseable"
            );
            Step::Done(unparseable(None, "internal error while tracing or attributing (a bug); the report is kept and can be re-processed".into(), vec![]))
        }
    }
}

/// Run one worker until `shutdown`.
pub async fn run_worker(ctx: Arc<WorkerContext>, n: usize, shutdown: CancellationToken) {
    let name = format!("{}/{n}", ctx.process_name);
    let lease_ms = ctx.config.lease.as_millis() as i64;
    // The last claim found less than a full batch: let more work arrive first.
    let mut partial = false;
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        if partial && !ctx.config.gather.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(ctx.config.gather) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        let notified = ctx.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let jobs = match ctx
            .store
            .claim(&name, ctx.config.batch as i64, ctx.clock.now(), lease_ms)
            .await
        {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, worker = %name, "claiming work failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(ctx.config.poll * 4) => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
        };
        if jobs.is_empty() {
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(ctx.config.poll) => {}
                _ = shutdown.cancelled() => break,
            }
            partial = true;
            continue;
        }
        partial = jobs.len() < ctx.config.batch;
        if let Err(e) = process_batch(&ctx, jobs).await {
            tracing::error!(error = %e, worker = %name, "writing results failed; the jobs return to the queue when their lease ends");
            tokio::select! {
                _ = tokio::time::sleep(ctx.config.poll * 4) => {}
                _ = shutdown.cancelled() => break,
            }
        }
    }
}

async fn process_batch(
    ctx: &Arc<WorkerContext>,
    jobs: Vec<ClaimedJob>,
) -> Result<(), abusedesk_store::StoreError> {
    let started = Instant::now();
    let index = ctx.index.get(&ctx.store).await?;
    let ctx2 = ctx.clone();
    let jobs = Arc::new(jobs);
    let jobs2 = jobs.clone();
    let steps = tokio::task::spawn_blocking(move || {
        jobs2
            .iter()
            .map(|j| process_one(&ctx2, j, &index.1))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| abusedesk_store::StoreError::Corrupt(format!("worker thread failed: {e}")))?;

    // RDAP for external sources, concurrently (the client caches).
    let mut lookups = tokio::task::JoinSet::new();
    if let Some(rdap) = &ctx.rdap {
        let mut asked = std::collections::HashSet::new();
        for s in &steps {
            if let Step::Draft(d) = s
                && let Some(ip) = d.needs_rdap
                && asked.insert(ip)
            {
                let rdap = rdap.clone();
                lookups.spawn(async move { (ip, rdap.lookup(ip).await) });
            }
        }
    }
    let mut answers = std::collections::HashMap::new();
    while let Some(r) = lookups.join_next().await {
        if let Ok((ip, answer)) = r {
            answers.insert(ip, answer);
        }
    }

    let now: Millis = ctx.clock.now();
    let respond = ctx.pipeline.respond_within_ms;
    let results: Vec<Processed> = steps
        .into_iter()
        .zip(jobs.iter())
        .map(|(step, job)| {
            let result = match step {
                Step::Done(r) => r,
                Step::Draft(d) => {
                    let rdap = match (d.needs_rdap, &ctx.rdap) {
                        (Some(ip), Some(_)) => Some(
                            answers
                                .get(&ip)
                                .cloned()
                                .unwrap_or_else(|| Err("the lookup task failed".into())),
                        ),
                        _ => None,
                    };
                    d.finish(rdap, now, respond)
                }
            };
            Processed {
                report_id: job.report_id,
                claim: job.claim.clone(),
                processed_at: now,
                result,
            }
        })
        .collect();
    let completions = ctx.store.complete(&results).await?;
    let (mut ok, mut bad, mut lost) = (0u64, 0u64, 0u64);
    for (c, r) in completions.iter().zip(&results) {
        match (c, &r.result) {
            (Completion::LostClaim, _) => lost += 1,
            (_, abusedesk_store::ProcessResult::Unparseable { .. }) => bad += 1,
            _ => ok += 1,
        }
    }
    if lost > 0 {
        tracing::warn!(
            lost,
            "results discarded: their jobs had been claimed again after the lease ran out"
        );
    }
    ctx.metrics.processed(ok, bad, lost, started.elapsed());
    Ok(())
}
