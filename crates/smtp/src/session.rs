//! The sans-I/O SMTP session: bytes in, replies and events out. No sockets, no clocks,
//! no async: the caller passes the time with every call and performs every wait.
//!
//! ```text
//!   driver                                   Session
//!   ------                                   -------
//!   Session::new(config, conn, now)
//!   (handler decides the greeting)  greet()  -> queues 220 / 554 / 421
//!   loop {
//!     match poll() {
//!       NeedInput     -> write output(); read; receive(bytes, now)
//!       Helo/MailFrom/RcptTo/Message(..) -> ask the handler; resolve(verdict, now)
//!       StartTls      -> write output() (the 220); handshake; tls_established(..)
//!       Close         -> write output(); close the socket
//!     }
//!   }
//! ```
//!
//! Replies are queued in order, one per command, so a pipelined batch (RFC 2920) is
//! answered exactly as if its commands had come one by one; the driver writes the
//! queue whenever the session needs more input, which is when a pipelining client
//! waits for it.

use crate::address::AddressError;
use crate::command::{ArgError, MailFrom, RcptTo, Verb, parse_mail, parse_rcpt};
use crate::data::DataReader;
use crate::reply::{EnhancedCode, Reply, codes};
use memchr::memchr;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

/// Bytes a client may send before the greeting that we keep (to process or record).
pub const PREGREET_BUFFER: usize = 64 * 1024;
/// How much of early talk is kept in [`EarlyTalk::bytes`].
const EARLY_TALK_KEPT: usize = 1024;
/// Longest command argument kept in a [`CommandRecord`].
const RECORDED_ARGUMENT: usize = 512;

/// What to do with a DATA block that holds a bare CR or bare LF (a CR not followed by
/// LF, an LF not preceded by CR), and with a command line ending in bare LF.
///
/// Either way **only `<CR><LF>.<CR><LF>` ends the data**, so the engine cannot be used
/// for SMTP smuggling: what a sender meant as a second message hidden behind
/// `<LF>.<LF>` (or `<LF>.<CR><LF>`, `<CR>.<CR>`, ...) stays inside the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareLineEndings {
    /// The default, like Postfix's `smtpd_forbid_bare_newline = reject`: the message is
    /// read to its real end and refused with `550 5.5.2`; the session goes on (the
    /// client and the server agree where the data ended). A command line ending in a
    /// bare LF is refused with `500 5.5.2`.
    #[default]
    Reject,
    /// Keep the bytes exactly as sent (the trap's "record everything"; the message says
    /// whether it held bare line endings). Command lines may end in a bare LF.
    Accept,
}

/// What to do with a client that sends before the greeting (RFC 5321 3.1 says it must
/// wait; spamware often does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EarlyTalkPolicy {
    /// Record it, then greet and process the early bytes as commands (what a plain MTA
    /// does).
    #[default]
    Process,
    /// Record it, greet with `554 5.5.1` and answer 503 until QUIT (postscreen's
    /// "pregreet" test).
    Refuse,
}

/// Settings of one session. `Default` gives the values documented on each field.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our name in the greeting and in EHLO/HELO and 221/421 replies. Default `localhost`.
    pub hostname: String,
    /// Text after `ESMTP` in the greeting. Default `abusedesk`.
    pub banner: String,
    /// Largest message in octets (after dot-unstuffing), advertised as `SIZE`; 0 means
    /// no limit. Default 25 MiB.
    pub max_message_size: u64,
    /// Recipients per transaction; more get `452 4.5.3` (RFC 5321 4.5.3.1.8 wants at
    /// least 100). Default 100.
    pub max_recipients: usize,
    /// Negative replies to commands (protocol errors and handler refusals) after which
    /// the session ends with `421 4.7.0`. Default 20.
    pub max_errors: u32,
    /// Longest command line in octets including CRLF (RFC 5321: at least 512; SIZE,
    /// SMTPUTF8 and long addresses need more). Default 2048.
    pub max_line_length: usize,
    /// Bare CR / bare LF policy. Default [`BareLineEndings::Reject`].
    pub bare_line_endings: BareLineEndings,
    /// Early talker policy. Default [`EarlyTalkPolicy::Process`].
    pub early_talk: EarlyTalkPolicy,
    /// Commands kept in [`SessionInfo::commands`]; later ones are only counted.
    /// Default 1000.
    pub max_recorded_commands: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hostname: "localhost".to_string(),
            banner: "abusedesk".to_string(),
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            max_errors: 20,
            max_line_length: 2048,
            bare_line_endings: BareLineEndings::Reject,
            early_talk: EarlyTalkPolicy::Process,
            max_recorded_commands: 1000,
        }
    }
}

/// The connection a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Unique per process (the driver counts).
    pub id: u64,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// Whether STARTTLS is offered (the driver has TLS configured).
    pub starttls: bool,
}

/// EHLO or HELO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeloVerb {
    Ehlo,
    Helo,
}

/// The client's EHLO/HELO, exactly as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helo {
    pub verb: HeloVerb,
    /// The argument as sent (lossy UTF-8, surrounding spaces trimmed); not validated
    /// beyond being non-empty: classifying it is the caller's business.
    pub argument: String,
    pub at: SystemTime,
}

