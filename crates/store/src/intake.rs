//! Storing arriving reports: blob, report row and queued job in one transaction.
use std::collections::HashMap;

use crate::backend::{Get, WriteTurn, dispatch_write};
use crate::{Accepted, NewReport, ReportId, ReportStatus, Store, StoreError, sha256_hex};

/// Blob bytes per `INSERT` at most (a statement holds its parameters in memory).
const BLOB_BYTES_PER_STATEMENT: usize = 16 * 1024 * 1024;

/// One distinct raw message of a batch.
struct Distinct<'a> {
    report: &'a NewReport,
    sha: String,
    size: i64,
    /// How many times these bytes occur in the batch.
    count: i64,
}

impl Store {
    /// Store a batch of arriving reports in **one transaction** and queue each new one
    /// for processing. When this returns `Ok`, every report in the batch is durable and
    /// may be acknowledged. Bytes seen before are not stored again: the earlier report is
    /// returned with `duplicate = true` (and its submission counter goes up, once per
    /// submission, also when the same bytes occur twice in one batch).
    ///
    /// Callers batch concurrent arrivals (group commit) to amortise the commit; the rows
    /// of a batch go in with a few multi-row statements, not three per report.
    pub async fn accept(&self, batch: &[NewReport]) -> Result<Vec<Accepted>, StoreError> {
        let turn = self.write_turn().await;
        self.accept_in_turn(&turn, batch).await
    }

    /// [`Store::accept`] for a caller that already waited for its turn to write: a
    /// group-committer takes its turn first and then collects everything that arrived
    /// while it waited, so a busy store commits fewer, larger batches.
    pub async fn accept_in_turn(
        &self,
        _turn: &WriteTurn<'_>,
        batch: &[NewReport],
    ) -> Result<Vec<Accepted>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // Distinct messages in order of first appearance; `slot[i]` is report i's.
        let mut distinct: Vec<Distinct<'_>> = Vec::with_capacity(batch.len());
        let mut by_sha: HashMap<String, usize> = HashMap::with_capacity(batch.len());
        let mut slot = Vec::with_capacity(batch.len());
        for report in batch {
            let sha = sha256_hex(&report.raw);
            let n = match by_sha.get(&sha) {
                Some(&n) => {
                    distinct[n].count += 1;
                    n
                }
                None => {
                    let size = i64::try_from(report.raw.len())
                        .map_err(|_| StoreError::Corrupt("report larger than i64".into()))?;
                    by_sha.insert(sha.clone(), distinct.len());
                    distinct.push(Distinct {
                        report,
                        sha,
                        size,
                        count: 1,
                    });
                    distinct.len() - 1
                }
            };
            slot.push(n);
        }

        // Per distinct message: (id, status, newly stored).
        let mut stored: Vec<Option<(ReportId, ReportStatus, bool)>> = vec![None; distinct.len()];
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;

            // Blobs: content-addressed, kept once.
            let mut start = 0;
            while start < distinct.len() {
                let mut end = start;
                let mut bytes = 0;
                while end < distinct.len()
                    && end - start < crate::ROWS_PER_STATEMENT
                    && (end == start || bytes + distinct[end].report.raw.len() <= BLOB_BYTES_PER_STATEMENT)
                {
                    bytes += distinct[end].report.raw.len();
                    end += 1;
                }
                // A power-of-two row count: one of a few statement texts (see statement_chunks).
                end = start + crate::pow2_floor(end - start);
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO blobs (sha256, size, data, stored_at) ");
                qb.push_values(&distinct[start..end], |mut row, d| {
                    row.push_bind(&d.sha)
                        .push_bind(d.size)
                        .push_bind(&d.report.raw)
                        .push_bind(d.report.received_at);
                });
                qb.push(" ON CONFLICT (sha256) DO NOTHING");
                qb.build().execute(&mut *tx).await?;
                start = end;
            }

            // Reports: a new row, or one more submission of the earlier one. A row is new
            // exactly when its counter equals this batch's count (an earlier row has >= 1).
            for chunk in crate::statement_chunks(&distinct[..]) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO reports (sha256, size, channel, content_type, received_at, \
                     envelope_from, envelope_to, peer, source_name, status, submissions) ",
                );
                qb.push_values(chunk, |mut row, d| {
                    let r = d.report;
                    row.push_bind(&d.sha)
                        .push_bind(d.size)
                        .push_bind(r.channel.as_str())
                        .push_bind(r.content_type.as_str())
                        .push_bind(r.received_at)
                        .push_bind(&r.envelope_from)
                        .push_bind(&r.envelope_to)
                        .push_bind(&r.peer)
                        .push_bind(&r.source_name)
                        .push_bind("queued")
                        .push_bind(d.count);
                });
                qb.push(
                    " ON CONFLICT (sha256) DO UPDATE SET \
                     submissions = reports.submissions + excluded.submissions \
                     RETURNING id, sha256, status, submissions",
                );
                let rows = qb.build().fetch_all(&mut *tx).await?;
                for row in &rows {
                    let id = row.i64("id")?;
                    let sha = row.string("sha256")?;
                    let status_text = row.string("status")?;
                    let status = ReportStatus::parse(&status_text).ok_or_else(|| {
                        StoreError::Corrupt(format!("report {id} has status {status_text:?}"))
                    })?;
                    let n = *by_sha.get(&sha).ok_or_else(|| {
                        StoreError::Corrupt(format!("the store returned an unknown report {sha}"))
                    })?;
                    if stored[n].is_some() {
                        return Err(StoreError::Corrupt(format!("report {sha} came back twice")));
                    }
                    let new = row.i64("submissions")? == distinct[n].count;
                    stored[n] = Some((id, status, new));
                }
            }

            // A job for each new report.
            let fresh: Vec<(ReportId, i64)> = distinct
                .iter()
                .zip(&stored)
                .filter_map(|(d, s)| match s {
                    Some((id, _, true)) => Some((*id, d.report.received_at)),
                    _ => None,
                })
                .collect();
            for chunk in crate::statement_chunks(&fresh) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO jobs (report_id, available_at) ");
                qb.push_values(chunk, |mut row, (id, at)| {
                    row.push_bind(*id).push_bind(*at);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });

        let mut first_seen = vec![false; distinct.len()];
        slot.into_iter()
            .map(|n| {
                let (id, status, new) = stored[n].ok_or_else(|| {
                    StoreError::Corrupt(format!("no row came back for report {}", distinct[n].sha))
                })?;
                // The first occurrence of a new message is the new report; any later one in
                // the same batch is a duplicate of it.
                let duplicate = !new || std::mem::replace(&mut first_seen[n], true);
                Ok(Accepted {
                    id,
                    sha256: distinct[n].sha.clone(),
                    duplicate,
                    status,
                })
            })
            .collect()
    }
}
