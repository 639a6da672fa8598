//! The tokio driver: runs a [`Session`] over a socket, asks a [`Handler`] for every
//! decision, applies timeouts, STARTTLS and graceful shutdown.

use crate::command::{MailFrom, RcptTo};
use crate::reply::Reply;
use crate::session::{
    Accepted, ConnectionInfo, Envelope, Event, Greeting, Helo, Message, PREGREET_BUFFER, Phase,
    Session, SessionConfig, SessionInfo, TlsInfo,
};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

const READ_BUFFER: usize = 64 * 1024;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The application side of an SMTP server. Every method has a default except
/// [`Handler::on_message`]; implement them with `async fn`.
///
/// The driver calls them in protocol order, one at a time per connection, and sends the
/// reply only after the call returns: for a message, **the 250 goes out only after
/// `on_message` returned `Ok`**, so an application that commits the message to durable
/// storage inside `on_message` never acknowledges a message it could lose.
pub trait Handler: Send + Sync {
    /// A client connected. The driver sends the greeting when this returns, so the
    /// trap's greet pause is a sleep here. While it runs the driver keeps reading: bytes
    /// the client sends are recorded as [`SessionInfo::early_talk`], and if the client
    /// disconnects (or the server shuts down) this future is **dropped** and the session
    /// ends with [`EndReason::ClientClosed`](crate::EndReason) in
    /// [`Phase::Greeting`].
    fn on_connect(&self, session: &SessionInfo) -> impl Future<Output = Greeting> + Send {
        let _ = session;
        async { Greeting::Accept }
    }

    /// EHLO or HELO. `Err` sends the reply (the client may try again).
    fn on_helo(
        &self,
        session: &SessionInfo,
        helo: &Helo,
    ) -> impl Future<Output = Result<(), Reply>> + Send {
        let _ = (session, helo);
        async { Ok(()) }
    }

    /// MAIL FROM (sender callouts go here).
    fn on_mail_from(
        &self,
        session: &SessionInfo,
        mail: &MailFrom,
    ) -> impl Future<Output = Result<(), Reply>> + Send {
        let _ = (session, mail);
        async { Ok(()) }
    }

    /// RCPT TO, one recipient at a time; `envelope` holds MAIL FROM and the recipients
    /// accepted so far. Return e.g. [`Reply::greylisted`] or [`Reply::no_such_user`].
    fn on_rcpt_to(
        &self,
        session: &SessionInfo,
        envelope: &Envelope,
        rcpt: &RcptTo,
    ) -> impl Future<Output = Result<(), Reply>> + Send {
        let _ = (session, envelope, rcpt);
        async { Ok(()) }
    }

    /// A complete message. `Ok` sends `250 2.0.0`; `Err(reply)` sends that reply
    /// (4xx: the client retries later; 5xx: it bounces).
    fn on_message(
        &self,
        session: &SessionInfo,
        message: Message,
    ) -> impl Future<Output = Result<Accepted, Reply>> + Send;

    /// The session is over; `session.end` says how and when.
    fn on_close(&self, session: &SessionInfo) -> impl Future<Output = ()> + Send {
        let _ = session;
        async {}
    }
}

/// Driver settings. `ServerConfig::new(session)` gives the defaults documented here.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub session: Arc<SessionConfig>,
    /// TLS for STARTTLS; `None` means STARTTLS is not offered. See
    /// [`tls_config_from_pem`].
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Wait for the next command (RFC 5321 4.5.3.2.7: at least 5 minutes). Default 300 s.
    /// Also bounds writing a reply to a client that does not read.
    pub command_timeout: Duration,
    /// Wait for the next chunk inside DATA (the client's data-block timeout in
    /// 4.5.3.2.5 is 3 minutes). Default 180 s.
    pub data_timeout: Duration,
    /// The TLS handshake after STARTTLS. Default 60 s.
    pub tls_handshake_timeout: Duration,
    /// Concurrent connections in [`serve`]; more get `421 4.7.0` at once. Default 1000.
    pub max_connections: usize,
    /// After shutdown, how long [`serve`] waits for sessions to finish (a message in
    /// DATA is completed, idle sessions get `421 4.3.2` at once) before aborting them.
    /// Default 30 s.
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    pub fn new(session: SessionConfig) -> Self {
        ServerConfig {
            session: Arc::new(session),
            tls: None,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(180),
            tls_handshake_timeout: Duration::from_secs(60),
            max_connections: 1000,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::new(SessionConfig::default())
    }
}