/// The TLS session after STARTTLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// e.g. `TLSv1.3`.
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// Server name the client asked for (SNI), if any.
    pub sni: Option<String>,
    pub at: SystemTime,
}

/// Bytes a client sent before our greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyTalk {
    /// When the first early byte arrived.
    pub at: SystemTime,
    /// The first bytes (up to 1 KiB).
    pub bytes: Vec<u8>,
    /// All early bytes counted.
    pub total: u64,
}

/// One command (or end of data) and our answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    /// When the input holding it arrived.
    pub at: SystemTime,
    pub verb: Verb,
    /// The line after the verb (lossy UTF-8, first 512 bytes); for
    /// [`Verb::EndOfData`], `"<n> octets"`.
    pub argument: String,
    /// Our reply code; `None` while a decision is pending or when the client left.
    pub reply: Option<u16>,
}

/// The greeting we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreetingRecord {
    pub at: SystemTime,
    pub code: u16,
}

/// Where the session was when something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Before the greeting (the handler's greet pause).
    Greeting,
    /// Waiting for a command.
    Command,
    /// Inside DATA.
    Data,
    /// Waiting for the handler's verdict.
    Handler,
    /// During the TLS handshake.
    TlsHandshake,
    /// The session is over.
    Closed,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The client sent QUIT.
    Quit,
    /// The client closed the connection.
    ClientClosed { phase: Phase },
    /// The client was silent for too long (`421 4.4.2`).
    Timeout { phase: Phase },
    /// `max_errors` reached (`421 4.7.0`).
    TooManyErrors,
    /// The server shut down (`421 4.3.2`).
    Shutdown,
    /// The greeting was a 421.
    GreetingRefused,
    /// An HTTP request or similar (`421 4.7.0`).
    NonSmtpCommand,
    /// The TLS handshake failed.
    TlsFailed(String),
    /// A socket error.
    Io(String),
}

/// When and why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    pub at: SystemTime,
    pub reason: EndReason,
}

/// Everything recorded about a session: what a spam trap stores, and what handlers see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: u64,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub connected_at: SystemTime,
    /// Set when the client talked before the greeting.
    pub early_talk: Option<EarlyTalk>,
    /// Set once the greeting is sent.
    pub greeting: Option<GreetingRecord>,
    /// The accepted EHLO/HELO in force (cleared by STARTTLS). Every attempt is also in
    /// `commands`.
    pub helo: Option<Helo>,
    /// Set after a successful STARTTLS.
    pub tls: Option<TlsInfo>,
    /// Every command in order, with times and reply codes.
    pub commands: Vec<CommandRecord>,
    /// Commands beyond `max_recorded_commands`, counted only.
    pub commands_dropped: u64,
    pub messages_accepted: u32,
    pub messages_refused: u32,
    /// Negative replies to commands so far.
    pub errors: u32,
    /// All SMTP bytes received (after STARTTLS: the decrypted bytes).
    pub bytes_received: u64,
    /// Plaintext bytes pipelined after STARTTLS, discarded unread (the STARTTLS
    /// command-injection attack, CVE-2011-0411).
    pub starttls_discarded: u64,
    /// Set when the session is over.
    pub end: Option<End>,
}

/// The transaction so far (MAIL FROM and the accepted recipients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub mail_from: MailFrom,
    /// Accepted recipients, in order.
    pub recipients: Vec<RcptTo>,
    /// When MAIL FROM arrived.
    pub started_at: SystemTime,
}

/// A complete message, handed to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub envelope: Envelope,
    /// The message after dot-unstuffing, ending with the CRLF before the final dot
    /// (empty for an empty DATA). Exactly the bytes sent otherwise.
    pub data: Vec<u8>,
    /// When the end of data arrived.
    pub received_at: SystemTime,
    /// It held a bare LF / bare CR (only possible under [`BareLineEndings::Accept`]).
    pub bare_lf: bool,
    pub bare_cr: bool,
}

/// How the application answers a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// `220 <hostname> ESMTP <banner>`.
    Accept,
    /// A 421 closes the connection; any other code (normally 554) refuses service:
    /// the session then answers 503 to everything but QUIT (RFC 5321 3.1).
    Refuse(Reply),
}

/// A message accepted by the application; the 250 may name its queue id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accepted {
    queue_id: Option<String>,
}

impl Accepted {
    /// `250 2.0.0 Message accepted`.
    pub fn new() -> Self {
        Accepted { queue_id: None }
    }
    /// `250 2.0.0 Message accepted: queued as <id>`.
    pub fn with_id(id: impl Into<String>) -> Self {
        Accepted {
            queue_id: Some(id.into()),
        }
    }
    pub fn queue_id(&self) -> Option<&str> {
        self.queue_id.as_deref()
    }
}

