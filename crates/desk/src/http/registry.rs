//! `/api/v1/registry`: contracts, address assignments, hosted domains, our networks;
//! bulk import (CSV or JSON) and an attribution lookup. Bodies use the registry crate's
//! record shapes (the CSV column names; see docs/registry.md).
use abusedesk_registry::{
    Assignment, Contract, HostedDomain, ImportErrors, Network, Timestamp, assignments_from_csv,
    assignments_from_json, contracts_from_csv, contracts_from_json, domains_from_csv,
    domains_from_json, networks_from_csv, networks_from_json, registry_from_json,
};
use abusedesk_store::{RegistryImport, RegistryTable};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::{AppState, path_id};
use crate::registry_data::{assignment_row, contract_row, domain_row, network_row};

fn body_json<T: serde::de::DeserializeOwned>(
    what: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    serde_json::from_slice(&body).map_err(|e| ApiError::Invalid(format!("invalid {what}: {e}")))
}

fn with_id(id: i64, doc: &Value) -> Value {
    let mut v = doc.clone();
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(id));
    }
    v
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only rows of this contract (assignments, domains).
    pub contract: Option<String>,
    /// Keyset pagination: rows after this id (numeric for assignments and domains, the
    /// contract id for contracts). Pass the previous page's `next_after`.
    pub after: Option<String>,
    /// Page size, 1 to 10000 (default 1000).
    pub limit: Option<i64>,
}

fn limit(q: &ListQuery) -> Result<i64, ApiError> {
    let l = q.limit.unwrap_or(1000);
    if (1..=10_000).contains(&l) {
        Ok(l)
    } else {
        Err(ApiError::BadRequest(
            "limit must be between 1 and 10000".into(),
        ))
    }
}

fn numeric_after(q: &ListQuery) -> Result<i64, ApiError> {
    match q.after.as_deref() {
        None | Some("") => Ok(0),
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("after: {s:?} is not a row id"))),
    }
}

fn query(q: Result<Query<ListQuery>, QueryRejection>) -> Result<ListQuery, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

// ------------------------------------------------------------------ contracts

/// List contracts (by id).
#[utoipa::path(get, path = "/api/v1/registry/contracts", tag = "registry", params(ListQuery),
    responses((status = 200, description = "`{items: [contract], next_after}`")), security(("bearer" = [])))]
pub async fn list_contracts(
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let limit = limit(&q)?;
    let rows = state
        .store
        .list_contracts(q.after.as_deref(), limit)
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(
        json!({"items": rows.iter().map(|r| &r.doc).collect::<Vec<_>>(), "next_after": next}),
    ))
}

/// Create a contract (409 if the id exists; use PUT to replace).
#[utoipa::path(post, path = "/api/v1/registry/contracts", tag = "registry",
    request_body(content = Object, description = "`{id, name, email, parent?, language?, notes?}`"),
    responses((status = 201), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_contract(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c: Contract = body_json("contract", body)?;
    if state.store.get_contract(c.id.as_str()).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "contract {} exists; PUT /api/v1/registry/contracts/{} replaces it",
            c.id, c.id
        )));
    }
    let row = contract_row(&c);
    state.store.put_contract(&row, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(row.doc)))
}

/// One contract.
#[utoipa::path(get, path = "/api/v1/registry/contracts/{id}", tag = "registry", params(("id" = String, Path)),
    responses((status = 200), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_contract(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let row = state
        .store
        .get_contract(&id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    Ok(Json(row.doc))
}

/// Create or replace a contract.
#[utoipa::path(put, path = "/api/v1/registry/contracts/{id}", tag = "registry", params(("id" = String, Path)),
    request_body(content = Object), responses((status = 200), (status = 201), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_contract(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let c: Contract = body_json("contract", body)?;
    if c.id.as_str() != id {
        return Err(ApiError::BadRequest(format!(
            "the body's id {} differs from the path's {id}",
            c.id
        )));
    }
    let row = contract_row(&c);
    let created = state.store.put_contract(&row, state.clock.now()).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(row.doc),
    ))
}

/// Delete a contract that has no assignments, hosted domains or child contracts.
#[utoipa::path(delete, path = "/api/v1/registry/contracts/{id}", tag = "registry", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_contract(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if state.store.delete_contract(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("contract"))
    }
}

