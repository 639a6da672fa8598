//! Cases: listing, reading, state changes, the event log.
use base64::Engine;
use serde_json::json;

use crate::backend::{Get, Pool, dispatch, dispatch_write};
use crate::queue::parse_enum;
use crate::{
    Attribution, CaseEvent, CaseFilter, CaseId, CaseRecord, CaseSort, CaseState, Millis, Page,
    ReportId, Scope, Store, StoreError,
};

/// `INSERT INTO cases (...) ` of the multi-row case upsert, in the order its values are
/// given; then `VALUES ...` and [`case_upsert_tail`].
pub(crate) const CASE_UPSERT_HEAD: &str = "INSERT INTO cases (kind, target, scope, contract, \
     network, country, abuse_contact, reason, state, report_count, needs_full_headers, \
     first_report_at, last_report_at, created_at, updated_at, respond_by, resolve_by) ";

/// `ON CONFLICT` clause of the case upsert: `$min`/`$max` are the dialect's two-argument
/// minimum and maximum. An open case with the same kind and target gains the new rows'
/// report count.
macro_rules! upsert_tail {
    ($min:literal, $max:literal) => {
        concat!(
            " ON CONFLICT (kind, target) WHERE closed_at IS NULL DO UPDATE SET \
             report_count = cases.report_count + excluded.report_count, \
             needs_full_headers = (cases.needs_full_headers OR excluded.needs_full_headers), \
             first_report_at = ",
            $min,
            "(cases.first_report_at, excluded.first_report_at), last_report_at = ",
            $max,
            "(cases.last_report_at, excluded.last_report_at), updated_at = excluded.updated_at \
             RETURNING id, kind, target, report_count"
        )
    };
}

/// The dialect's `ON CONFLICT` clause for [`CASE_UPSERT_HEAD`].
pub(crate) fn case_upsert_tail(pool: &Pool) -> &'static str {
    match pool {
        Pool::Sqlite(_) => upsert_tail!("MIN", "MAX"),
        Pool::Postgres(_) => upsert_tail!("LEAST", "GREATEST"),
    }
}

const CASE_COLUMNS: &str = "id, kind, target, scope, contract, network, country, abuse_contact, \
     reason, state, report_count, needs_full_headers, first_report_at, last_report_at, \
     created_at, updated_at, respond_by, resolve_by, closed_at";

fn case_from_row(r: &impl Get) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        id: r.i64("id")?,
        kind: r.string("kind")?,
        target: r.string("target")?,
        attribution: Attribution {
            scope: parse_enum(&r.string("scope")?, Scope::parse)?,
            contract: r.ostring("contract")?,
            network: r.ostring("network")?,
            country: r.ostring("country")?,
            abuse_contact: r.ostring("abuse_contact")?,
            reason: r.string("reason")?,
        },
        state: parse_enum(&r.string("state")?, CaseState::parse)?,
        report_count: r.i64("report_count")?,
        needs_full_headers: r.boolean("needs_full_headers")?,
        first_report_at: r.i64("first_report_at")?,
        last_report_at: r.i64("last_report_at")?,
        created_at: r.i64("created_at")?,
        updated_at: r.i64("updated_at")?,
        respond_by: r.oi64("respond_by")?,
        resolve_by: r.oi64("resolve_by")?,
        closed_at: r.oi64("closed_at")?,
    })
}

/// Direction of a sorted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Desc,
    Asc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Desc => "desc",
            Order::Asc => "asc",
        }
    }
}

fn sort_column(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::LastReport => "last_report_at",
        // Ids are handed out as cases open: id order is creation order, and the primary
        // key is its index.
        CaseSort::Created => "id",
        CaseSort::Reports => "report_count",
    }
}

/// Keyset cursor: `sort:order:value:id`, base64url.
fn encode_cursor(sort: CaseSort, order: Order, value: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}:{}:{value}:{id}",
        sort.as_str(),
        order.as_str()
    ))
}

fn decode_cursor(cursor: &str, sort: CaseSort, order: Order) -> Result<(i64, i64), StoreError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    let mut parts = text.split(':');
    let (Some(s), Some(o), Some(v), Some(i), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(StoreError::InvalidCursor);
    };
    if s != sort.as_str() || o != order.as_str() {
        return Err(StoreError::InvalidCursor);
    }
    let v = v.parse().map_err(|_| StoreError::InvalidCursor)?;
    let i = i.parse().map_err(|_| StoreError::InvalidCursor)?;
    Ok((v, i))
}

fn sort_value(c: &CaseRecord, sort: CaseSort) -> i64 {
    match sort {
        CaseSort::LastReport => c.last_report_at,
        CaseSort::Created => c.id,
        CaseSort::Reports => c.report_count,
    }
}

