//! Fuzzes the desk's HTTP API (abusedesk-desk's axum router over a real SQLite store):
//! paths, query strings (filters, sort orders, cursors), headers and bodies (reports,
//! X-ARF JSON, registry JSON and CSV imports) as a client on the network sends them.
//!
//! Input layout: byte 0 picks the method (and bit 3 drops the bearer token), then the
//! request target up to the first `\n` (prefixed with `/api/v1/` unless it starts with
//! `/`), then the Content-Type up to the next `\n`, then the body.
//!
//! Checked on every input: no panic, and never a 5xx answer — the store is healthy, so
//! any 500 is a bug (an unhandled error on hostile input); a 2xx without a valid token
//! is a hole in authentication (except the open endpoints).
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use abusedesk_desk::http::auth::TokenAuthenticator;
use abusedesk_desk::http::{AppState, router};
use abusedesk_desk::intake::Intake;
use abusedesk_desk::metrics::Metrics;
use abusedesk_desk::registry_data::IndexCache;
use abusedesk_desk::{Clock, SystemClock};
use abusedesk_store::{Store, StoreOptions};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Desk {
    rt: tokio::runtime::Runtime,
    app: Router,
    token: String,
    _dir: tempfile::TempDir,
}

fn desk() -> &'static Desk {
    static DESK: OnceLock<Desk> = OnceLock::new();
    DESK.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (app, token) = rt.block_on(async {
            let store = Store::open_data_dir(dir.path(), &StoreOptions::default())
                .await
                .unwrap();
            let token = store.create_token("fuzz", 0).await.unwrap().secret;
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let metrics = Arc::new(Metrics::default());
            let wake = Arc::new(tokio::sync::Notify::new());
            let (intake, _task) =
                Intake::start(store.clone(), 1 << 20, 64, metrics.clone(), wake.clone());
            let state = AppState {
                store: store.clone(),
                intake,
                metrics,
                auth: Arc::new(TokenAuthenticator::new(store, clock.clone())),
                clock,
                index: Arc::new(IndexCache::default()),
                wake,
            };
            (router(state, 1 << 20), token)
        });
        Desk {
            rt,
            app,
            token,
            _dir: dir,
        }
    })
}

const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
];

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(flags & 7) % METHODS.len()].clone();
    let with_token = flags & 8 == 0;
    let (target, rest) = split_line(rest);
    let (content_type, body) = split_line(rest);
    let Ok(target) = std::str::from_utf8(target) else {
        return;
    };
    let uri = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/api/v1/{target}")
    };
    let desk = desk();
    let mut req = Request::builder().method(method).uri(uri.as_str());
    if with_token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", desk.token));
    }
    if !content_type.is_empty() {
        req = req.header(header::CONTENT_TYPE, content_type);
    }
    let Ok(mut req) = req.body(Body::from(body.to_vec())) else {
        return; // not a request a client could send (bad URI or header value)
    };
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let app = desk.app.clone();
    let status = desk.rt.block_on(async move { app.oneshot(req).await.unwrap().status() });
    assert!(
        !status.is_server_error(),
        "{status} for {uri} ({} body bytes)",
        body.len()
    );
    let open = uri.starts_with("/healthz")
        || uri.starts_with("/metrics")
        || uri.starts_with("/api/openapi.json");
    assert!(
        with_token || open || !status.is_success(),
        "{status} without a token for {uri}"
    );
});
