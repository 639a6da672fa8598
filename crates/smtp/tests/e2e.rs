//! End-to-end tests: the tokio driver on a loopback port, driven by real clients
//! (Python's smtplib, swaks, Postfix's smtp-source when installed) and by a raw TCP
//! client for the cases no stock client produces (early talk, silence, shutdown).
//! A test whose external client is missing prints why and returns.

use abusedesk_smtp::{
    Accepted, EndReason, Envelope, Greeting, Handler, Message, Phase, RcptTo, Reply, ServerConfig,
    SessionConfig, SessionInfo, serve, tls_config_from_pem,
};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Recorder {
    messages: Mutex<Vec<Message>>,
    sessions: Mutex<Vec<SessionInfo>>,
    greet_delay: Option<Duration>,
    /// When set, on_message waits for it before returning (a slow durable commit).
    commit_gate: Option<Arc<Notify>>,
    closed: Notify,
}

impl Handler for Recorder {
    async fn on_connect(&self, _s: &SessionInfo) -> Greeting {
        if let Some(d) = self.greet_delay {
            tokio::time::sleep(d).await;
        }
        Greeting::Accept
    }

    async fn on_rcpt_to(
        &self,
        _s: &SessionInfo,
        _e: &Envelope,
        rcpt: &RcptTo,
    ) -> Result<(), Reply> {
        if rcpt.path.to_string().starts_with("<unknown@") {
            return Err(Reply::no_such_user());
        }
        Ok(())
    }

    async fn on_message(&self, _s: &SessionInfo, m: Message) -> Result<Accepted, Reply> {
        if let Some(gate) = &self.commit_gate {
            gate.notified().await;
        }
        if m.data.windows(12).any(|w| w == b"X-Fail: temp") {
            return Err(Reply::temporary_failure("Store unavailable"));
        }
        let mut msgs = self.messages.lock().unwrap();
        msgs.push(m);
        Ok(Accepted::with_id(format!("M{}", msgs.len())))
    }

    async fn on_close(&self, s: &SessionInfo) {
        self.sessions.lock().unwrap().push(s.clone());
        self.closed.notify_waiters();
    }
}

impl Recorder {
    fn messages(&self) -> Vec<Message> {
        self.messages.lock().unwrap().clone()
    }
    fn sessions(&self) -> Vec<SessionInfo> {
        self.sessions.lock().unwrap().clone()
    }
    async fn wait_sessions(&self, n: usize) -> Vec<SessionInfo> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let closed = self.closed.notified();
            if self.sessions().len() >= n {
                return self.sessions();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {n} sessions to close"
            );
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), closed).await;
        }
    }
}

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn session_config() -> SessionConfig {
    SessionConfig {
        hostname: "desk.test".into(),
        max_message_size: 100_000,
        ..SessionConfig::default()
    }
}

async fn start(handler: Arc<Recorder>, config: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve(listener, Arc::new(config), handler, shutdown.clone()));
    Server {
        addr,
        shutdown,
        task,
    }
}

/// (certificate PEM, key PEM) for `desk.test`.
fn self_signed() -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["desk.test".to_string()]).unwrap();
    (ck.cert.pem(), ck.signing_key.serialize_pem())
}

fn tls_config() -> ServerConfig {
    let (cert, key) = self_signed();
    let mut c = ServerConfig::new(session_config());
    c.tls = Some(tls_config_from_pem(cert.as_bytes(), key.as_bytes()).unwrap());
    c
}

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        println!("SKIPPED: {tool} is not installed");
    }
    found
}

