//! `serve`: open the store, bind the listeners, start intake, workers, HTTP and SMTP.
use std::net::SocketAddr;
use std::sync::Arc;

use abusedesk_forensics::TraceConfig;
use abusedesk_smtp::{CancellationToken, ServerConfig, SessionConfig};
use abusedesk_store::{BackendKind, Store};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::http::{AppState, auth::TokenAuthenticator, router};
use crate::intake::Intake;
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, ReportParser};
use crate::registry_data::IndexCache;
use crate::smtp_intake::SmtpIntake;
use crate::worker::{NetworkLookup, WorkerContext, run_worker};
use crate::{Clock, SystemClock};

/// Why the server could not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the store at {url}: {source}")]
    Store {
        url: String,
        #[source]
        source: abusedesk_store::StoreError,
    },
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("STARTTLS certificate: {0}")]
    Tls(String),
    #[error("{0}")]
    Setup(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The parts a caller plugs in (the binary wires the real ones; tests may swap the
/// clock).
pub struct Services {
    pub parser: Arc<dyn ReportParser>,
    pub rdap: Option<Arc<dyn NetworkLookup>>,
    pub trace: TraceConfig,
    pub clock: Arc<dyn Clock>,
}

impl Services {
    pub fn new(parser: Arc<dyn ReportParser>, trace: TraceConfig) -> Self {
        Services {
            parser,
            rdap: None,
            trace,
            clock: Arc::new(SystemClock),
        }
    }

    /// The real parts, as configured: the reports crate's parser, the forensics trace
    /// configuration (with RIR files from `forensics.rir_dir`), the RDAP client.
    pub fn standard(config: &Config) -> Result<Services, ServeError> {
        let mut trace = TraceConfig::new(config.trust.clone());
        trace.date_skew_seconds = config.forensics.date_skew_seconds;
        if let Some(dir) = &config.forensics.rir_dir {
            trace.countries = load_rir_dir(dir)?;
        }
        let rdap: Option<Arc<dyn NetworkLookup>> = if config.rdap.enabled {
            let client =
                crate::rdap::RdapLookup::new(config.rdap.base_url.as_deref(), config.rdap.timeout)
                    .map_err(|e| ServeError::Setup(format!("RDAP client: {e}")))?;
            Some(Arc::new(client))
        } else {
            None
        };
        Ok(Services {
            parser: Arc::new(crate::parser::ComplaintParser),
            rdap,
            trace,
            clock: Arc::new(SystemClock),
        })
    }
}

/// Country data from the RIR delegated-statistics files in `dir`.
fn load_rir_dir(dir: &std::path::Path) -> Result<abusedesk_forensics::CountryDb, ServeError> {
    let setup = |m: String| ServeError::Setup(format!("forensics.rir_dir {}: {m}", dir.display()));
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| setup(e.to_string()))? {
        let e = e.map_err(|e| setup(e.to_string()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("delegated-") && !name.ends_with(".md5") && !name.ends_with(".asc") {
            files.push((
                name,
                std::fs::read(e.path()).map_err(|e| setup(e.to_string()))?,
            ));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(setup("no delegated-* files".into()));
    }
    let (table, errors) = abusedesk_forensics::DelegatedTable::parse(
        files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
    );
    for e in errors.iter().take(5) {
        tracing::warn!(problem = %e, "RIR delegated-statistics file");
    }
    Ok(abusedesk_forensics::CountryDb::Delegated(Arc::new(table)))
}

/// A started server.
pub struct Running {
    pub http_addr: SocketAddr,
    pub smtp_addr: Option<SocketAddr>,
    pub store: Store,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    intake_task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Wait until shut down (listeners drained, workers stopped).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
        self.intake_task.abort();
        self.store.close().await;
    }
}

/// Start everything. Returns once the listeners are bound.
pub async fn serve(config: &Config, services: Services) -> Result<Running, ServeError> {
    let store = config
        .open_store()
        .await
        .map_err(|source| ServeError::Store {
            url: abusedesk_store::redact_url(&config.store_url()),
            source,
        })?;
    if store.kind() == BackendKind::Sqlite {
        // One process per SQLite store: leases held by a previous (crashed) process are void.
        let released = store
            .release_all_claims()
            .await
            .map_err(|source| ServeError::Store {
                url: config.store_url(),
                source,
            })?;
        if released > 0 {
            tracing::info!(released, "released job claims left by the previous process");
        }
    }
    let http_listener = TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| ServeError::Bind {
            what: "HTTP",
            addr: config.http.listen,
            source,
        })?;
    let smtp_listener = if config.smtp.enabled {
        Some(
            TcpListener::bind(config.smtp.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    what: "SMTP",
                    addr: config.smtp.listen,
                    source,
                })?,
        )
    } else {
        None
    };
    let http_addr = http_listener.local_addr()?;
    let smtp_addr = smtp_listener.as_ref().map(|l| l.local_addr()).transpose()?;

    let shutdown = CancellationToken::new();
    let metrics = Arc::new(Metrics::default());
    let wake = Arc::new(Notify::new());
    let index = Arc::new(IndexCache::default());
    let (intake, intake_task) = Intake::start(
        store.clone(),
        config.intake.max_report_bytes,
        config.intake.batch,
        metrics.clone(),
        wake.clone(),
    );
    let mut tasks = JoinSet::new();

    // Workers.
    let count = if config.workers.count == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        config.workers.count
    };
    let ctx = Arc::new(WorkerContext {
        store: store.clone(),
        pipeline: Arc::new(Pipeline {
            trace: services.trace.clone(),
            respond_within_ms: config.cases.respond_within.as_millis() as i64,
        }),
        parser: services.parser.clone(),
        rdap: services.rdap.clone(),
        index: index.clone(),
        metrics: metrics.clone(),
        wake: wake.clone(),
        config: config.workers.clone(),
        clock: services.clock.clone(),
        process_name: format!("{}:{}", hostname(), std::process::id()),
    });
    for n in 0..count {
        tasks.spawn(run_worker(ctx.clone(), n, shutdown.clone()));
    }

    // HTTP.
    let state = AppState {
        store: store.clone(),
        intake: intake.clone(),
        metrics: metrics.clone(),
        auth: Arc::new(TokenAuthenticator::new(
            store.clone(),
            services.clock.clone(),
        )),
        clock: services.clock.clone(),
        index,
        wake,
    };
    let app = router(state, config.intake.max_report_bytes);
    let token = shutdown.clone();
    tasks.spawn(async move {
        let served = axum::serve(
            http_listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });

    // SMTP.
    if let Some(listener) = smtp_listener {
        let mut server = ServerConfig::new(SessionConfig {
            hostname: config.smtp.hostname.clone(),
            max_message_size: config.intake.max_report_bytes,
            max_recipients: config.smtp.max_recipients,
            ..Default::default()
        });
        if let (Some(cert), Some(key)) = (&config.smtp.tls_cert, &config.smtp.tls_key) {
            let cert_pem = std::fs::read(cert)
                .map_err(|e| ServeError::Tls(format!("{}: {e}", cert.display())))?;
            let key_pem = std::fs::read(key)
                .map_err(|e| ServeError::Tls(format!("{}: {e}", key.display())))?;
            server.tls = Some(
                abusedesk_smtp::tls_config_from_pem(&cert_pem, &key_pem)
                    .map_err(|e| ServeError::Tls(e.to_string()))?,
            );
        }
        let handler = Arc::new(SmtpIntake {
            intake,
            metrics,
            clock: services.clock.clone(),
        });
        let token = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = abusedesk_smtp::serve(listener, Arc::new(server), handler, token).await
            {
                tracing::error!(error = %e, "SMTP server failed");
            }
        });
    }

    Ok(Running {
        http_addr,
        smtp_addr,
        store,
        shutdown,
        tasks,
        intake_task,
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "abusedesk".into())
}