// ------------------------------------------------------------------ assignments

/// List address assignments (by id).
#[utoipa::path(get, path = "/api/v1/registry/assignments", tag = "registry", params(ListQuery),
    responses((status = 200, description = "`{items: [assignment with id], next_after}`")), security(("bearer" = [])))]
pub async fn list_assignments(
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let limit = limit(&q)?;
    let rows = state
        .store
        .list_assignments(q.contract.as_deref(), numeric_after(&q)?, limit)
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(
        json!({"items": rows.iter().map(|r| with_id(r.id, &r.doc)).collect::<Vec<_>>(), "next_after": next}),
    ))
}

/// Add an address assignment.
#[utoipa::path(post, path = "/api/v1/registry/assignments", tag = "registry",
    request_body(content = Object, description = "`{prefix, contract, valid_from?, valid_to?, port_from?, port_to?}`"),
    responses((status = 201), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_assignment(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let a: Assignment = body_json("assignment", body)?;
    let row = assignment_row(&a);
    let id = state.store.add_assignment(&row, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(with_id(id, &row.doc))))
}

/// One assignment.
#[utoipa::path(get, path = "/api/v1/registry/assignments/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_assignment(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(id)?;
    let row = state
        .store
        .get_assignment(id)
        .await?
        .ok_or(ApiError::NotFound("assignment"))?;
    Ok(Json(with_id(row.id, &row.doc)))
}

/// Replace an assignment.
#[utoipa::path(put, path = "/api/v1/registry/assignments/{id}", tag = "registry", params(("id" = i64, Path)),
    request_body(content = Object), responses((status = 200), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_assignment(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(id)?;
    let a: Assignment = body_json("assignment", body)?;
    let row = assignment_row(&a);
    if !state
        .store
        .update_registry_row(
            RegistryTable::Assignments,
            id,
            &row.contract,
            &row.prefix,
            &row.doc,
            state.clock.now(),
        )
        .await?
    {
        return Err(ApiError::NotFound("assignment"));
    }
    Ok(Json(with_id(id, &row.doc)))
}

/// Delete an assignment.
#[utoipa::path(delete, path = "/api/v1/registry/assignments/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_assignment(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(id)?;
    if state
        .store
        .delete_registry_row(RegistryTable::Assignments, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("assignment"))
    }
}

// ------------------------------------------------------------------ hosted domains

/// List hosted domains (by id).
#[utoipa::path(get, path = "/api/v1/registry/domains", tag = "registry", params(ListQuery),
    responses((status = 200, description = "`{items: [domain with id], next_after}`")), security(("bearer" = [])))]
pub async fn list_domains(
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let limit = limit(&q)?;
    let rows = state
        .store
        .list_domains(q.contract.as_deref(), numeric_after(&q)?, limit)
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(
        json!({"items": rows.iter().map(|r| with_id(r.id, &r.doc)).collect::<Vec<_>>(), "next_after": next}),
    ))
}

/// Add a hosted domain (or virtual host).
#[utoipa::path(post, path = "/api/v1/registry/domains", tag = "registry",
    request_body(content = Object, description = "`{domain, contract, valid_from?, valid_to?}`"),
    responses((status = 201), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_domain(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let d: HostedDomain = body_json("hosted domain", body)?;
    let row = domain_row(&d);
    let id = state.store.add_domain(&row, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(with_id(id, &row.doc))))
}

/// One hosted domain.
#[utoipa::path(get, path = "/api/v1/registry/domains/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_domain(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(id)?;
    let row = state
        .store
        .get_domain(id)
        .await?
        .ok_or(ApiError::NotFound("hosted domain"))?;
    Ok(Json(with_id(row.id, &row.doc)))
}

