//! The durable work queue: claiming, completing and retrying jobs.
//!
//! A job row exists exactly while its report waits for (re)processing. Claiming stamps
//! the row with a fresh claim token and a lease; completing deletes the row **with that
//! token** in the same transaction that writes the results. A worker whose lease ran out
//! and whose job was claimed again therefore writes nothing: every job takes effect once.
//!
//! PostgreSQL: several processes claim concurrently with `FOR UPDATE SKIP LOCKED`.
//! SQLite: the database has one writer at a time, so the claiming `UPDATE` is atomic.
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use crate::backend::{Get, Pool, dispatch, dispatch_write};
use crate::{
    CaseId, ClaimedJob, Millis, ParsedReport, ProcessResult, Processed, ReportId, Store,
    StoreError,
    cases::{CASE_UPSERT_HEAD, case_upsert_tail},
};

/// First-time results of one batch that join the same case.
struct CaseGroup<'a> {
    /// The first report: its attribution and deadlines open the case if it is new.
    first: &'a ParsedReport,
    count: i64,
    needs_full_headers: bool,
    first_report_at: Millis,
    last_report_at: Millis,
    updated_at: Millis,
}

impl<'a> CaseGroup<'a> {
    fn new(first: &'a ParsedReport, received_at: Millis, processed_at: Millis) -> Self {
        CaseGroup {
            first,
            count: 0,
            needs_full_headers: false,
            first_report_at: received_at,
            last_report_at: received_at,
            updated_at: processed_at,
        }
    }