/// A PEM certificate chain or key that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("no certificate found in the PEM data")]
    NoCertificate,
    #[error("invalid certificate PEM: {0}")]
    Certificate(String),
    #[error("invalid private key PEM: {0}")]
    PrivateKey(String),
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds a rustls server configuration (ring provider, TLS 1.2 and 1.3, no client
/// certificates) from a PEM certificate chain and a PEM private key.
pub fn tls_config_from_pem(
    cert_chain_pem: &[u8],
    private_key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Certificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(private_key_pem)
        .map_err(|e| TlsConfigError::PrivateKey(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

fn now() -> SystemTime {
    SystemTime::now()
}

enum Exit {
    StartTls,
    Closed,
}

/// Runs one SMTP session on `stream` (a TCP stream or anything else) until it ends;
/// returns its record (also passed to [`Handler::on_close`]). `local` is the address the
/// client connected to (for a trap listening on several). When `shutdown` is cancelled
/// the session ends at the next command boundary with `421 4.3.2`.
///
/// Set `TCP_NODELAY` on TCP streams first ([`serve`] does): every reply is one write.
pub async fn serve_connection<S, H>(
    stream: S,
    peer: SocketAddr,
    local: SocketAddr,
    config: &ServerConfig,
    handler: &H,
    shutdown: &CancellationToken,
) -> SessionInfo
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    H: Handler,
{
    let conn = ConnectionInfo {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        peer,
        local,
        starttls: config.tls.is_some(),
    };
    let mut session = Session::new(config.session.clone(), conn, now());
    let mut buf = vec![0u8; READ_BUFFER];
    let mut stream = stream;

    greeting_phase(&mut stream, &mut session, handler, shutdown, &mut buf).await;
    let exit = run(
        &mut stream,
        &mut session,
        handler,
        config,
        shutdown,
        &mut buf,
    )
    .await;
    if let Exit::StartTls = exit {
        match config.tls.clone() {
            None => session.tls_failed("STARTTLS without TLS configuration", now()),
            Some(tls) => {
                let acceptor = TlsAcceptor::from(tls);
                match tokio::time::timeout(config.tls_handshake_timeout, acceptor.accept(stream))
                    .await
                {
                    Ok(Ok(mut tls_stream)) => {
                        session.tls_established(tls_info(&tls_stream), now());
                        run(
                            &mut tls_stream,
                            &mut session,
                            handler,
                            config,
                            shutdown,
                            &mut buf,
                        )
                        .await;
                    }
                    Ok(Err(e)) => session.tls_failed(&e.to_string(), now()),
                    Err(_) => session.tls_failed("TLS handshake timed out", now()),
                }
            }
        }
    }
    let info = session.into_info();
    tracing::debug!(
        id = info.id,
        peer = %info.peer,
        end = ?info.end.as_ref().map(|e| &e.reason),
        accepted = info.messages_accepted,
        "smtp session closed"
    );
    handler.on_close(&info).await;
    info
}

fn tls_info<S>(tls: &tokio_rustls::server::TlsStream<S>) -> TlsInfo {
    let (_, conn) = tls.get_ref();
    let version = match conn.protocol_version() {
        Some(v) => match v.as_str() {
            Some(s) => s.replace('_', "."),
            None => format!("{v:?}"),
        },
        None => "unknown".to_string(),
    };
    let cipher = match conn.negotiated_cipher_suite() {
        Some(c) => match c.suite().as_str() {
            Some(s) => s.to_string(),
            None => format!("{:?}", c.suite()),
        },
        None => "unknown".to_string(),
    };
    TlsInfo {
        version,
        cipher,
        sni: conn.server_name().map(str::to_string),
        at: now(),
    }
}

/// Waits for `on_connect` while reading (and recording) anything the client sends.
async fn greeting_phase<S, H>(
    stream: &mut S,
    session: &mut Session,
    handler: &H,
    shutdown: &CancellationToken,
    buf: &mut [u8],
) where
    S: AsyncRead + Unpin,
    H: Handler,
{
    let info = session.info().clone();
    let connect = handler.on_connect(&info);
    tokio::pin!(connect);
    let greeting = loop {
        let room = session.buffered_input() < PREGREET_BUFFER;
        tokio::select! {
            biased;
            g = &mut connect => break Some(g),
            _ = shutdown.cancelled() => {
                session.shutdown(now());
                break None;
            }
            r = stream.read(buf), if room => match r {
                Ok(0) => {
                    session.input_closed(now());
                    break None;
                }
                Ok(n) => session.receive(&buf[..n], now()),
                Err(e) => {
                    session.io_error(&e.to_string(), now());
                    break None;
                }
            },
        }
    };
    if let Some(g) = greeting {
        session.greet(g, now());
    }
}

async fn flush<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    session: &mut Session,
    limit: Duration,
) -> io::Result<()> {
    if session.output().is_empty() {
        return Ok(());
    }
    let write = async {
        io.write_all(session.output()).await?;
        io.flush().await
    };
    match tokio::time::timeout(limit, write).await {
        Ok(r) => r?,
        Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
    }
    session.clear_output();
    Ok(())
}

async fn run<IO, H>(
    io: &mut IO,
    session: &mut Session,
    handler: &H,
    config: &ServerConfig,
    shutdown: &CancellationToken,
    buf: &mut [u8],
) -> Exit
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: Handler,
{
    loop {
        match session.poll() {
            Event::NeedInput => {
                if let Err(e) = flush(io, session, config.command_timeout).await {
                    session.io_error(&e.to_string(), now());
                    continue;
                }
                let phase = session.phase();
                let idle = phase == Phase::Command;
                if idle && shutdown.is_cancelled() {
                    session.shutdown(now());
                    continue;
                }
                let limit = if phase == Phase::Data {
                    config.data_timeout
                } else {
                    config.command_timeout
                };
                let read = tokio::select! {
                    r = tokio::time::timeout(limit, io.read(buf)) => r,
                    _ = shutdown.cancelled(), if idle => {
                        session.shutdown(now());
                        continue;
                    }
                };
                match read {
                    Err(_) => session.timed_out(now()),
                    Ok(Ok(0)) => session.input_closed(now()),
                    Ok(Ok(n)) => session.receive(&buf[..n], now()),
                    Ok(Err(e)) => session.io_error(&e.to_string(), now()),
                }
            }
            Event::Helo(helo) => {
                let verdict = handler.on_helo(session.info(), &helo).await;
                let _ = session.resolve(verdict.map(|()| Accepted::new()), now());
            }
            Event::MailFrom(mail) => {
                let verdict = handler.on_mail_from(session.info(), &mail).await;
                let _ = session.resolve(verdict.map(|()| Accepted::new()), now());
            }
            Event::RcptTo(rcpt) => {
                let verdict = match session.envelope() {
                    Some(envelope) => handler.on_rcpt_to(session.info(), envelope, &rcpt).await,
                    None => Err(Reply::temporary_failure("Internal error: no transaction")),
                };
                let _ = session.resolve(verdict.map(|()| Accepted::new()), now());
            }
            Event::Message(message) => {
                let verdict = handler.on_message(session.info(), message).await;
                let _ = session.resolve(verdict, now());
            }
            Event::StartTls => {
                return match flush(io, session, config.command_timeout).await {
                    Ok(()) => Exit::StartTls,
                    Err(e) => {
                        session.io_error(&e.to_string(), now());
                        Exit::Closed
                    }
                };
            }
            Event::Close => {
                let _ = flush(io, session, config.command_timeout).await;
                let _ = tokio::time::timeout(Duration::from_secs(5), io.shutdown()).await;
                return Exit::Closed;
            }
            Event::DecisionPending => {
                // Every decision above is resolved before polling again.
                session.io_error("internal error: decision left pending", now());
            }
        }
    }
}

/// Accepts connections on `listener` and serves each in its own task until `shutdown`
/// is cancelled; then stops accepting, lets sessions finish (see
/// [`ServerConfig::shutdown_grace`]) and returns.
pub async fn serve<H>(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> io::Result<()>
where
    H: Handler + 'static,
{
    let listen_addr = listener.local_addr()?;
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::error!("smtp session task panicked: {e}");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let local = stream.local_addr().unwrap_or(listen_addr);
                    match slots.clone().try_acquire_owned() {
                        Ok(permit) => {
                            let config = config.clone();
                            let handler = handler.clone();
                            let shutdown = shutdown.clone();
                            tasks.spawn(async move {
                                let _permit = permit;
                                serve_connection(stream, peer, local, &config, &*handler, &shutdown)
                                    .await;
                            });
                        }
                        Err(_) => {
                            let host = config.session.hostname.clone();
                            tasks.spawn(refuse_busy(stream, host));
                        }
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("smtp accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(config.shutdown_grace, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            "smtp shutdown: {} sessions still running after the grace period; aborting them",
            tasks.len()
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Ok(())
}

async fn refuse_busy(mut stream: tokio::net::TcpStream, host: String) {
    let reply = Reply::new(
        421,
        "4.7.0",
        &format!("{host} Too many connections, try again later"),
    )
    .map(|r| r.to_bytes())
    .unwrap_or_else(|_| b"421 Too many connections\r\n".to_vec());
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        stream.write_all(&reply).await?;
        stream.shutdown().await
    })
    .await;
}