async fn run_tool(cmd: &mut tokio::process::Command) -> String {
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("client timed out")
        .expect("client ran");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "client failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A line-oriented raw client.
struct Raw {
    r: BufReader<TcpStream>,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        Raw {
            r: BufReader::new(TcpStream::connect(addr).await.unwrap()),
        }
    }
    async fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).await.unwrap();
    }
    /// Reads one (possibly multi-line) reply; returns (code, last line).
    async fn reply(&mut self) -> (u16, String) {
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.r.read_line(&mut line))
                .await
                .expect("reply timed out")
                .unwrap();
            assert!(n > 0, "connection closed while waiting for a reply");
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let code = line[..3].parse().unwrap();
            if line.as_bytes()[3] == b' ' {
                return (code, line.trim_end().to_string());
            }
        }
    }
    async fn expect(&mut self, code: u16) -> String {
        let (got, line) = self.reply().await;
        assert_eq!(got, code, "{line}");
        line
    }
    async fn expect_eof(&mut self) {
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(10), self.r.read_to_end(&mut rest))
            .await
            .expect("no EOF")
            .unwrap_or(0);
        assert_eq!(
            n,
            0,
            "unexpected bytes: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_sends_8bitmime_and_smtputf8() {
    if !have("python3") {
        return;
    }
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/send_smtplib.py");
    let out = run_tool(tokio::process::Command::new("python3").args([
        script,
        "127.0.0.1",
        &srv.addr.port().to_string(),
        "plain",
    ]))
    .await;
    assert_eq!(out, "sent\nsent\n");
    let msgs = h.messages();
    assert_eq!(msgs.len(), 2);
    assert_eq!(
        msgs[0].envelope.mail_from.path.to_string(),
        "<reporter@client.test>"
    );
    let text = String::from_utf8_lossy(&msgs[0].data);
    assert!(text.contains("Subject: Spam report\r\n"), "{text}");
    // smtplib stuffed the leading dot; we removed it again.
    assert!(text.contains("\r\n.leading dot\r\n"), "{text}");
    assert!(msgs[0].data.ends_with(b"\r\n"));
    assert!(msgs[1].envelope.mail_from.smtputf8);
    assert_eq!(
        msgs[1].envelope.recipients[0].path.to_string(),
        "<abuse@desk.test>"
    );
    assert_eq!(
        msgs[1].envelope.mail_from.path.to_string(),
        "<jörg@bücher.test>"
    );
    let sessions = h.wait_sessions(1).await;
    let s = &sessions[0];
    assert_eq!(s.helo.as_ref().unwrap().argument, "smtplib.client.test");
    assert_eq!(s.end.as_ref().unwrap().reason, EndReason::Quit);
    assert_eq!(s.peer.ip().to_string(), "127.0.0.1");
    assert_eq!(s.local, srv.addr);
    srv.shutdown.cancel();
    srv.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_is_refused_over_size() {
    if !have("python3") {
        return;
    }
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/send_smtplib.py");
    let out = run_tool(tokio::process::Command::new("python3").args([
        script,
        "127.0.0.1",
        &srv.addr.port().to_string(),
        "size",
    ]))
    .await;
    assert_eq!(out, "refused 552\n");
    assert!(h.messages().is_empty());
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_starttls() {
    if !have("python3") {
        return;
    }
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), tls_config()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/send_smtplib.py");
    let out = run_tool(tokio::process::Command::new("python3").args([
        script,
        "127.0.0.1",
        &srv.addr.port().to_string(),
        "starttls",
    ]))
    .await;
    assert_eq!(out, "sent\n");
    assert_eq!(h.messages().len(), 1);
    let s = &h.wait_sessions(1).await[0];
    let tls = s.tls.as_ref().expect("TLS recorded");
    assert_eq!(tls.version, "TLSv1.3");
    assert!(tls.cipher.starts_with("TLS13_"), "{}", tls.cipher);
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_pipelined_plain_and_starttls() {
    if !have("swaks") {
        return;
    }
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), tls_config()).await;
    let server = srv.addr.to_string();
    let base = |extra: &[&str]| {
        let mut c = tokio::process::Command::new("swaks");
        c.args([
            "--server",
            &server,
            "--helo",
            "swaks.client.test",
            "--from",
            "reporter@client.test",
            "--to",
            "abuse@desk.test,unknown@desk.test,postmaster@desk.test",
            "--header",
            "Subject: swaks report",
            "--body",
            "line one\n.\nline three",
            "--timeout",
            "20",
        ]);
        c.args(extra);
        c
    };
    let out = run_tool(&mut base(&["--pipeline"])).await;
    assert!(
        out.contains("250 2.0.0 Message accepted: queued as M1"),
        "{out}"
    );
    assert!(out.contains("550 5.1.1"), "{out}");
    let out = run_tool(&mut base(&["--tls"])).await;
    assert!(out.contains("220 2.0.0 Ready to start TLS"), "{out}");
    assert!(out.contains("queued as M2"), "{out}");
    let msgs = h.messages();
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        let rcpts: Vec<_> = m
            .envelope
            .recipients
            .iter()
            .map(|r| r.path.to_string())
            .collect();
        assert_eq!(rcpts, ["<abuse@desk.test>", "<postmaster@desk.test>"]);
        let text = String::from_utf8_lossy(&m.data);
        assert!(
            text.contains("\r\nline one\r\n.\r\nline three\r\n"),
            "{text}"
        );
    }
    let sessions = h.wait_sessions(2).await;
    assert!(sessions.iter().any(|s| s.tls.is_none()));
    let tls = sessions
        .iter()
        .find_map(|s| s.tls.as_ref())
        .expect("a TLS session");
    assert!(tls.version.starts_with("TLSv1."), "{}", tls.version);
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_smtp_source_bulk() {
    if !have("smtp-source") {
        return;
    }
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    // 5 parallel sessions, 200 messages, 2 recipients each, 4 KiB bodies.
    run_tool(tokio::process::Command::new("smtp-source").args([
        "-s",
        "5",
        "-m",
        "200",
        "-r",
        "2",
        "-l",
        "4096",
        "-f",
        "source@client.test",
        "-t",
        "abuse@desk.test",
        &srv.addr.to_string(),
    ]))
    .await;
    let msgs = h.messages();
    assert_eq!(msgs.len(), 200);
    assert!(msgs.iter().all(|m| m.envelope.recipients.len() == 2));
    assert!(msgs.iter().all(|m| m.data.len() >= 4096));
    srv.shutdown.cancel();
    srv.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_client_starttls_records_version_cipher_and_sni() {
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::{self, pki_types::ServerName};
    let (cert, key) = self_signed();
    let mut config = ServerConfig::new(session_config());
    config.tls = Some(tls_config_from_pem(cert.as_bytes(), key.as_bytes()).unwrap());
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), config).await;

    let mut raw = Raw::connect(srv.addr).await;
    raw.expect(220).await;
    raw.send(b"EHLO rust.client.test\r\n").await;
    raw.expect(250).await;
    raw.send(b"STARTTLS\r\n").await;
    raw.expect(220).await;

    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = raw.r.into_inner();
    let tls = TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("desk.test").unwrap(), tcp)
        .await
        .unwrap();
    let mut r = BufReader::new(tls);
    r.get_mut()
        .write_all(b"EHLO rust.client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<abuse@desk.test>\r\nDATA\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    while !text.contains("354 ") {
        let mut line = String::new();
        assert!(r.read_line(&mut line).await.unwrap() > 0);
        assert!(!line.contains("STARTTLS"), "STARTTLS offered again: {line}");
        text.push_str(&line);
    }
    r.get_mut()
        .write_all(b"Subject: tls\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    let mut rest = String::new();
    r.read_to_string(&mut rest).await.ok();
    assert!(rest.contains("250 2.0.0 Message accepted"), "{rest}");
    let s = &h.wait_sessions(1).await[0];
    let tls = s.tls.as_ref().unwrap();
    assert_eq!(tls.version, "TLSv1.2");
    assert!(tls.cipher.starts_with("TLS_ECDHE_"), "{}", tls.cipher);
    assert_eq!(tls.sni.as_deref(), Some("desk.test"));
    assert_eq!(h.messages().len(), 1);
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greet_pause_records_early_talk() {
    let h = Arc::new(Recorder {
        greet_delay: Some(Duration::from_millis(400)),
        ..Recorder::default()
    });
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let started = Instant::now();
    let mut raw = Raw::connect(srv.addr).await;
    raw.send(b"EHLO hasty.client.test\r\n").await;
    raw.expect(220).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    // The early EHLO is answered after the greeting (default policy).
    raw.expect(250).await;
    raw.send(b"QUIT\r\n").await;
    raw.expect(221).await;
    let s = &h.wait_sessions(1).await[0];
    let early = s.early_talk.as_ref().expect("early talk recorded");
    assert_eq!(early.bytes, b"EHLO hasty.client.test\r\n");
    let greeting = s.greeting.unwrap();
    assert!(greeting.at > early.at);
    assert!(greeting.at.duration_since(s.connected_at).unwrap() >= Duration::from_millis(400));
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_giving_up_during_greet_pause_is_recorded() {
    let h = Arc::new(Recorder {
        greet_delay: Some(Duration::from_secs(240)),
        ..Recorder::default()
    });
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let raw = Raw::connect(srv.addr).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(raw);
    let s = &h.wait_sessions(1).await[0];
    let end = s.end.as_ref().unwrap();
    assert_eq!(
        end.reason,
        EndReason::ClientClosed {
            phase: Phase::Greeting
        }
    );
    let waited = end.at.duration_since(s.connected_at).unwrap();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(30),
        "{waited:?}"
    );
    assert!(s.greeting.is_none());
    srv.shutdown.cancel();
    srv.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_times_out_with_421() {
    let mut config = ServerConfig::new(session_config());
    // Long enough for a loaded machine to deliver the pipelined batch below in time.
    config.command_timeout = Duration::from_millis(1500);
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), config).await;
    let mut raw = Raw::connect(srv.addr).await;
    raw.expect(220).await;
    raw.send(b"EHLO slow.client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\n")
        .await;
    raw.expect(250).await;
    raw.expect(250).await;
    raw.expect(250).await;
    raw.expect(354).await;
    raw.send(b"partial data").await;
    // data_timeout (180 s default) applies in DATA; shorten it for a second session.
    drop(raw);
    let line = {
        let mut raw = Raw::connect(srv.addr).await;
        raw.expect(220).await;
        let l = raw.expect(421).await;
        raw.expect_eof().await;
        l
    };
    assert!(line.starts_with("421 4.4.2 desk.test Timeout"), "{line}");
    let sessions = h.wait_sessions(2).await;
    assert!(
        sessions
            .iter()
            .any(|s| s.end.as_ref().unwrap().reason
                == EndReason::ClientClosed { phase: Phase::Data })
    );
    assert!(sessions.iter().any(|s| s.end.as_ref().unwrap().reason
        == EndReason::Timeout {
            phase: Phase::Command
        }));
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_timeout_applies_inside_data() {
    let mut config = ServerConfig::new(session_config());
    config.data_timeout = Duration::from_millis(300);
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), config).await;
    let mut raw = Raw::connect(srv.addr).await;
    raw.expect(220).await;
    raw.send(b"HELO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\n")
        .await;
    for code in [250, 250, 250, 354] {
        raw.expect(code).await;
    }
    raw.send(b"Subject: never finished\r\n").await;
    raw.expect(421).await;
    raw.expect_eof().await;
    let s = &h.wait_sessions(1).await[0];
    assert_eq!(
        s.end.as_ref().unwrap().reason,
        EndReason::Timeout { phase: Phase::Data }
    );
    assert!(h.messages().is_empty());
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledges_only_after_the_handler_commits() {
    let gate = Arc::new(Notify::new());
    let h = Arc::new(Recorder {
        commit_gate: Some(gate.clone()),
        ..Recorder::default()
    });
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let mut raw = Raw::connect(srv.addr).await;
    raw.expect(220).await;
    raw.send(b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\n")
        .await;
    for code in [250, 250, 250, 354] {
        raw.expect(code).await;
    }
    raw.send(b"Subject: durable\r\n\r\nbody\r\n.\r\n").await;
    let mut probe = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), raw.r.read(&mut probe)).await;
    assert!(early.is_err(), "a reply came before the commit finished");
    assert!(h.messages().is_empty());
    gate.notify_one();
    let line = raw.expect(250).await;
    assert_eq!(line, "250 2.0.0 Message accepted: queued as M1");
    assert_eq!(h.messages().len(), 1);
    raw.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\n")
        .await;
    for code in [250, 250, 354] {
        raw.expect(code).await;
    }
    raw.send(b"X-Fail: temp\r\n\r\nbody\r\n.\r\nQUIT\r\n").await;
    gate.notify_one();
    let line = raw.expect(451).await;
    assert_eq!(line, "451 4.3.0 Store unavailable");
    raw.expect(221).await;
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_data_and_says_421() {
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let mut idle = Raw::connect(srv.addr).await;
    idle.expect(220).await;
    let mut busy = Raw::connect(srv.addr).await;
    busy.expect(220).await;
    busy.send(b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\n")
        .await;
    for code in [250, 250, 250, 354] {
        busy.expect(code).await;
    }
    busy.send(b"Subject: in flight\r\n").await;
    srv.shutdown.cancel();
    let line = idle.expect(421).await;
    assert!(
        line.starts_with("421 4.3.2 desk.test Service shutting down"),
        "{line}"
    );
    idle.expect_eof().await;
    // The message in DATA is completed and acknowledged, then the session ends.
    tokio::time::sleep(Duration::from_millis(200)).await;
    busy.send(b"\r\nbody\r\n.\r\n").await;
    busy.expect(250).await;
    busy.expect(421).await;
    busy.expect_eof().await;
    tokio::time::timeout(Duration::from_secs(10), srv.task)
        .await
        .expect("serve returned")
        .unwrap()
        .unwrap();
    assert_eq!(h.messages().len(), 1);
    // The listener is closed.
    assert!(TcpStream::connect(srv.addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_answers_421() {
    let mut config = ServerConfig::new(session_config());
    config.max_connections = 1;
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), config).await;
    let mut first = Raw::connect(srv.addr).await;
    first.expect(220).await;
    let mut second = Raw::connect(srv.addr).await;
    let line = second.expect(421).await;
    assert!(
        line.starts_with("421 4.7.0 desk.test Too many connections"),
        "{line}"
    );
    second.expect_eof().await;
    first.send(b"QUIT\r\n").await;
    first.expect(221).await;
    srv.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smuggling_attempt_over_tcp_is_one_refused_message() {
    let h = Arc::new(Recorder::default());
    let srv = start(h.clone(), ServerConfig::new(session_config())).await;
    let mut raw = Raw::connect(srv.addr).await;
    raw.expect(220).await;
    raw.send(b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\n")
        .await;
    for code in [250, 250, 250, 354] {
        raw.expect(code).await;
    }
    raw.send(
        b"Subject: one\r\n\r\nhi\n.\r\nMAIL FROM:<admin@desk.test>\r\nRCPT TO:<c@desk.test>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n",
    )
    .await;
    let line = raw.expect(550).await;
    assert!(line.starts_with("550 5.5.2 "), "{line}");
    raw.send(b"QUIT\r\n").await;
    raw.expect(221).await;
    assert!(h.messages().is_empty());
    srv.shutdown.cancel();
}
