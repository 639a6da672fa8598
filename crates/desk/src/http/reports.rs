//! `/api/v1/reports`.
use std::net::SocketAddr;

use abusedesk_store::{Channel, ContentType, NewReport, ReportFilter, ReportStatus, Scope};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorBody};
use super::views::*;
use super::{AppState, path_id};

fn media_type(headers: &HeaderMap) -> Result<ContentType, ApiError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "message/rfc822" => Ok(ContentType::Rfc822),
        "application/json" => Ok(ContentType::XarfJson),
        "" => Err(ApiError::UnsupportedMediaType(
            "Content-Type is required: message/rfc822 (a mail) or application/json (X-ARF)".into(),
        )),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {other} is not accepted: use message/rfc822 (a mail) or application/json (X-ARF)"
        ))),
    }
}

/// Submit a report.
#[utoipa::path(
    post, path = "/api/v1/reports", tag = "reports",
    request_body(description = "The raw report: a mail (`message/rfc822`: ARF, a forwarded spam, a plain complaint) or an X-ARF JSON document (`application/json`).", content(
        (Vec<u8> = "message/rfc822"), (Object = "application/json"))),
    responses(
        (status = 201, description = "Stored durably and queued for processing", body = Queued),
        (status = 200, description = "These exact bytes were stored before; the earlier report", body = Queued),
        (status = 413, description = "Larger than intake.max_report_bytes", body = ErrorBody),
        (status = 415, description = "Not message/rfc822 or application/json", body = ErrorBody),
        (status = 503, description = "The store is unavailable: nothing was stored, retry", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let content_type = media_type(&headers)?;
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            state.metrics.too_large();
            ApiError::TooLarge {
                limit: state.intake.max_bytes(),
            }
        } else {
            ApiError::BadRequest(r.body_text())
        }
    })?;
    if body.is_empty() {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    let accepted = state
        .intake
        .submit(NewReport {
            raw: body.to_vec(),
            channel: Channel::Http,
            content_type,
            received_at: state.clock.now(),
            envelope_from: None,
            envelope_to: None,
            peer: Some(peer.to_string()),
            source_name: None,
        })
        .await?;
    let status = if accepted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let location = format!("/api/v1/reports/{}", accepted.id);
    Ok((
        status,
        [(header::LOCATION, location)],
        Json(Queued {
            id: accepted.id,
            status: accepted.status.as_str().to_owned(),
            duplicate: accepted.duplicate,
        }),
    )
        .into_response())
}

/// One report.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, body = ReportView), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<ReportView>, ApiError> {
    let id = path_id(id)?;
    let r = state
        .store
        .get_report(id)
        .await?
        .ok_or(ApiError::NotFound("report"))?;
    Ok(Json(ReportView::from(&r)))
}

/// A report's bytes exactly as received.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}/raw", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, description = "The raw bytes, with the Content-Type they were submitted as", content_type = "message/rfc822"), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn raw(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let (ct, bytes) = state
        .store
        .get_raw(id)
        .await?
        .ok_or(ApiError::NotFound("report"))?;
    Ok(([(header::CONTENT_TYPE, ct.as_str())], bytes).into_response())
}

/// Queue a report for processing again (e.g. after a registry change). Idempotent.
#[utoipa::path(
    post, path = "/api/v1/reports/{id}/reprocess", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 202, body = Queued), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn reprocess(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let id = path_id(id)?;
    if !state.store.requeue(id, state.clock.now()).await? {
        return Err(ApiError::NotFound("report"));
    }
    state.wake.notify_waiters();
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            id,
            status: "queued".into(),
            duplicate: false,
        }),
    ))
}

fn parse_enum<T>(
    name: &str,
    v: &Option<String>,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{name}: {s:?} is not one of {allowed}"))),
    }
}

/// Reports, newest first.
#[utoipa::path(
    get, path = "/api/v1/reports", tag = "reports",
    params(ReportQuery),
    responses((status = 200, body = ReportPage), (status = 400, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<ReportPage>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let filter = ReportFilter {
        status: parse_enum(
            "status",
            &q.status,
            ReportStatus::parse,
            "queued, processed, unparseable",
        )?,
        kind: q.kind.filter(|s| !s.is_empty()),
        format: q.format.filter(|s| !s.is_empty()),
        scope: parse_enum("scope", &q.scope, Scope::parse, "ours, external, unknown")?,
        channel: parse_enum("channel", &q.channel, Channel::parse, "smtp, http, ingest")?,
        source_ip: q.source_ip.filter(|s| !s.is_empty()),
        contract: q.contract.filter(|s| !s.is_empty()),
        case_id: q.case_id,
        received_after: q
            .received_after
            .as_deref()
            .map(|s| parse_time("received_after", s))
            .transpose()
            .map_err(ApiError::BadRequest)?,
        received_before: q
            .received_before
            .as_deref()
            .map(|s| parse_time("received_before", s))
            .transpose()
            .map_err(ApiError::BadRequest)?,
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let page = state
        .store
        .list_reports(&filter, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(ReportPage {
        items: page.items.iter().map(ReportView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
