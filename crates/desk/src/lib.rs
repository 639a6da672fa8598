//! abusedesk-desk: the desk server. One process runs the HTTP API, the SMTP intake
//! listener and the processing workers over one store (see `docs/desk.md`).
//!
//! Flow: a report arrives (SMTP, HTTP, `ingest`) → [`intake`] commits its bytes and a job
//! in one transaction (group commit), then acknowledges → a [`worker`] claims the job,
//! parses the report, traces its evidence, attributes the source with the registry index
//! (and RDAP for external sources) → the results and the case bookkeeping are written in
//! one transaction that also removes the job.
pub mod config;
pub mod http;
pub mod intake;
pub mod metrics;
pub mod parser;
pub mod pipeline;
pub mod rdap;
pub mod registry_data;
pub mod server;
pub mod smtp_intake;
pub mod worker;

pub use config::{Config, ConfigErrors, Sources};
pub use server::{Running, ServeError, Services, serve};

/// The time, as milliseconds since the Unix epoch. Tests use fixed clocks.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> abusedesk_store::Millis;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> abusedesk_store::Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}
