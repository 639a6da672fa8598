//! `/api/v1/cases`.
use abusedesk_store::{CaseFilter, CaseSort, CaseState, Order, Scope};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};

use super::error::{ApiError, ErrorBody};
use super::views::*;
use super::{AppState, path_id};

fn opt_enum<T>(
    name: &str,
    v: Option<&str>,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{name}: {s:?} is not one of {allowed}"))),
    }
}

/// Cases, most recently reported first by default.
#[utoipa::path(
    get, path = "/api/v1/cases", tag = "cases",
    params(CaseQuery),
    responses((status = 200, body = CasePage), (status = 400, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<CaseQuery>, QueryRejection>,
) -> Result<Json<CasePage>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let filter = CaseFilter {
        kind: q.kind.filter(|s| !s.is_empty()),
        state: opt_enum(
            "state",
            q.state.as_deref(),
            CaseState::parse,
            "open, resolved, closed",
        )?,
        contract: q.contract.filter(|s| !s.is_empty()),
        scope: opt_enum(
            "scope",
            q.scope.as_deref(),
            Scope::parse,
            "ours, external, unknown",
        )?,
        country: q
            .country
            .filter(|s| !s.is_empty())
            .map(|c| c.to_ascii_uppercase()),
    };
    let sort = opt_enum(
        "sort",
        q.sort.as_deref(),
        CaseSort::parse,
        "last_report, created, reports",
    )?
    .unwrap_or(CaseSort::LastReport);
    let order = match q.order.as_deref() {
        None | Some("") | Some("desc") => Order::Desc,
        Some("asc") => Order::Asc,
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "order: {o:?} is not one of desc, asc"
            )));
        }
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let page = state
        .store
        .list_cases(&filter, sort, order, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(CasePage {
        items: page.items.iter().map(CaseView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One case with its reports and its event log.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<CaseDetail>, ApiError> {
    let id = path_id(id)?;
    let case = state
        .store
        .get_case(id)
        .await?
        .ok_or(ApiError::NotFound("case"))?;
    let reports = state.store.case_report_ids(id, 1000).await?;
    let events = state.store.case_events(id, 10_000).await?;
    Ok(Json(CaseDetail {
        case: CaseView::from(&case),
        reports,
        events: events.iter().map(EventView::from).collect(),
    }))
}