/// Replace a hosted domain.
#[utoipa::path(put, path = "/api/v1/registry/domains/{id}", tag = "registry", params(("id" = i64, Path)),
    request_body(content = Object), responses((status = 200), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_domain(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(id)?;
    let d: HostedDomain = body_json("hosted domain", body)?;
    let row = domain_row(&d);
    if !state
        .store
        .update_registry_row(
            RegistryTable::Domains,
            id,
            &row.contract,
            &row.domain,
            &row.doc,
            state.clock.now(),
        )
        .await?
    {
        return Err(ApiError::NotFound("hosted domain"));
    }
    Ok(Json(with_id(id, &row.doc)))
}

/// Delete a hosted domain.
#[utoipa::path(delete, path = "/api/v1/registry/domains/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_domain(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(id)?;
    if state
        .store
        .delete_registry_row(RegistryTable::Domains, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("hosted domain"))
    }
}

// ------------------------------------------------------------------ networks

/// Our networks.
#[utoipa::path(get, path = "/api/v1/registry/networks", tag = "registry",
    responses((status = 200, description = "`{items: [network]}`")), security(("bearer" = [])))]
pub async fn list_networks(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rows = state.store.list_networks().await?;
    Ok(Json(
        json!({"items": rows.iter().map(|r| &r.doc).collect::<Vec<_>>()}),
    ))
}

/// Add or replace one of our networks.
#[utoipa::path(post, path = "/api/v1/registry/networks", tag = "registry",
    request_body(content = Object, description = "`{prefix, description?}`"),
    responses((status = 201), (status = 200), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_network(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let n: Network = body_json("network", body)?;
    let row = network_row(&n);
    let created = state.store.put_network(&row, state.clock.now()).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(row.doc),
    ))
}

