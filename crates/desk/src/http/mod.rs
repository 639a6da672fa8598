//! The HTTP API (axum). JSON in and out; `Authorization: Bearer TOKEN` on `/api/v1/*`;
//! the OpenAPI document at `/api/openapi.json` is generated from the handlers below.
pub mod auth;
pub mod cases;
pub mod error;
pub mod registry;
pub mod reports;
pub mod views;

use std::sync::Arc;

use abusedesk_store::Store;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Notify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::Clock;
use crate::intake::Intake;
use crate::metrics::Metrics;
use crate::registry_data::IndexCache;
use error::ApiError;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub intake: Intake,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<dyn auth::Authenticator>,
    pub clock: Arc<dyn Clock>,
    pub index: Arc<IndexCache>,
    pub wake: Arc<Notify>,
}

pub(crate) fn path_id(p: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|_| ApiError::BadRequest("the id in the path must be a number".into()))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "abusedesk", description = "The abuse desk's REST API: report intake, reports, cases, the network registry. Times are RFC 3339 UTC."),
    paths(
        reports::submit, reports::list, reports::get, reports::raw, reports::reprocess,
        cases::list, cases::get,
        registry::list_contracts, registry::create_contract, registry::get_contract, registry::put_contract, registry::delete_contract,
        registry::list_assignments, registry::create_assignment, registry::get_assignment, registry::put_assignment, registry::delete_assignment,
        registry::list_domains, registry::create_domain, registry::get_domain, registry::put_domain, registry::delete_domain,
        registry::list_networks, registry::put_network, registry::delete_network,
        registry::import, registry::lookup,
        healthz, metrics, openapi,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "reports", description = "Complaints as received and as processed"),
        (name = "cases", description = "Reports grouped by target and kind"),
        (name = "registry", description = "Our address space and customers"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `abusedesk token create`"))
                    .build(),
            ),
        );
    }
}

/// Liveness and store reachability.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{status: ok, store: sqlite|postgres}`"), (status = 503, description = "The store does not answer")))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => {
            Json(json!({"status": "ok", "store": state.store.kind().as_str()})).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "store": state.store.kind().as_str()})),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let stats = match state.store.stats().await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: store counts unavailable");
            None
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(stats.as_ref()),
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, content_type = "application/json")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn count_responses(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    state.metrics.http_response(resp.status().as_u16());
    resp
}

async fn not_found() -> ApiError {
    ApiError::NotFound("resource")
}

/// The router: `/api/v1/*` behind authentication, operations endpoints open.
pub fn router(state: AppState, max_report_bytes: u64) -> Router {
    use registry as r;
    let limit = usize::try_from(max_report_bytes).unwrap_or(usize::MAX);
    let api = Router::new()
        .route(
            "/reports",
            post(reports::submit)
                .get(reports::list)
                .layer(DefaultBodyLimit::max(limit)),
        )
        .route("/reports/{id}", get(reports::get))
        .route("/reports/{id}/raw", get(reports::raw))
        .route("/reports/{id}/reprocess", post(reports::reprocess))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::get))
        .route(
            "/registry/contracts",
            get(r::list_contracts).post(r::create_contract),
        )
        .route(
            "/registry/contracts/{id}",
            get(r::get_contract)
                .put(r::put_contract)
                .delete(r::delete_contract),
        )
        .route(
            "/registry/assignments",
            get(r::list_assignments).post(r::create_assignment),
        )
        .route(
            "/registry/assignments/{id}",
            get(r::get_assignment)
                .put(r::put_assignment)
                .delete(r::delete_assignment),
        )
        .route(
            "/registry/domains",
            get(r::list_domains).post(r::create_domain),
        )
        .route(
            "/registry/domains/{id}",
            get(r::get_domain)
                .put(r::put_domain)
                .delete(r::delete_domain),
        )
        .route(
            "/registry/networks",
            get(r::list_networks).post(r::put_network),
        )
        .route(
            "/registry/networks/{addr}/{len}",
            axum::routing::delete(r::delete_network),
        )
        .route(
            "/registry/import",
            post(r::import).layer(DefaultBodyLimit::max(1024 * 1024 * 1024)),
        )
        .route("/registry/lookup", get(r::lookup))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_auth,
        ));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .with_state(state)
}
