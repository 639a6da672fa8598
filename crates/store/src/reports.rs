//! Reading reports.
use base64::Engine;

use crate::backend::{Get, dispatch};
use crate::queue::parse_enum;
use crate::{
    Attribution, Channel, ContentType, Page, ReportFilter, ReportId, ReportRecord, ReportStatus,
    Scope, Stats, Store, StoreError,
};

const REPORT_COLUMNS: &str = "id, sha256, size, channel, content_type, received_at, submissions, \
     envelope_from, envelope_to, peer, source_name, status, format, kind, reporter, source_ip, \
     source_port, event_time, origin_time, time_basis, scope, contract, network, country, \
     abuse_contact, reason, case_id, error, detail, processed_at";

fn report_from_row(r: &impl Get) -> Result<ReportRecord, StoreError> {
    let attribution = match r.ostring("scope")? {
        Some(scope) => Some(Attribution {
            scope: parse_enum(&scope, Scope::parse)?,
            contract: r.ostring("contract")?,
            network: r.ostring("network")?,
            country: r.ostring("country")?,
            abuse_contact: r.ostring("abuse_contact")?,
            reason: r.ostring("reason")?.unwrap_or_default(),
        }),
        None => None,
    };
    let detail = match r.ostring("detail")? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("report detail: {e}")))?,
        None => serde_json::Value::Null,
    };
    Ok(ReportRecord {
        id: r.i64("id")?,
        sha256: r.string("sha256")?,
        size: r.i64("size")?,
        channel: parse_enum(&r.string("channel")?, Channel::parse)?,
        content_type: parse_enum(&r.string("content_type")?, ContentType::parse)?,
        received_at: r.i64("received_at")?,
        submissions: r.i64("submissions")?,
        envelope_from: r.ostring("envelope_from")?,
        envelope_to: r.ostring("envelope_to")?,
        peer: r.ostring("peer")?,
        source_name: r.ostring("source_name")?,
        status: parse_enum(&r.string("status")?, ReportStatus::parse)?,
        format: r.ostring("format")?,
        kind: r.ostring("kind")?,
        reporter: r.ostring("reporter")?,
        source_ip: r.ostring("source_ip")?,
        source_port: r.oi64("source_port")?,
        event_time: r.oi64("event_time")?,
        origin_time: r.oi64("origin_time")?,
        time_basis: r.ostring("time_basis")?,
        attribution,
        case_id: r.oi64("case_id")?,
        error: r.ostring("error")?,
        detail,
        processed_at: r.oi64("processed_at")?,
    })
}

fn encode_cursor(id: ReportId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("report:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<ReportId, StoreError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    text.strip_prefix("report:")
        .and_then(|n| n.parse().ok())
        .ok_or(StoreError::InvalidCursor)
}

impl Store {
    /// One report, if it exists.
    pub async fn get_report(&self, id: ReportId) -> Result<Option<ReportRecord>, StoreError> {
        dispatch!(self, pool => {
            let row = sqlx::query(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(report_from_row).transpose()
        })
    }

    /// The raw bytes of a report as received.
    pub async fn get_raw(
        &self,
        id: ReportId,
    ) -> Result<Option<(ContentType, Vec<u8>)>, StoreError> {
        dispatch!(self, pool => {
            let row = sqlx::query(
                "SELECT r.content_type, b.data FROM reports r JOIN blobs b ON b.sha256 = r.sha256 \
                 WHERE r.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(r) => Ok(Some((
                    parse_enum(&r.string("content_type")?, ContentType::parse)?,
                    r.bytes("data")?,
                ))),
                None => Ok(None),
            }
        })
    }

    /// Reports matching `filter`, newest first, one page of at most `limit`.
    pub async fn list_reports(
        &self,
        filter: &ReportFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<ReportRecord>, StoreError> {
        let before = cursor.map(decode_cursor).transpose()?;
        let limit = limit.clamp(1, 1000);
        let mut items = dispatch!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {REPORT_COLUMNS} FROM reports WHERE 1=1"));
            if let Some(s) = filter.status {
                qb.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(k) = &filter.kind {
                qb.push(" AND kind = ").push_bind(k.clone());
            }
            if let Some(f) = &filter.format {
                qb.push(" AND format = ").push_bind(f.clone());
            }
            if let Some(s) = filter.scope {
                qb.push(" AND scope = ").push_bind(s.as_str());
            }
            if let Some(c) = filter.channel {
                qb.push(" AND channel = ").push_bind(c.as_str());
            }
            if let Some(ip) = &filter.source_ip {
                qb.push(" AND source_ip = ").push_bind(ip.clone());
            }
            if let Some(c) = &filter.contract {
                qb.push(" AND contract = ").push_bind(c.clone());
            }
            if let Some(c) = filter.case_id {
                qb.push(" AND case_id = ").push_bind(c);
            }
            if let Some(t) = filter.received_after {
                qb.push(" AND received_at >= ").push_bind(t);
            }
            if let Some(t) = filter.received_before {
                qb.push(" AND received_at < ").push_bind(t);
            }
            if let Some(id) = before {
                qb.push(" AND id < ").push_bind(id);
            }
            qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(report_from_row).collect::<Result<Vec<_>, _>>()?
        });
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|r| encode_cursor(r.id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Counts for monitoring.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        dispatch!(self, pool => {
            // The queue first: when it reads empty, the statuses read next are final.
            let mut stats = Stats {
                jobs_queued: sqlx::query("SELECT COUNT(*) AS n FROM jobs").fetch_one(pool).await?.i64("n")?,
                ..Default::default()
            };
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM reports GROUP BY status")
                .fetch_all(pool)
                .await?;
            for r in &rows {
                let n = r.i64("n")?;
                match ReportStatus::parse(&r.string("status")?) {
                    Some(ReportStatus::Queued) => stats.reports_queued = n,
                    Some(ReportStatus::Processed) => stats.reports_processed = n,
                    Some(ReportStatus::Unparseable) => stats.reports_unparseable = n,
                    None => {}
                }
            }
            stats.cases_open = sqlx::query("SELECT COUNT(*) AS n FROM cases WHERE closed_at IS NULL")
                .fetch_one(pool)
                .await?
                .i64("n")?;
            Ok(stats)
        })
    }
}
