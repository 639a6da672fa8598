//! abusedesk-smtp: an SMTP server engine (RFC 5321) for the desk's intake listener and
//! the spam trap.
//!
//! Two layers:
//! - [`Session`]: a sans-I/O state machine. Feed it bytes and the time, get replies
//!   and [`Event`]s (decisions to make, messages to store). No sockets, no clock.
//! - [`serve_connection`] / [`serve`]: a tokio driver that runs sessions over TCP
//!   (optionally upgraded with STARTTLS via rustls) and asks a [`Handler`] for each
//!   decision.
//!
//! The engine is not open to SMTP smuggling: only `<CR><LF>.<CR><LF>` ends a message
//! (see [`BareLineEndings`]). `docs/smtp.md` describes the behaviour in full.
//!
//! ```no_run
//! use abusedesk_smtp::{serve, Accepted, Handler, Message, Reply, ServerConfig, SessionConfig, SessionInfo};
//! use std::sync::Arc;
//! use tokio_util::sync::CancellationToken;
//!
//! struct Intake;
//! impl Handler for Intake {
//!     async fn on_message(&self, _s: &SessionInfo, m: Message) -> Result<Accepted, Reply> {
//!         // Commit m.data durably here; the client gets 250 only after this returns Ok.
//!         let _ = m;
//!         Ok(Accepted::with_id("42"))
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:2525").await?;
//! let config = ServerConfig::new(SessionConfig { hostname: "desk.example".into(), ..Default::default() });
//! serve(listener, Arc::new(config), Arc::new(Intake), CancellationToken::new()).await
//! # }
//! ```

mod address;
mod command;
mod data;
mod reply;
mod server;
mod session;

pub use address::{AddressError, ForwardPath, Mailbox, ReversePath};
pub use command::{Body, MailFrom, RcptTo, Verb};
pub use reply::{EnhancedCode, Reply, ReplyError};
pub use server::{
    Handler, ServerConfig, TlsConfigError, serve, serve_connection, tls_config_from_pem,
};
pub use session::{
    Accepted, BareLineEndings, CommandRecord, ConnectionInfo, EarlyTalk, EarlyTalkPolicy, End,
    EndReason, Envelope, Event, Greeting, GreetingRecord, Helo, HeloVerb, Message,
    NoPendingDecision, PREGREET_BUFFER, Phase, Session, SessionConfig, SessionInfo, TlsInfo,
};

/// Re-exported so applications name the same versions the engine uses.
pub use rustls;
pub use tokio_util::sync::CancellationToken;