impl Store {
    /// List cases matching `filter`, sorted by `sort` (ties broken by id), one page of
    /// at most `limit` after `cursor`.
    pub async fn list_cases(
        &self,
        filter: &CaseFilter,
        sort: CaseSort,
        order: Order,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<CaseRecord>, StoreError> {
        let after = cursor.map(|c| decode_cursor(c, sort, order)).transpose()?;
        let col = sort_column(sort);
        let limit = limit.clamp(1, 1000);
        let mut items = dispatch!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1=1"));
            if let Some(k) = &filter.kind {
                qb.push(" AND kind = ").push_bind(k.clone());
            }
            if let Some(s) = filter.state {
                qb.push(" AND state = ").push_bind(s.as_str());
            }
            if let Some(c) = &filter.contract {
                qb.push(" AND contract = ").push_bind(c.clone());
            }
            if let Some(s) = filter.scope {
                qb.push(" AND scope = ").push_bind(s.as_str());
            }
            if let Some(c) = &filter.country {
                qb.push(" AND country = ").push_bind(c.clone());
            }
            if let Some((v, id)) = after {
                let cmp = if order == Order::Desc { "<" } else { ">" };
                qb.push(format!(" AND ({col}, id) {cmp} ("))
                    .push_bind(v)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            let dir = if order == Order::Desc { "DESC" } else { "ASC" };
            qb.push(format!(" ORDER BY {col} {dir}, id {dir} LIMIT "))
                .push_bind(limit + 1);
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(case_from_row).collect::<Result<Vec<_>, _>>()?
        });
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items
                .last()
                .map(|c| encode_cursor(sort, order, sort_value(c, sort), c.id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// One case.
    pub async fn get_case(&self, id: CaseId) -> Result<Option<CaseRecord>, StoreError> {
        dispatch!(self, pool => {
            let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(case_from_row).transpose()
        })
    }

    /// A case's event log, oldest first (at most `limit` entries).
    pub async fn case_events(&self, id: CaseId, limit: i64) -> Result<Vec<CaseEvent>, StoreError> {
        dispatch!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, case_id, at, type, report_id, detail FROM case_events \
                 WHERE case_id = $1 ORDER BY id LIMIT $2",
            )
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let detail = r.string("detail")?;
                    Ok(CaseEvent {
                        id: r.i64("id")?,
                        case_id: r.i64("case_id")?,
                        at: r.i64("at")?,
                        kind: r.string("type")?,
                        report_id: r.oi64("report_id")?,
                        detail: serde_json::from_str(&detail)
                            .map_err(|e| StoreError::Corrupt(format!("event detail: {e}")))?,
                    })
                })
                .collect()
        })
    }

    /// Ids of a case's reports, oldest first (at most `limit`).
    pub async fn case_report_ids(
        &self,
        id: CaseId,
        limit: i64,
    ) -> Result<Vec<ReportId>, StoreError> {
        dispatch!(self, pool => {
            let rows = sqlx::query("SELECT id FROM reports WHERE case_id = $1 ORDER BY id LIMIT $2")
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok(r.i64("id")?)).collect()
        })
    }

    /// Change a case's state, logging who did it. Moving to `resolved` or `closed`
    /// closes the case: later reports about the same target open a new one.
    /// Returns `false` if the case does not exist.
    pub async fn set_case_state(
        &self,
        id: CaseId,
        state: CaseState,
        actor: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        let closed_at = (state != CaseState::Open).then_some(now);
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            let old = sqlx::query("SELECT state FROM cases WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(old) = old else { return Ok(false) };
            let old_state = old.string("state")?;
            if old_state != CaseState::Open.as_str() && state == CaseState::Open {
                return Err(StoreError::Conflict(format!(
                    "case {id} is {old_state}; a closed case cannot be reopened (new reports open a new case)"
                )));
            }
            sqlx::query("UPDATE cases SET state = $2, closed_at = $3, updated_at = $4 WHERE id = $1")
                .bind(id)
                .bind(state.as_str())
                .bind(closed_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO case_events (case_id, at, type, report_id, detail) \
                 VALUES ($1, $2, 'state_changed', NULL, $3)",
            )
            .bind(id)
            .bind(now)
            .bind(json!({"from": old_state, "to": state.as_str(), "actor": actor}).to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_mismatch() {
        let c = encode_cursor(CaseSort::Reports, Order::Asc, 42, 7);
        assert_eq!(
            decode_cursor(&c, CaseSort::Reports, Order::Asc).unwrap(),
            (42, 7)
        );
        assert!(decode_cursor(&c, CaseSort::Created, Order::Asc).is_err());
        assert!(decode_cursor(&c, CaseSort::Reports, Order::Desc).is_err());
        assert!(decode_cursor("!!!", CaseSort::Reports, Order::Asc).is_err());
        assert!(decode_cursor("", CaseSort::Reports, Order::Asc).is_err());
    }
}