/// Delete one of our networks, e.g. `DELETE /api/v1/registry/networks/203.0.113.0/24`.
#[utoipa::path(delete, path = "/api/v1/registry/networks/{addr}/{len}", tag = "registry",
    params(("addr" = String, Path), ("len" = u8, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_network(
    State(state): State<AppState>,
    p: Result<Path<(String, u8)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path((addr, len)) = p.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let prefix = abusedesk_registry::Prefix::parse(&format!("{addr}/{len}"))
        .map_err(ApiError::BadRequest)?;
    if state.store.delete_network(&prefix.to_string()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("network"))
    }
}

// ------------------------------------------------------------------ import and lookup

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `contracts`, `assignments`, `domains`, `networks`, or `all` (JSON only: an object
    /// with those four arrays).
    pub table: String,
    /// Replace the imported contracts' existing assignments and domains (a full
    /// re-export of their history). Default false: add.
    pub replace: Option<bool>,
}

fn rows_error(e: ImportErrors) -> ApiError {
    ApiError::InvalidRows {
        message: format!("{} problem(s); nothing was imported", e.count()),
        rows: serde_json::to_value(&e).unwrap_or_default(),
    }
}

/// Bulk import, all or nothing, from CSV (`text/csv`) or JSON (`application/json`).
#[utoipa::path(post, path = "/api/v1/registry/import", tag = "registry", params(ImportQuery),
    request_body(description = "CSV with a header row (columns as in docs/registry.md) or a JSON array (or, for `all`, an object of arrays)", content((String = "text/csv"), (Object = "application/json"))),
    responses((status = 200, description = "`{imported: {contracts, assignments, domains, networks}}`"), (status = 409, body = ErrorBody), (status = 422, description = "Every problem, by line or element")),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let body = body.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = match ct.as_str() {
        "application/json" => true,
        "text/csv" => false,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {other:?}: use text/csv or application/json"
            )));
        }
    };
    let mut import = RegistryImport {
        replace: q.replace.unwrap_or(false),
        ..Default::default()
    };
    match (q.table.as_str(), json) {
        ("contracts", false) => {
            import.contracts = contracts_from_csv(&body)
                .map_err(rows_error)?
                .iter()
                .map(contract_row)
                .collect()
        }
        ("contracts", true) => {
            import.contracts = contracts_from_json(&body)
                .map_err(rows_error)?
                .iter()
                .map(contract_row)
                .collect()
        }
        ("assignments", false) => {
            import.assignments = assignments_from_csv(&body)
                .map_err(rows_error)?
                .iter()
                .map(assignment_row)
                .collect()
        }
        ("assignments", true) => {
            import.assignments = assignments_from_json(&body)
                .map_err(rows_error)?
                .iter()
                .map(assignment_row)
                .collect()
        }
        ("domains", false) => {
            import.domains = domains_from_csv(&body)
                .map_err(rows_error)?
                .iter()
                .map(domain_row)
                .collect()
        }
        ("domains", true) => {
            import.domains = domains_from_json(&body)
                .map_err(rows_error)?
                .iter()
                .map(domain_row)
                .collect()
        }
        ("networks", false) => {
            import.networks = networks_from_csv(&body)
                .map_err(rows_error)?
                .iter()
                .map(network_row)
                .collect()
        }
        ("networks", true) => {
            import.networks = networks_from_json(&body)
                .map_err(rows_error)?
                .iter()
                .map(network_row)
                .collect()
        }
        ("all", true) => {
            let all = registry_from_json(&body).map_err(rows_error)?;
            import.contracts = all.contracts.iter().map(contract_row).collect();
            import.assignments = all.assignments.iter().map(assignment_row).collect();
            import.domains = all.domains.iter().map(domain_row).collect();
            import.networks = all.networks.iter().map(network_row).collect();
        }
        ("all", false) => {
            return Err(ApiError::BadRequest(
                "table=all takes a JSON document; import CSV one table at a time".into(),
            ));
        }
        (t, _) => {
            return Err(ApiError::BadRequest(format!(
                "table: {t:?} is not one of contracts, assignments, domains, networks, all"
            )));
        }
    }
    let counts = state
        .store
        .import_registry(&import, state.clock.now())
        .await?;
    Ok(Json(json!({"imported": counts})))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// The address.
    pub ip: Option<String>,
    /// Or a host name / URL host (hosted domains).
    pub host: Option<String>,
    /// RFC 3339 moment (default: now).
    pub at: Option<String>,
    /// Source port (CGNAT).
    pub port: Option<u16>,
}

/// Who held an address (or hosted a name) at a moment, with the reasoning.
#[utoipa::path(get, path = "/api/v1/registry/lookup", tag = "registry", params(LookupQuery),
    responses((status = 200, description = "The registry's attribution and its reasoning"), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn lookup(
    State(state): State<AppState>,
    q: Result<Query<LookupQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let at = match q.at.as_deref() {
        Some(s) => {
            Timestamp::parse_rfc3339(s).map_err(|e| ApiError::BadRequest(format!("at: {e}")))?
        }
        None => Timestamp::from_unix(state.clock.now() / 1000)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
    };
    let index = state.index.get(&state.store).await?;
    match (q.ip.as_deref(), q.host.as_deref()) {
        (Some(ip), None) => {
            let ip = abusedesk_forensics::parse_ip(ip)
                .ok_or_else(|| ApiError::BadRequest(format!("ip: {ip:?} is not an IP address")))?;
            let found = index.1.lookup_ip(ip, at, q.port);
            let mut v = serde_json::to_value(&found).unwrap_or_default();
            v["summary"] = json!(found.summary());
            Ok(Json(v))
        }
        (None, Some(host)) => {
            let found = index
                .1
                .lookup_host(host, at)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            let mut v = serde_json::to_value(&found).unwrap_or_default();
            v["summary"] = json!(found.summary());
            Ok(Json(v))
        }
        _ => Err(ApiError::BadRequest(
            "give exactly one of ip or host".into(),
        )),
    }
}