/// What the session needs from its driver next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Write [`Session::output`], then read and [`Session::receive`] more input (or
    /// time out, or shut down).
    NeedInput,
    /// Decide an EHLO/HELO, then [`Session::resolve`].
    Helo(Helo),
    /// Decide a MAIL FROM (the transaction is [`Session::envelope`] once accepted).
    MailFrom(MailFrom),
    /// Decide a RCPT TO for the transaction in [`Session::envelope`].
    RcptTo(RcptTo),
    /// Store the message, then resolve: the 250 is sent only for `Ok`.
    Message(Message),
    /// Write the output (it ends with `220 2.0.0 Ready to start TLS`), run the TLS
    /// handshake, then call [`Session::tls_established`] or [`Session::tls_failed`].
    StartTls,
    /// Write the output and close the connection.
    Close,
    /// `poll` was called while a decision is outstanding: call `resolve` first.
    DecisionPending,
}

/// `resolve` was called with no decision outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no decision is pending")]
pub struct NoPendingDecision;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    PreGreeting,
    Command,
    /// A refusing greeting was sent: 503 to all but QUIT.
    NoService,
    Data,
    TlsHandshake,
    Closed,
}

#[derive(Debug)]
enum Pending {
    Helo(Helo),
    Mail(MailFrom),
    Rcpt(RcptTo),
    Message,
}

enum Line {
    Ok(Vec<u8>),
    TooLong,
    BareLf,
}

/// One SMTP server session. See the module documentation for the driving loop.
#[derive(Debug)]
pub struct Session {
    config: Arc<SessionConfig>,
    info: SessionInfo,
    starttls: bool,
    state: State,
    input: Vec<u8>,
    pos: usize,
    /// Offset (from `pos`) up to which the partial line was already searched for LF.
    scanned: usize,
    discarding: bool,
    output: Vec<u8>,
    pending: Option<Pending>,
    txn: Option<Envelope>,
    refused_rcpts: usize,
    data: Option<DataReader>,
    /// Time of the latest call (for the end record).
    now: SystemTime,
    /// When the input being processed arrived (for command records).
    arrived: SystemTime,
    current_record: Option<usize>,
}

impl Session {
    pub fn new(config: Arc<SessionConfig>, conn: ConnectionInfo, now: SystemTime) -> Self {
        Session {
            config,
            info: SessionInfo {
                id: conn.id,
                peer: conn.peer,
                local: conn.local,
                connected_at: now,
                early_talk: None,
                greeting: None,
                helo: None,
                tls: None,
                commands: Vec::new(),
                commands_dropped: 0,
                messages_accepted: 0,
                messages_refused: 0,
                errors: 0,
                bytes_received: 0,
                starttls_discarded: 0,
                end: None,
            },
            starttls: conn.starttls,
            state: State::PreGreeting,
            input: Vec::new(),
            pos: 0,
            scanned: 0,
            discarding: false,
            output: Vec::new(),
            pending: None,
            txn: None,
            refused_rcpts: 0,
            data: None,
            now,
            arrived: now,
            current_record: None,
        }
    }

