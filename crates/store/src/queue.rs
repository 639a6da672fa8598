//! The durable work queue: claiming, completing and retrying jobs.
//!
//! A job row exists exactly while its report waits for (re)processing. Claiming stamps
//! the row with a fresh claim token and a lease; completing deletes the row **with that
//! token** in the same transaction that writes the results. A worker whose lease ran out
//! and whose job was claimed again therefore writes nothing: every job takes effect once.
//!
//! PostgreSQL: several processes claim concurrently with `FOR UPDATE SKIP LOCKED`.
//! SQLite: the database has one writer at a time, so the claiming `UPDATE` is atomic.
use serde_json::json;

use crate::backend::{Get, Pool, dispatch};
use crate::{
    CaseId, ClaimedJob, Millis, ProcessResult, Processed, ReportId, Store, StoreError,
    cases::CaseSql,
};

/// What happened to one completed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Results written; the report is in this case (if any).
    Written {
        case_id: Option<CaseId>,
        case_opened: bool,
    },
    /// The claim was no longer ours (lease expired and someone else took the job):
    /// nothing was written.
    LostClaim,
}

const CLAIM_SQLITE: &str = "UPDATE jobs SET claim = $1, locked_until = $2, attempts = attempts + 1 \
     WHERE report_id IN (SELECT report_id FROM jobs \
        WHERE available_at <= $3 AND (locked_until IS NULL OR locked_until <= $3) \
        ORDER BY available_at, report_id LIMIT $4) \
     RETURNING report_id, attempts";
const CLAIM_POSTGRES: &str = "UPDATE jobs SET claim = $1, locked_until = $2, attempts = attempts + 1 \
     WHERE report_id IN (SELECT report_id FROM jobs \
        WHERE available_at <= $3 AND (locked_until IS NULL OR locked_until <= $3) \
        ORDER BY available_at, report_id LIMIT $4 FOR UPDATE SKIP LOCKED) \
     RETURNING report_id, attempts";

