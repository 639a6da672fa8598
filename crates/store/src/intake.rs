//! Storing arriving reports: blob, report row and queued job in one transaction.
use crate::backend::{Get, dispatch};
use crate::{Accepted, NewReport, ReportStatus, Store, StoreError, sha256_hex};

impl Store {
    /// Store a batch of arriving reports in **one transaction** and queue each new one
    /// for processing. When this returns `Ok`, every report in the batch is durable and
    /// may be acknowledged. Bytes seen before are not stored again: the earlier report is
    /// returned with `duplicate = true` (and its submission counter goes up).
    ///
    /// Callers batch concurrent arrivals (group commit) to amortise the commit.
    pub async fn accept(&self, batch: &[NewReport]) -> Result<Vec<Accepted>, StoreError> {
        let _writing = self.writer().await;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let hashes: Vec<String> = batch.iter().map(|r| sha256_hex(&r.raw)).collect();
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut out = Vec::with_capacity(batch.len());
            for (report, sha) in batch.iter().zip(&hashes) {
                let size = i64::try_from(report.raw.len())
                    .map_err(|_| StoreError::Corrupt("report larger than i64".into()))?;
                sqlx::query(
                    "INSERT INTO blobs (sha256, size, data, stored_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(sha)
                .bind(size)
                .bind(&report.raw)
                .bind(report.received_at)
                .execute(&mut *tx)
                .await?;
                let row = sqlx::query(
                    "INSERT INTO reports (sha256, size, channel, content_type, received_at, \
                     envelope_from, envelope_to, peer, source_name, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued') \
                     ON CONFLICT (sha256) DO UPDATE SET submissions = reports.submissions + 1 \
                     RETURNING id, status, submissions",
                )
                .bind(sha)
                .bind(size)
                .bind(report.channel.as_str())
                .bind(report.content_type.as_str())
                .bind(report.received_at)
                .bind(&report.envelope_from)
                .bind(&report.envelope_to)
                .bind(&report.peer)
                .bind(&report.source_name)
                .fetch_one(&mut *tx)
                .await?;
                let id = row.i64("id")?;
                let status_text = row.string("status")?;
                let status = ReportStatus::parse(&status_text)
                    .ok_or_else(|| StoreError::Corrupt(format!("report {id} has status {status_text:?}")))?;
                let duplicate = row.i64("submissions")? > 1;
                if !duplicate {
                    sqlx::query("INSERT INTO jobs (report_id, available_at) VALUES ($1, $2)")
                        .bind(id)
                        .bind(report.received_at)
                        .execute(&mut *tx)
                        .await?;
                }
                out.push(Accepted { id, sha256: sha.clone(), duplicate, status });
            }
            tx.commit().await?;
            Ok(out)
        })
    }
}