    fn add(&mut self, r: &ParsedReport, received_at: Millis, processed_at: Millis) {
        self.count += 1;
        self.needs_full_headers |= r.case.needs_full_headers;
        self.first_report_at = self.first_report_at.min(received_at);
        self.last_report_at = self.last_report_at.max(received_at);
        self.updated_at = self.updated_at.max(processed_at);
    }
}

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
        let claimed: Vec<(ReportId, i64)> = dispatch_write!(self, pool => {
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
        // The claim is committed: reading the reports needs no turn at writing.
        drop(_writing);
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
    ///
    /// A batch goes in with a few multi-row statements (one upsert for all its cases, one
    /// insert for all its events, one update for all its processed reports); only taking
    /// a re-processed report out of its old case, and unparseable reports, go row by row.
    pub async fn complete(&self, results: &[Processed]) -> Result<Vec<Completion>, StoreError> {
        let _writing = self.writer().await;
        let upsert_tail = case_upsert_tail(&self.pool);
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut out = vec![Completion::LostClaim; results.len()];

            // 1. The jobs whose claim is still ours, taken off the queue.
            let mut by_claim: BTreeMap<&str, Vec<ReportId>> = BTreeMap::new();
            for p in results {
                by_claim.entry(p.claim.as_str()).or_default().push(p.report_id);
            }
            let mut ours: HashSet<ReportId> = HashSet::with_capacity(results.len());
            for (claim, ids) in &by_claim {
                for chunk in crate::statement_chunks(ids) {
                    let mut qb = sqlx::QueryBuilder::new("DELETE FROM jobs WHERE claim = ");
                    qb.push_bind(*claim).push(" AND report_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") RETURNING report_id");
                    for row in qb.build().fetch_all(&mut *tx).await? {
                        ours.insert(row.i64("report_id")?);
                    }
                }
            }
            if ours.is_empty() {
                tx.commit().await?;
                return Ok(out);
            }

            // 2. Their current case and arrival time.
            let mut current: HashMap<ReportId, (Option<CaseId>, Millis)> =
                HashMap::with_capacity(ours.len());
            let ids: Vec<ReportId> = ours.iter().copied().collect();
            for chunk in crate::statement_chunks(&ids) {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT id, case_id, received_at FROM reports WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                for row in qb.build().fetch_all(&mut *tx).await? {
                    current.insert(row.i64("id")?, (row.oi64("case_id")?, row.i64("received_at")?));
                }
            }

            // 3. Each result: a report leaving its old case is taken out of it (row by row:
            // re-processing is rare); one staying in its open case changes no counter;
            // every other parsed report joins its case in bulk below.
            let mut groups: Vec<CaseGroup<'_>> = Vec::new();
            let mut group_of: HashMap<(&str, &str), usize> = HashMap::new();
            let mut joining: Vec<(usize, &ParsedReport, Millis)> = Vec::new();
            // (result index, report, its case): the processed reports to write.
            let mut updates: Vec<(usize, &ParsedReport, CaseId)> = Vec::with_capacity(results.len());
            for (i, p) in results.iter().enumerate() {
                // A report listed twice takes effect once: its job row is gone after the first.
                if !ours.remove(&p.report_id) {
                    continue;
                }
                let (old_case, received_at) = *current.get(&p.report_id).ok_or_else(|| {
                    StoreError::Corrupt(format!("job for report {} has no report", p.report_id))
                })?;
                // The open case a re-processed report stays in (same kind and target).
                let mut stays_in = None;
                if let (ProcessResult::Parsed(r), Some(old)) = (&p.result, old_case) {
                    stays_in = sqlx::query(
                        "SELECT id FROM cases WHERE id = $1 AND kind = $2 AND target = $3 \
                         AND closed_at IS NULL",
                    )
                    .bind(old)
                    .bind(&r.kind)
                    .bind(&r.case.target)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|_| old);
                }
                if let Some(old) = old_case
                    && stays_in.is_none()
                {
                    let reason = match p.result {
                        ProcessResult::Parsed(_) => "re-processed into another case",
                        ProcessResult::Unparseable { .. } => "re-processed: unparseable",
                    };
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
                    .bind(json!({ "reason": reason }).to_string())
                    .execute(&mut *tx)
                    .await?;
                }
                match (&p.result, stays_in) {
                    (ProcessResult::Parsed(r), Some(case_id)) => {
                        sqlx::query(
                            "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                             VALUES ($1, $2, 'report_reprocessed', $3, $4)",
                        )
                        .bind(case_id)
                        .bind(p.processed_at)
                        .bind(p.report_id)
                        .bind(json!({}).to_string())
                        .execute(&mut *tx)
                        .await?;
                        updates.push((i, r, case_id));
                        out[i] = Completion::Written { case_id: Some(case_id), case_opened: false };
                    }
                    (ProcessResult::Parsed(r), None) => {
                        let key = (r.kind.as_str(), r.case.target.as_str());
                        let g = *group_of.entry(key).or_insert_with(|| {
                            groups.push(CaseGroup::new(r, received_at, p.processed_at));
                            groups.len() - 1
                        });
                        groups[g].add(r, received_at, p.processed_at);
                        joining.push((i, r, received_at));
                    }
                    (ProcessResult::Unparseable { format, error, detail }, _) => {
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
                        out[i] = Completion::Written { case_id: None, case_opened: false };
                    }
                }
            }

            // 4. One upsert per chunk of cases: a new case, or more reports in the open one.
            let mut case_of: HashMap<(&str, &str), (CaseId, bool)> = HashMap::new();
            for chunk in crate::statement_chunks(&groups) {
                let mut qb = sqlx::QueryBuilder::new(CASE_UPSERT_HEAD);
                qb.push_values(chunk, |mut row, g| {
                    let a = &g.first.attribution;
                    row.push_bind(&g.first.kind)
                        .push_bind(&g.first.case.target)
                        .push_bind(a.scope.as_str())
                        .push_bind(&a.contract)
                        .push_bind(&a.network)
                        .push_bind(&a.country)
                        .push_bind(&a.abuse_contact)
                        .push_bind(&a.reason)
                        .push_bind("open")
                        .push_bind(g.count)
                        .push_bind(g.needs_full_headers)
                        .push_bind(g.first_report_at)
                        .push_bind(g.last_report_at)
                        .push_bind(g.updated_at)
                        .push_bind(g.updated_at)
                        .push_bind(g.first.case.respond_by)
                        .push_bind(g.first.case.resolve_by);
                });
                qb.push(upsert_tail);
                for row in qb.build().fetch_all(&mut *tx).await? {
                    let (kind, target) = (row.string("kind")?, row.string("target")?);
                    let Some(&g) = group_of.get(&(kind.as_str(), target.as_str())) else {
                        return Err(StoreError::Corrupt(format!(
                            "the store returned an unknown case {kind} {target}"
                        )));
                    };
                    let first = groups[g].first;
                    let opened = row.i64("report_count")? == groups[g].count;
                    case_of.insert((first.kind.as_str(), first.case.target.as_str()), (row.i64("id")?, opened));
                }
            }

            // Events, in report order within each case: `case_opened` before its first
            // report, then one `report_added` per report.
            let mut events: Vec<(CaseId, Millis, &'static str, ReportId, String)> =
                Vec::with_capacity(joining.len() + groups.len());
            let mut announced: HashSet<CaseId> = HashSet::new();
            for &(i, r, received_at) in &joining {
                let p = &results[i];
                let &(case_id, opened) = case_of
                    .get(&(r.kind.as_str(), r.case.target.as_str()))
                    .ok_or_else(|| StoreError::Corrupt(format!("no case came back for {}", r.case.target)))?;
                let a = &r.attribution;
                let announcing = opened && announced.insert(case_id);
                if announcing {
                    events.push((case_id, p.processed_at, "case_opened", p.report_id, json!({
                        "kind": r.kind,
                        "target": r.case.target,
                        "scope": a.scope,
                        "reason": a.reason,
                    }).to_string()));
                }
                events.push((case_id, p.processed_at, "report_added", p.report_id, json!({
                    "received_at": received_at,
                    "format": r.format,
                    "source_ip": r.source_ip,
                    "event_time": r.origin_time.or(r.event_time),
                }).to_string()));
                updates.push((i, r, case_id));
                out[i] = Completion::Written { case_id: Some(case_id), case_opened: announcing };
            }
            for chunk in crate::statement_chunks(&events) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO case_events (case_id, at, type, report_id, detail) ",
                );
                qb.push_values(chunk, |mut row, e| {
                    row.push_bind(e.0).push_bind(e.1).push_bind(e.2).push_bind(e.3).push_bind(&e.4);
                });
                qb.build().execute(&mut *tx).await?;
            }

            // 5. The processed reports, one multi-row update per chunk.
            for chunk in crate::statement_chunks(&updates) {
                let mut qb = sqlx::QueryBuilder::new(
                    "WITH v (id, format, kind, reporter, source_ip, source_port, event_time, \
                     origin_time, time_basis, scope, contract, network, country, abuse_contact, \
                     reason, case_id, detail, processed_at) AS (",
                );
                qb.push_values(chunk, |mut row, &(i, r, case_id)| {
                    let p = &results[i];
                    let a = &r.attribution;
                    row.push_bind(p.report_id)
                        .push_bind(&r.format)
                        .push_bind(&r.kind)
                        .push_bind(&r.reporter)
                        .push_bind(&r.source_ip)
                        .push_bind(r.source_port)
                        .push_bind(r.event_time)
                        .push_bind(r.origin_time)
                        .push_bind(&r.time_basis)
                        .push_bind(a.scope.as_str())
                        .push_bind(&a.contract)
                        .push_bind(&a.network)
                        .push_bind(&a.country)
                        .push_bind(&a.abuse_contact)
                        .push_bind(&a.reason)
                        .push_bind(case_id)
                        .push_bind(r.detail.to_string())
                        .push_bind(p.processed_at);
                });
                qb.push(
                    ") UPDATE reports SET status = 'processed', format = v.format, kind = v.kind, \
                     reporter = v.reporter, source_ip = v.source_ip, source_port = v.source_port, \
                     event_time = v.event_time, origin_time = v.origin_time, \
                     time_basis = v.time_basis, scope = v.scope, contract = v.contract, \
                     network = v.network, country = v.country, abuse_contact = v.abuse_contact, \
                     reason = v.reason, case_id = v.case_id, error = NULL, detail = v.detail, \
                     processed_at = v.processed_at FROM v WHERE reports.id = v.id",
                );
                qb.build().execute(&mut *tx).await?;
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
        dispatch_write!(self, pool => {
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
        dispatch_write!(self, pool => {
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
        dispatch_write!(self, pool => {
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