impl Store {
    /// Claim up to `limit` jobs that are due at `now`, leased until `now + lease_ms`.
    /// `worker` names the claimant in the claim token (for operators reading the table).
    pub async fn claim(
        &self,
        worker: &str,
        limit: i64,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let _writing = self.writer().await;
        let claim = format!("{worker}:{}", crate::tokens::random_hex(8));
        let sql = match self.pool {
            Pool::Sqlite(_) => CLAIM_SQLITE,
            Pool::Postgres(_) => CLAIM_POSTGRES,
        };
        let claimed: Vec<(ReportId, i64)> = dispatch!(self, pool => {
            let rows = sqlx::query(sql)
                .bind(&claim)
                .bind(now.saturating_add(lease_ms))
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok((r.i64("report_id")?, r.i64("attempts")?)))
                .collect::<Result<_, sqlx::Error>>()?
        });
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut jobs: Vec<ClaimedJob> = dispatch!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT r.id, r.channel, r.content_type, r.received_at, b.data \
                 FROM reports r JOIN blobs b ON b.sha256 = r.sha256 WHERE r.id IN (",
            );
            let mut sep = qb.separated(", ");
            for (id, _) in &claimed {
                sep.push_bind(*id);
            }
            qb.push(")");
            let rows = qb.build().fetch_all(pool).await?;
            let mut jobs = Vec::with_capacity(rows.len());
            for r in &rows {
                let id = r.i64("id")?;
                let attempts = claimed.iter().find(|(j, _)| *j == id).map(|(_, a)| *a).unwrap_or(1);
                jobs.push(ClaimedJob {
                    report_id: id,
                    claim: claim.clone(),
                    attempts,
                    raw: r.bytes("data")?,
                    channel: parse_enum(&r.string("channel")?, crate::Channel::parse)?,
                    content_type: parse_enum(&r.string("content_type")?, crate::ContentType::parse)?,
                    received_at: r.i64("received_at")?,
                });
            }
            jobs
        });
        jobs.sort_by_key(|j| j.report_id);
        Ok(jobs)
    }

    /// Write the results of processed jobs, each with its case bookkeeping, in one
    /// transaction. Results whose claim is stale are skipped ([`Completion::LostClaim`]).
    pub async fn complete(&self, results: &[Processed]) -> Result<Vec<Completion>, StoreError> {
        let _writing = self.writer().await;
        let csql = CaseSql::for_pool(&self.pool);
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut out = Vec::with_capacity(results.len());
            for p in results {
                let deleted = sqlx::query("DELETE FROM jobs WHERE report_id = $1 AND claim = $2")
                    .bind(p.report_id)
                    .bind(&p.claim)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if deleted == 0 {
                    out.push(Completion::LostClaim);
                    continue;
                }
                let row = sqlx::query("SELECT case_id, received_at FROM reports WHERE id = $1")
                    .bind(p.report_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let old_case = row.oi64("case_id")?;
                let received_at = row.i64("received_at")?;
                match &p.result {
                    ProcessResult::Parsed(r) => {
                        // Re-processing into the same open case changes no counter.
                        let mut same_case = None;
                        if let Some(old) = old_case {
                            let hit = sqlx::query(
                                "SELECT id FROM cases WHERE id = $1 AND kind = $2 AND target = $3 \
                                 AND closed_at IS NULL",
                            )
                            .bind(old)
                            .bind(&r.kind)
                            .bind(&r.case.target)
                            .fetch_optional(&mut *tx)
                            .await?;
                            same_case = hit.map(|_| old);
                        }
                        let (case_id, opened) = if let Some(id) = same_case {
                            sqlx::query(
                                "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                                 VALUES ($1, $2, 'report_reprocessed', $3, $4)",
                            )
                            .bind(id)
                            .bind(p.processed_at)
                            .bind(p.report_id)
                            .bind(json!({}).to_string())
                            .execute(&mut *tx)
                            .await?;
                            (id, false)
                        } else {
                            if let Some(old) = old_case {
                                sqlx::query(
                                    "UPDATE cases SET report_count = report_count - 1, updated_at = $2 \
                                     WHERE id = $1",
                                )
                                .bind(old)
                                .bind(p.processed_at)
                                .execute(&mut *tx)
                                .await?;
                                sqlx::query(
                                    "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                                     VALUES ($1, $2, 'report_removed', $3, $4)",
                                )
                                .bind(old)
                                .bind(p.processed_at)
                                .bind(p.report_id)
                                .bind(json!({"reason": "re-processed into another case"}).to_string())
                                .execute(&mut *tx)
                                .await?;
                            }
                            let a = &r.attribution;
                            let row = sqlx::query(csql.upsert)
                                .bind(&r.kind)
                                .bind(&r.case.target)
                                .bind(a.scope.as_str())
                                .bind(&a.contract)
                                .bind(&a.network)
                                .bind(&a.country)
                                .bind(&a.abuse_contact)
                                .bind(&a.reason)
                                .bind(r.case.needs_full_headers)
                                .bind(received_at)
                                .bind(p.processed_at)
                                .bind(r.case.respond_by)
                                .bind(r.case.resolve_by)
                                .fetch_one(&mut *tx)
                                .await?;
                            let id = row.i64("id")?;
                            let opened = row.i64("report_count")? == 1;
                            if opened {
                                sqlx::query(
                                    "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                                     VALUES ($1, $2, 'case_opened', $3, $4)",
                                )
                                .bind(id)
                                .bind(p.processed_at)
                                .bind(p.report_id)
                                .bind(json!({
                                    "kind": r.kind,
                                    "target": r.case.target,
                                    "scope": a.scope,
                                    "reason": a.reason,
                                }).to_string())
                                .execute(&mut *tx)
                                .await?;
                            }
                            sqlx::query(
                                "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                                 VALUES ($1, $2, 'report_added', $3, $4)",
                            )
                            .bind(id)
                            .bind(p.processed_at)
                            .bind(p.report_id)
                            .bind(json!({
                                "received_at": received_at,
                                "format": r.format,
                                "source_ip": r.source_ip,
                                "event_time": r.origin_time.or(r.event_time),
                            }).to_string())
                            .execute(&mut *tx)
                            .await?;
                            (id, opened)
                        };
                        let a = &r.attribution;
                        sqlx::query(
                            "UPDATE reports SET status = 'processed', format = $2, kind = $3, \
                             reporter = $4, source_ip = $5, source_port = $6, event_time = $7, \
                             origin_time = $8, time_basis = $9, scope = $10, contract = $11, \
                             network = $12, country = $13, abuse_contact = $14, reason = $15, \
                             case_id = $16, error = NULL, detail = $17, processed_at = $18 \
                             WHERE id = $1",
                        )
                        .bind(p.report_id)
                        .bind(&r.format)
                        .bind(&r.kind)
                        .bind(&r.reporter)
                        .bind(&r.source_ip)
                        .bind(r.source_port)
                        .bind(r.event_time)
                        .bind(r.origin_time)
                        .bind(&r.time_basis)
                        .bind(a.scope.as_str())
                        .bind(&a.contract)
                        .bind(&a.network)
                        .bind(&a.country)
                        .bind(&a.abuse_contact)
                        .bind(&a.reason)
                        .bind(case_id)
                        .bind(r.detail.to_string())
                        .bind(p.processed_at)
                        .execute(&mut *tx)
                        .await?;
                        out.push(Completion::Written { case_id: Some(case_id), case_opened: opened });
                    }
                    ProcessResult::Unparseable { format, error, detail } => {
                        if let Some(old) = old_case {
                            sqlx::query(
                                "UPDATE cases SET report_count = report_count - 1, updated_at = $2 \
                                 WHERE id = $1",
                            )
                            .bind(old)
                            .bind(p.processed_at)
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query(
                                "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                                 VALUES ($1, $2, 'report_removed', $3, $4)",
                            )
                            .bind(old)
                            .bind(p.processed_at)
                            .bind(p.report_id)
                            .bind(json!({"reason": "re-processed: unparseable"}).to_string())
                            .execute(&mut *tx)
                            .await?;
                        }
                        sqlx::query(
                            "UPDATE reports SET status = 'unparseable', format = $2, kind = NULL, \
                             reporter = NULL, source_ip = NULL, source_port = NULL, event_time = NULL, \
                             origin_time = NULL, time_basis = NULL, scope = NULL, contract = NULL, \
                             network = NULL, country = NULL, abuse_contact = NULL, reason = NULL, \
                             case_id = NULL, error = $3, detail = $4, processed_at = $5 WHERE id = $1",
                        )
                        .bind(p.report_id)
                        .bind(format)
                        .bind(error)
                        .bind(detail.to_string())
                        .bind(p.processed_at)
                        .execute(&mut *tx)
                        .await?;
                        out.push(Completion::Written { case_id: None, case_opened: false });
                    }
                }
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Give a claimed job back after a failure that may pass (it is retried at
    /// `retry_at`). Does nothing if the claim is stale.
    pub async fn retry_later(
        &self,
        report_id: ReportId,
        claim: &str,
        error: &str,
        retry_at: Millis,
    ) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch!(self, pool => {
            let n = sqlx::query(
                "UPDATE jobs SET claim = NULL, locked_until = NULL, available_at = $3, last_error = $4 \
                 WHERE report_id = $1 AND claim = $2",
            )
            .bind(report_id)
            .bind(claim)
            .bind(retry_at)
            .bind(error)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(n > 0)
        })
    }

    /// Queue a stored report for processing again (e.g. after the registry changed).
    /// Returns `false` when the report does not exist. A report already queued stays
    /// queued once.
    pub async fn requeue(&self, report_id: ReportId, now: Millis) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch!(self, pool => {
            let exists = sqlx::query("SELECT 1 FROM reports WHERE id = $1")
                .bind(report_id)
                .fetch_optional(pool)
                .await?
                .is_some();
            if !exists {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO jobs (report_id, available_at) VALUES ($1, $2) \
                 ON CONFLICT (report_id) DO NOTHING",
            )
            .bind(report_id)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(true)
        })
    }

    /// Drop every lease, making all jobs claimable at once. Only for a single-process
    /// store (SQLite) at start-up: the previous process is gone, so are its claims.
    pub async fn release_all_claims(&self) -> Result<u64, StoreError> {
        let _writing = self.writer().await;
        dispatch!(self, pool => {
            Ok(sqlx::query("UPDATE jobs SET claim = NULL, locked_until = NULL WHERE claim IS NOT NULL")
                .execute(pool)
                .await?
                .rows_affected())
        })
    }

    /// Number of jobs waiting or in progress.
    pub async fn queue_depth(&self) -> Result<i64, StoreError> {
        dispatch!(self, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM jobs").fetch_one(pool).await?;
            Ok(row.i64("n")?)
        })
    }
}

pub(crate) fn parse_enum<T>(s: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("unexpected value {s:?}")))
}