    /// The record of the session so far.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// Consumes the session, returning its record.
    pub fn into_info(self) -> SessionInfo {
        self.info
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The open transaction, if MAIL FROM was accepted.
    pub fn envelope(&self) -> Option<&Envelope> {
        self.txn.as_ref()
    }

    /// Replies queued for the client.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Call after writing [`Session::output`].
    pub fn clear_output(&mut self) {
        self.output.clear();
    }

    /// Takes the queued replies.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn phase(&self) -> Phase {
        if self.pending.is_some() {
            return Phase::Handler;
        }
        match self.state {
            State::PreGreeting => Phase::Greeting,
            State::Command | State::NoService => Phase::Command,
            State::Data => Phase::Data,
            State::TlsHandshake => Phase::TlsHandshake,
            State::Closed => Phase::Closed,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Bytes received and not yet processed.
    pub fn buffered_input(&self) -> usize {
        self.input.len() - self.pos
    }

    /// Feeds bytes read from the client. Before the greeting they are recorded as
    /// early talk (and kept, up to 64 KiB, for [`EarlyTalkPolicy::Process`]).
    pub fn receive(&mut self, bytes: &[u8], now: SystemTime) {
        self.now = now;
        self.arrived = now;
        self.info.bytes_received = self.info.bytes_received.saturating_add(bytes.len() as u64);
        match self.state {
            State::Closed | State::TlsHandshake => {}
            State::PreGreeting => {
                if bytes.is_empty() {
                    return;
                }
                let early = self.info.early_talk.get_or_insert_with(|| EarlyTalk {
                    at: now,
                    bytes: Vec::new(),
                    total: 0,
                });
                early.total = early.total.saturating_add(bytes.len() as u64);
                let keep = EARLY_TALK_KEPT
                    .saturating_sub(early.bytes.len())
                    .min(bytes.len());
                early.bytes.extend_from_slice(&bytes[..keep]);
                let room = PREGREET_BUFFER
                    .saturating_sub(self.input.len())
                    .min(bytes.len());
                self.input.extend_from_slice(&bytes[..room]);
            }
            _ => {
                if self.pos > 0 {
                    self.input.drain(..self.pos);
                    self.pos = 0;
                }
                self.input.extend_from_slice(bytes);
            }
        }
    }

    /// Sends the greeting the application chose.
    pub fn greet(&mut self, greeting: Greeting, now: SystemTime) {
        if self.state != State::PreGreeting {
            return;
        }
        self.now = now;
        let host = self.config.hostname.clone();
        let reply = match greeting {
            Greeting::Accept
                if self.info.early_talk.is_some()
                    && self.config.early_talk == EarlyTalkPolicy::Refuse =>
            {
                self.input.clear();
                self.pos = 0;
                self.state = State::NoService;
                Reply::fixed(
                    554,
                    Some(codes::INVALID_COMMAND),
                    &format!("{host} Protocol error: you talked before my greeting"),
                )
            }
            Greeting::Accept => {
                self.state = State::Command;
                Reply::fixed(220, None, &format!("{host} ESMTP {}", self.config.banner))
            }
            Greeting::Refuse(r) if r.code() == 421 => {
                self.write_reply(&r);
                self.info.greeting = Some(GreetingRecord { at: now, code: 421 });
                self.close(EndReason::GreetingRefused);
                return;
            }
            Greeting::Refuse(r) => {
                self.input.clear();
                self.pos = 0;
                self.state = State::NoService;
                if r.is_positive() {
                    Reply::no_service(&format!("{host} No service"))
                } else {
                    r
                }
            }
        };
        self.info.greeting = Some(GreetingRecord {
            at: now,
            code: reply.code(),
        });
        self.write_reply(&reply);
    }

    /// Processes buffered input until the driver must act.
    pub fn poll(&mut self) -> Event {
        loop {
            if self.pending.is_some() {
                return Event::DecisionPending;
            }
            match self.state {
                State::Closed => return Event::Close,
                State::PreGreeting => return Event::NeedInput,
                State::TlsHandshake => return Event::StartTls,
                State::Data => {
                    let Some(reader) = self.data.as_mut() else {
                        self.state = State::Command;
                        continue;
                    };
                    let (used, done) = reader.feed(&self.input[self.pos..]);
                    self.pos += used;
                    if !done {
                        return Event::NeedInput;
                    }
                    if let Some(ev) = self.finish_data() {
                        return ev;
                    }
                }
                State::Command | State::NoService => match self.next_line() {
                    None => return Event::NeedInput,
                    Some(Line::TooLong) => {
                        self.record_command(Verb::Unknown, b"");
                        self.error(500, codes::SYNTAX_ERROR, "Line too long");
                    }
                    Some(Line::BareLf) => {
                        self.record_command(Verb::Unknown, b"");
                        self.error(
                            500,
                            codes::SYNTAX_ERROR,
                            "Command line ends in a bare LF; end lines with CRLF",
                        );
                    }
                    Some(Line::Ok(line)) => {
                        if let Some(ev) = self.command(&line) {
                            return ev;
                        }
                    }
                },
            }
        }
    }

    /// Answers the outstanding decision. `Ok` accepts (for a message: the 250, with the
    /// queue id if given); `Err` sends the handler's reply, which must be 4xx/5xx (a
    /// positive one is replaced by `451 4.3.0`).
    pub fn resolve(
        &mut self,
        verdict: Result<Accepted, Reply>,
        now: SystemTime,
    ) -> Result<(), NoPendingDecision> {
        let pending = self.pending.take().ok_or(NoPendingDecision)?;
        self.now = now;
        let verdict = verdict.map_err(|r| {
            if r.is_positive() {
                Reply::temporary_failure(
                    "Internal error: the handler returned a positive reply as a refusal",
                )
            } else {
                r
            }
        });
        match (pending, verdict) {
            (Pending::Helo(helo), Ok(_)) => {
                self.txn = None;
                self.refused_rcpts = 0;
                let verb = helo.verb;
                self.info.helo = Some(helo);
                let reply = self.helo_reply(verb);
                self.respond(&reply);
            }
            (Pending::Mail(mail), Ok(_)) => {
                self.txn = Some(Envelope {
                    mail_from: mail,
                    recipients: Vec::new(),
                    started_at: self.arrived,
                });
                self.refused_rcpts = 0;
                self.respond(&Reply::fixed(250, Some(codes::SENDER_OK), "Sender OK"));
            }
            (Pending::Rcpt(rcpt), Ok(_)) => {
                if let Some(txn) = self.txn.as_mut() {
                    txn.recipients.push(rcpt);
                }
                self.respond(&Reply::fixed(250, Some(codes::RCPT_OK), "Recipient OK"));
            }
            (Pending::Message, Ok(accepted)) => {
                self.info.messages_accepted += 1;
                let text = match accepted.queue_id() {
                    Some(id) => format!("Message accepted: queued as {id}"),
                    None => "Message accepted".to_string(),
                };
                self.respond(&Reply::fixed(250, Some(codes::OK), &text));
            }
            (Pending::Rcpt(_), Err(r)) => {
                self.refused_rcpts += 1;
                self.error_reply(&r);
            }
            (Pending::Message, Err(r)) => {
                self.info.messages_refused += 1;
                self.respond(&r);
            }
            (Pending::Helo(_) | Pending::Mail(_), Err(r)) => self.error_reply(&r),
        }
        Ok(())
    }

    /// The client closed its side (read returned 0). Nothing more is sent.
    pub fn input_closed(&mut self, now: SystemTime) {
        if self.state == State::Closed {
            return;
        }
        self.now = now;
        let phase = self.phase();
        self.pending = None;
        self.close(EndReason::ClientClosed { phase });
    }

    /// The client was silent too long: queues `421 4.4.2` and closes.
    pub fn timed_out(&mut self, now: SystemTime) {
        if self.state == State::Closed {
            return;
        }
        self.now = now;
        let phase = self.phase();
        let text = format!(
            "{} Timeout exceeded, closing connection",
            self.config.hostname
        );
        self.write_reply(&Reply::fixed(421, Some(codes::TIMEOUT), &text));
        self.pending = None;
        self.close(EndReason::Timeout { phase });
    }

    /// The server is shutting down: queues `421 4.3.2` and closes. Call it between
    /// commands; a message in progress is lost to the client (it will retry).
    pub fn shutdown(&mut self, now: SystemTime) {
        if self.state == State::Closed {
            return;
        }
        self.now = now;
        let text = format!(
            "{} Service shutting down, try again later",
            self.config.hostname
        );
        self.write_reply(&Reply::fixed(421, Some(codes::SHUTTING_DOWN), &text));
        self.pending = None;
        self.close(EndReason::Shutdown);
    }

    /// A read or write failed.
    pub fn io_error(&mut self, error: &str, now: SystemTime) {
        if self.state == State::Closed {
            return;
        }
        self.now = now;
        self.pending = None;
        self.close(EndReason::Io(error.to_string()));
    }

    /// The TLS handshake after STARTTLS succeeded: the session starts over (RFC 3207
    /// 4.2: the client must send EHLO again).
    pub fn tls_established(&mut self, tls: TlsInfo, now: SystemTime) {
        if self.state != State::TlsHandshake {
            return;
        }
        self.now = now;
        self.info.tls = Some(tls);
        self.info.helo = None;
        self.txn = None;
        self.refused_rcpts = 0;
        self.input.clear();
        self.pos = 0;
        self.scanned = 0;
        self.state = State::Command;
    }

    /// The TLS handshake failed; the session is over.
    pub fn tls_failed(&mut self, error: &str, now: SystemTime) {
        self.now = now;
        self.close(EndReason::TlsFailed(error.to_string()));
    }

    // ---- internals ----

    fn close(&mut self, reason: EndReason) {
        self.state = State::Closed;
        self.data = None;
        if self.info.end.is_none() {
            self.info.end = Some(End {
                at: self.now,
                reason,
            });
        }
    }

    fn next_line(&mut self) -> Option<Line> {
        let max = self.config.max_line_length.max(512);
        let avail = &self.input[self.pos..];
        if self.discarding {
            return match memchr(b'\n', avail) {
                None => {
                    self.input.clear();
                    self.pos = 0;
                    None
                }
                Some(i) => {
                    self.pos += i + 1;
                    self.discarding = false;
                    self.scanned = 0;
                    Some(Line::TooLong)
                }
            };
        }
        let from = self.scanned.min(avail.len());
        match memchr(b'\n', &avail[from..]) {
            None => {
                if avail.len() > max {
                    self.discarding = true;
                    self.input.clear();
                    self.pos = 0;
                    self.scanned = 0;
                } else {
                    self.scanned = avail.len();
                }
                None
            }
            Some(off) => {
                let i = from + off;
                self.scanned = 0;
                let has_cr = i > 0 && avail[i - 1] == b'\r';
                let content_end = if has_cr { i - 1 } else { i };
                let line = avail[..content_end].to_vec();
                self.pos += i + 1;
                if i + 1 > max {
                    return Some(Line::TooLong);
                }
                if !has_cr && self.config.bare_line_endings == BareLineEndings::Reject {
                    return Some(Line::BareLf);
                }
                Some(Line::Ok(line))
            }
        }
    }

    fn record_command(&mut self, verb: Verb, arg: &[u8]) {
        if self.info.commands.len() < self.config.max_recorded_commands {
            let arg = &arg[..arg.len().min(RECORDED_ARGUMENT)];
            self.info.commands.push(CommandRecord {
                at: self.arrived,
                verb,
                argument: String::from_utf8_lossy(arg).into_owned(),
                reply: None,
            });
            self.current_record = Some(self.info.commands.len() - 1);
        } else {
            self.info.commands_dropped += 1;
            self.current_record = None;
        }
    }

    fn write_reply(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
        if let Some(i) = self.current_record.take()
            && let Some(rec) = self.info.commands.get_mut(i)
        {
            rec.reply = Some(reply.code());
        }
    }

    /// Sends a reply to a command; a negative one counts toward `max_errors`.
    fn respond(&mut self, reply: &Reply) {
        self.write_reply(reply);
    }

    fn error_reply(&mut self, reply: &Reply) {
        self.write_reply(reply);
        self.info.errors += 1;
        if self.info.errors >= self.config.max_errors && self.state != State::Closed {
            let text = format!(
                "{} Too many errors, closing connection",
                self.config.hostname
            );
            self.write_reply(&Reply::fixed(421, Some(codes::POLICY_TEMP), &text));
            self.close(EndReason::TooManyErrors);
        }
    }

    fn error(&mut self, code: u16, enhanced: EnhancedCode, text: &str) {
        self.error_reply(&Reply::fixed(code, Some(enhanced), text));
    }

    fn helo_reply(&self, verb: HeloVerb) -> Reply {
        let host = &self.config.hostname;
        match verb {
            HeloVerb::Helo => Reply::fixed(250, None, host),
            HeloVerb::Ehlo => {
                let size = format!("SIZE {}", self.config.max_message_size);
                let mut lines: Vec<&str> = vec![
                    host,
                    "PIPELINING",
                    &size,
                    "8BITMIME",
                    "SMTPUTF8",
                    "ENHANCEDSTATUSCODES",
                ];
                if self.starttls && self.info.tls.is_none() {
                    lines.push("STARTTLS");
                }
                Reply::multiline(250, None, &lines)
            }
        }
    }

    /// Handles one command line; returns an event when the driver must act.
    fn command(&mut self, line: &[u8]) -> Option<Event> {
        let (word, arg) = match memchr(b' ', line) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &line[line.len()..]),
        };
        let verb = Verb::from_word(word);
        self.record_command(verb, arg);
        if line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            self.error(
                500,
                codes::SYNTAX_ERROR,
                "Syntax error: control character in command",
            );
            return None;
        }
        if self.state == State::NoService {
            if verb == Verb::Quit {
                self.quit();
            } else {
                self.error(503, codes::INVALID_COMMAND, "No service here; send QUIT");
            }
            return None;
        }
        let host = self.config.hostname.clone();
        match verb {
            Verb::Ehlo | Verb::Helo => {
                let argument = String::from_utf8_lossy(arg).trim_matches(' ').to_string();
                if argument.is_empty() {
                    let text = format!("Syntax: {} hostname", verb.as_str());
                    self.error(501, codes::BAD_ARGS, &text);
                    return None;
                }
                let helo = Helo {
                    verb: if verb == Verb::Ehlo {
                        HeloVerb::Ehlo
                    } else {
                        HeloVerb::Helo
                    },
                    argument,
                    at: self.arrived,
                };
                self.pending = Some(Pending::Helo(helo.clone()));
                Some(Event::Helo(helo))
            }
            Verb::Mail => {
                if self.info.helo.is_none() {
                    self.error(503, codes::INVALID_COMMAND, "Send EHLO or HELO first");
                    return None;
                }
                if self.txn.is_some() {
                    self.error(503, codes::INVALID_COMMAND, "Nested MAIL command");
                    return None;
                }
                let Ok(arg) = std::str::from_utf8(arg) else {
                    self.error(
                        501,
                        codes::BAD_SENDER_SYNTAX,
                        "Sender address is not valid UTF-8",
                    );
                    return None;
                };
                match parse_mail(arg, self.config.max_message_size) {
                    Ok(mail) => {
                        self.pending = Some(Pending::Mail(mail.clone()));
                        Some(Event::MailFrom(mail))
                    }
                    Err(e) => {
                        self.arg_error(e, codes::BAD_SENDER_SYNTAX, "sender");
                        None
                    }
                }
            }
            Verb::Rcpt => {
                let Some(txn) = self.txn.as_ref() else {
                    self.error(503, codes::INVALID_COMMAND, "Need MAIL before RCPT");
                    return None;
                };
                if txn.recipients.len() >= self.config.max_recipients {
                    self.error(452, codes::TOO_MANY_RCPTS, "Too many recipients");
                    return None;
                }
                let utf8 = txn.mail_from.smtputf8;
                let Ok(arg) = std::str::from_utf8(arg) else {
                    self.error(
                        501,
                        codes::BAD_DEST_SYNTAX,
                        "Recipient address is not valid UTF-8",
                    );
                    return None;
                };
                match parse_rcpt(arg, utf8) {
                    Ok(rcpt) => {
                        self.pending = Some(Pending::Rcpt(rcpt.clone()));
                        Some(Event::RcptTo(rcpt))
                    }
                    Err(e) => {
                        self.arg_error(e, codes::BAD_DEST_SYNTAX, "recipient");
                        None
                    }
                }
            }
            Verb::Data => {
                if !arg.is_empty() {
                    self.error(501, codes::BAD_ARGS, "Syntax: DATA");
                } else if self.txn.is_none() {
                    self.error(503, codes::INVALID_COMMAND, "Need MAIL before DATA");
                } else if self.txn.as_ref().is_some_and(|t| t.recipients.is_empty()) {
                    if self.refused_rcpts > 0 {
                        self.error(554, codes::INVALID_COMMAND, "No valid recipients");
                    } else {
                        self.error(503, codes::INVALID_COMMAND, "Need RCPT before DATA");
                    }
                } else {
                    self.respond(&Reply::fixed(354, None, "End data with <CR><LF>.<CR><LF>"));
                    self.state = State::Data;
                    self.data = Some(DataReader::new(
                        self.config.max_message_size,
                        self.config.bare_line_endings == BareLineEndings::Reject,
                    ));
                }
                None
            }
            Verb::Rset => {
                if !arg.is_empty() {
                    self.error(501, codes::BAD_ARGS, "Syntax: RSET");
                } else {
                    self.txn = None;
                    self.refused_rcpts = 0;
                    self.respond(&Reply::fixed(250, Some(codes::OK), "Reset OK"));
                }
                None
            }
            Verb::Noop => {
                self.respond(&Reply::fixed(250, Some(codes::OK), "OK"));
                None
            }
            Verb::Quit => {
                if arg.is_empty() {
                    self.quit();
                } else {
                    self.error(501, codes::BAD_ARGS, "Syntax: QUIT");
                }
                None
            }
            Verb::Vrfy => {
                if arg.is_empty() {
                    self.error(501, codes::BAD_ARGS, "Syntax: VRFY address");
                } else {
                    self.respond(&Reply::fixed(
                        252,
                        Some(codes::OK),
                        "Cannot VRFY user, but will accept message and attempt delivery",
                    ));
                }
                None
            }
            Verb::Expn => {
                self.error(502, codes::INVALID_COMMAND, "EXPN not available");
                None
            }
            Verb::Help => {
                let cmds = if self.starttls && self.info.tls.is_none() {
                    "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS"
                } else {
                    "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"
                };
                let about = format!("{host} SMTP server (RFC 5321)");
                self.respond(&Reply::multiline(
                    214,
                    Some(codes::OK),
                    &[&about, cmds, "End of HELP"],
                ));
                None
            }
            Verb::StartTls => {
                if self.info.tls.is_some() {
                    self.error(503, codes::INVALID_COMMAND, "TLS already active");
                    None
                } else if !self.starttls {
                    self.error(502, codes::INVALID_COMMAND, "STARTTLS not available");
                    None
                } else if !arg.is_empty() {
                    self.error(501, codes::BAD_ARGS, "Syntax: STARTTLS");
                    None
                } else {
                    self.respond(&Reply::fixed(220, Some(codes::OK), "Ready to start TLS"));
                    // Anything pipelined after STARTTLS was sent in plaintext and must
                    // not be read as if it came over TLS.
                    let rest = self.input.len() - self.pos;
                    self.info.starttls_discarded += rest as u64;
                    self.input.clear();
                    self.pos = 0;
                    self.scanned = 0;
                    self.state = State::TlsHandshake;
                    Some(Event::StartTls)
                }
            }
            Verb::NotImplemented => {
                self.error(502, codes::INVALID_COMMAND, "Command not implemented");
                None
            }
            Verb::NonSmtp => {
                let text = format!("{host} Non-SMTP command, closing connection");
                self.write_reply(&Reply::fixed(421, Some(codes::POLICY_TEMP), &text));
                self.info.errors += 1;
                self.close(EndReason::NonSmtpCommand);
                None
            }
            Verb::Unknown | Verb::EndOfData => {
                self.error(500, codes::INVALID_COMMAND, "Command unrecognized");
                None
            }
        }
    }

    fn quit(&mut self) {
        let text = format!("{} closing connection", self.config.hostname);
        self.respond(&Reply::fixed(221, Some(codes::OK), &text));
        self.close(EndReason::Quit);
    }

    fn arg_error(&mut self, e: ArgError, address_code: EnhancedCode, what: &str) {
        match e {
            ArgError::Syntax(msg) => self.error(501, codes::BAD_ARGS, msg),
            ArgError::Address(AddressError::Brackets) => self.error(
                501,
                address_code,
                &format!("Bad {what} address syntax: unbalanced <>"),
            ),
            ArgError::Address(err) => self.error(
                501,
                address_code,
                &format!("Bad {what} address syntax: {err}"),
            ),
            ArgError::NonAscii => self.error(
                553,
                codes::NON_ASCII_ADDRESS,
                "Non-ASCII address requires the SMTPUTF8 parameter",
            ),
            ArgError::Unsupported(p) => {
                self.error(555, codes::BAD_ARGS, &format!("Unsupported parameter {p}"))
            }
            ArgError::TooBig => self.error(
                552,
                codes::MSG_TOO_BIG,
                "Message size exceeds fixed maximum message size",
            ),
        }
    }

    fn finish_data(&mut self) -> Option<Event> {
        self.state = State::Command;
        let reader = self.data.take()?;
        let flags = reader.flags();
        let size = reader.size();
        self.record_command(Verb::EndOfData, format!("{size} octets").as_bytes());
        let txn = self.txn.take();
        self.refused_rcpts = 0;
        if flags.oversize {
            self.info.messages_refused += 1;
            self.respond(&Reply::fixed(
                552,
                Some(codes::MSG_TOO_BIG),
                "Message size exceeds fixed maximum message size",
            ));
            return None;
        }
        if (flags.bare_lf || flags.bare_cr)
            && self.config.bare_line_endings == BareLineEndings::Reject
        {
            self.info.messages_refused += 1;
            self.respond(&Reply::fixed(
                550,
                Some(codes::SYNTAX_ERROR),
                "Message refused: it contains a bare LF or bare CR (RFC 5321 2.3.8); end lines with CRLF",
            ));
            return None;
        }
        let envelope = txn?;
        self.pending = Some(Pending::Message);
        Some(Event::Message(Message {
            envelope,
            data: reader.into_message(),
            received_at: self.arrived,
            bare_lf: flags.bare_lf,
            bare_cr: flags.bare_cr,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000 + secs)
    }

    fn conn() -> ConnectionInfo {
        ConnectionInfo {
            id: 1,
            peer: "192.0.2.1:40000".parse().unwrap(),
            local: "198.51.100.1:25".parse().unwrap(),
            starttls: false,
        }
    }

    /// Drives the session accepting everything; returns replies text and messages.
    fn drive(s: &mut Session) -> Vec<Message> {
        let mut msgs = Vec::new();
        loop {
            match s.poll() {
                Event::NeedInput | Event::Close | Event::StartTls => break,
                Event::Message(m) => {
                    msgs.push(m);
                    s.resolve(Ok(Accepted::with_id("Q1")), t(9)).unwrap();
                }
                Event::DecisionPending => unreachable!(),
                _ => s.resolve(Ok(Accepted::new()), t(9)).unwrap(),
            }
        }
        msgs
    }

    #[test]
    fn early_talk_is_recorded_and_refused_by_policy() {
        let cfg = SessionConfig {
            early_talk: EarlyTalkPolicy::Refuse,
            ..SessionConfig::default()
        };
        let mut s = Session::new(Arc::new(cfg), conn(), t(0));
        s.receive(b"EHLO bot\r\nMAIL FROM:<a@b>\r\n", t(3));
        s.greet(Greeting::Accept, t(240));
        assert!(s.take_output().starts_with(b"554 5.5.1 "));
        s.receive(b"EHLO bot\r\nQUIT\r\n", t(241));
        drive(&mut s);
        assert_eq!(
            String::from_utf8(s.take_output()).unwrap(),
            "503 5.5.1 No service here; send QUIT\r\n221 2.0.0 localhost closing connection\r\n"
        );
        let info = s.into_info();
        let early = info.early_talk.unwrap();
        assert_eq!(early.at, t(3));
        assert_eq!(early.total, 27);
        assert_eq!(info.greeting.unwrap().code, 554);
        assert_eq!(info.end.unwrap().reason, EndReason::Quit);
    }

    #[test]
    fn early_talk_processed_after_greeting_by_default() {
        let mut s = Session::new(Arc::new(SessionConfig::default()), conn(), t(0));
        s.receive(b"HELO bot\r\n", t(1));
        s.greet(Greeting::Accept, t(2));
        drive(&mut s);
        assert_eq!(
            String::from_utf8(s.take_output()).unwrap(),
            "220 localhost ESMTP abusedesk\r\n250 localhost\r\n"
        );
        assert_eq!(s.info().helo.as_ref().unwrap().argument, "bot");
    }

    #[test]
    fn disconnect_during_greet_pause_is_recorded() {
        let mut s = Session::new(Arc::new(SessionConfig::default()), conn(), t(0));
        s.input_closed(t(17));
        let end = s.into_info().end.unwrap();
        assert_eq!(end.at, t(17));
        assert_eq!(
            end.reason,
            EndReason::ClientClosed {
                phase: Phase::Greeting
            }
        );
    }

    #[test]
    fn records_commands_with_times_and_codes() {
        let mut s = Session::new(Arc::new(SessionConfig::default()), conn(), t(0));
        s.greet(Greeting::Accept, t(0));
        s.receive(b"EHLO [192.0.2.1]\r\n", t(1));
        drive(&mut s);
        s.receive(
            b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n",
            t(2),
        );
        drive(&mut s);
        s.receive(b"hi\r\n.\r\nQUIT\r\n", t(3));
        let msgs = drive(&mut s);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].data, b"hi\r\n");
        assert_eq!(msgs[0].received_at, t(3));
        let info = s.into_info();
        let got: Vec<_> = info
            .commands
            .iter()
            .map(|c| (c.at, c.verb, c.argument.as_str(), c.reply))
            .collect();
        assert_eq!(
            got,
            vec![
                (t(1), Verb::Ehlo, "[192.0.2.1]", Some(250)),
                (t(2), Verb::Mail, "FROM:<a@b.example>", Some(250)),
                (t(2), Verb::Rcpt, "TO:<c@d.example>", Some(250)),
                (t(2), Verb::Data, "", Some(354)),
                (t(3), Verb::EndOfData, "4 octets", Some(250)),
                (t(3), Verb::Quit, "", Some(221)),
            ]
        );
        assert_eq!(info.messages_accepted, 1);
    }

    #[test]
    fn positive_refusal_is_coerced() {
        let mut s = Session::new(Arc::new(SessionConfig::default()), conn(), t(0));
        s.greet(Greeting::Accept, t(0));
        s.clear_output();
        s.receive(b"HELO x\r\n", t(1));
        assert!(matches!(s.poll(), Event::Helo(_)));
        assert_eq!(s.poll(), Event::DecisionPending);
        s.resolve(Err(Reply::plain(250, "ok").unwrap()), t(1))
            .unwrap();
        assert!(s.take_output().starts_with(b"451 4.3.0 "));
        assert_eq!(s.resolve(Ok(Accepted::new()), t(1)), Err(NoPendingDecision));
    }
}
