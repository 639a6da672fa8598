//! Throughput of the SMTP engine, printed as a table (`cargo bench -p abusedesk-smtp`).
//!
//! 1. engine: the sans-I/O session alone, transactions fed from memory.
//! 2. loopback: `serve` on 127.0.0.1 with a handler that only counts, driven by our own
//!    tokio client on a separate thread, pipelined (RFC 2920: MAIL+RCPT+DATA in one
//!    write, then the data) and lock-step (one command per round trip).
//! 3. side by side: Postfix's `smtp-source` against our server and against Postfix's
//!    own `smtp-sink` (when both are installed).
//!
//! `BENCH_MESSAGES` sets the messages per loopback run (default 20000).

use abusedesk_smtp::{
    Accepted, ConnectionInfo, Event, Greeting, Handler, Message, Reply, ServerConfig, Session,
    SessionConfig, SessionInfo, serve,
};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

fn message(size: usize) -> Vec<u8> {
    let mut m =
        b"From: reporter@client.test\r\nTo: abuse@desk.test\r\nSubject: bench\r\n\r\n".to_vec();
    let line = b"Spam from 192.0.2.99 at 2002-03-31T12:07:53Z, see the headers below.....\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m
}

fn engine(size: usize, n: usize) -> (f64, f64) {
    let msg = message(size);
    let mut batch = Vec::new();
    for _ in 0..n {
        batch.extend_from_slice(
            b"MAIL FROM:<a@client.test>\r\nRCPT TO:<abuse@desk.test>\r\nDATA\r\n",
        );
        batch.extend_from_slice(&msg);
        batch.extend_from_slice(b".\r\n");
    }
    let conn = ConnectionInfo {
        id: 1,
        peer: "127.0.0.1:1".parse().unwrap(),
        local: "127.0.0.1:25".parse().unwrap(),
        starttls: false,
    };
    let config = Arc::new(SessionConfig::default());
    let t = SystemTime::now();
    let start = Instant::now();
    let mut s = Session::new(config, conn, t);
    s.greet(Greeting::Accept, t);
    s.receive(b"EHLO bench\r\n", t);
    let mut got = 0;
    let mut fed = false;
    let chunk = 64 * 1024;
    let mut pos = 0;
    loop {
        match s.poll() {
            Event::NeedInput => {
                s.clear_output();
                if pos >= batch.len() {
                    if fed {
                        break;
                    }
                    fed = true;
                    continue;
                }
                let end = (pos + chunk).min(batch.len());
                s.receive(&batch[pos..end], t);
                pos = end;
            }
            Event::Message(m) => {
                got += 1;
                std::hint::black_box(&m.data);
                s.resolve(Ok(Accepted::new()), t).unwrap();
            }
            Event::Close | Event::StartTls => break,
            _ => s.resolve(Ok(Accepted::new()), t).unwrap(),
        }
    }
    assert_eq!(got, n);
    let secs = start.elapsed().as_secs_f64();
    (n as f64 / secs, batch.len() as f64 / secs / 1e6)
}

struct Counter(AtomicU64);

impl Handler for Counter {
    async fn on_message(&self, _s: &SessionInfo, m: Message) -> Result<Accepted, Reply> {
        std::hint::black_box(&m.data);
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(Accepted::new())
    }
}

struct Replies {
    buf: Vec<u8>,
    pos: usize,
}

impl Replies {
    /// Reads until `n` complete replies (final lines) arrived; checks the first code digit.
    async fn read(&mut self, s: &mut TcpStream, n: usize, want: &[u8]) {
        let mut seen = 0;
        loop {
            while let Some(i) = self.buf[self.pos..].windows(2).position(|w| w == b"\r\n") {
                let line = &self.buf[self.pos..self.pos + i];
                if line.get(3) != Some(&b'-') {
                    assert!(
                        want.contains(&line[0]),
                        "unexpected reply {:?}",
                        String::from_utf8_lossy(line)
                    );
                    seen += 1;
                }
                self.pos += i + 2;
                if seen == n {
                    return;
                }
            }
            self.buf.drain(..self.pos);
            self.pos = 0;
            let mut tmp = [0u8; 4096];
            let k = s.read(&mut tmp).await.unwrap();
            assert!(k > 0, "server closed");
            self.buf.extend_from_slice(&tmp[..k]);
        }
    }
}

async fn client(addr: SocketAddr, n: usize, msg: Arc<Vec<u8>>, pipelined: bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut r = Replies {
        buf: Vec::new(),
        pos: 0,
    };
    r.read(&mut s, 1, b"2").await;
    s.write_all(b"EHLO bench.client\r\n").await.unwrap();
    r.read(&mut s, 1, b"2").await;
    let mut data = msg.to_vec();
    data.extend_from_slice(b".\r\n");
    for _ in 0..n {
        if pipelined {
            s.write_all(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<abuse@desk.test>\r\nDATA\r\n")
                .await
                .unwrap();
            r.read(&mut s, 3, b"23").await;
        } else {
            s.write_all(b"MAIL FROM:<a@client.test>\r\n").await.unwrap();
            r.read(&mut s, 1, b"2").await;
            s.write_all(b"RCPT TO:<abuse@desk.test>\r\n").await.unwrap();
            r.read(&mut s, 1, b"2").await;
            s.write_all(b"DATA\r\n").await.unwrap();
            r.read(&mut s, 1, b"3").await;
        }
        s.write_all(&data).await.unwrap();
        r.read(&mut s, 1, b"2").await;
    }
    s.write_all(b"QUIT\r\n").await.unwrap();
    r.read(&mut s, 1, b"2").await;
}

/// Runs `conns` clients sending `total` messages; returns messages/s.
fn loopback(addr: SocketAddr, conns: usize, total: usize, size: usize, pipelined: bool) -> f64 {
    let msg = Arc::new(message(size));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..conns {
            tasks.push(tokio::spawn(client(
                addr,
                total / conns,
                msg.clone(),
                pipelined,
            )));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    (total / conns * conns) as f64 / start.elapsed().as_secs_f64()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// smtp-source: `sessions` parallel sessions, `total` messages of `size` bytes; with
/// `reuse` (`-d`) each session sends message after message, else it reconnects for each.
fn smtp_source(
    addr: SocketAddr,
    sessions: usize,
    total: usize,
    size: usize,
    reuse: bool,
) -> Option<f64> {
    let start = Instant::now();
    let mut cmd = Command::new("smtp-source");
    if reuse {
        cmd.arg("-d");
    }
    let status = cmd
        .args([
            "-s",
            &sessions.to_string(),
            "-m",
            &total.to_string(),
            "-l",
            &size.to_string(),
            "-f",
            "source@client.test",
            "-t",
            "abuse@desk.test",
            &addr.to_string(),
        ])
        .status()
        .ok()?;
    status
        .success()
        .then(|| total as f64 / start.elapsed().as_secs_f64())
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 200 } else { 20_000 });

    println!("== engine (sans-I/O session, one core, pipelined transactions from memory)");
    println!("{:>10} {:>12} {:>10}", "msg size", "messages/s", "MB/s");
    for size in [1024, 10 * 1024, 100 * 1024] {
        let n = if quick {
            50
        } else {
            (200_000_000 / size).min(200_000)
        };
        let (mps, mbs) = engine(size, n);
        println!("{size:>10} {mps:>12.0} {mbs:>10.0}");
    }

    // The server: its own 2-worker runtime, like the desk's.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let counter = Arc::new(Counter(AtomicU64::new(0)));
    let shutdown = CancellationToken::new();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Arc::new(ServerConfig::new(SessionConfig {
        hostname: "bench.test".into(),
        ..SessionConfig::default()
    }));
    let server = server_rt.spawn(serve(listener, config, counter.clone(), shutdown.clone()));

    println!();
    println!("== loopback (serve + counting handler; client: our tokio client, one thread)");
    println!(
        "{:>6} {:>10} {:>12} {:>12}",
        "conns", "msg size", "mode", "messages/s"
    );
    for (conns, size, pipelined) in [
        (1, 2048, true),
        (1, 2048, false),
        (8, 2048, true),
        (8, 2048, false),
        (32, 2048, true),
        (8, 20 * 1024, true),
    ] {
        let mps = loopback(addr, conns, total, size, pipelined);
        let mode = if pipelined { "pipelined" } else { "lock-step" };
        println!("{conns:>6} {size:>10} {mode:>12} {mps:>12.0}");
    }

    if have("smtp-source") && !quick {
        // Postfix's smtp-sink as the peer: it accepts and discards, like our counting
        // handler. As root it must drop privileges (-u).
        let sink_addr = free_port();
        let sink = if have("smtp-sink") {
            Command::new("smtp-sink")
                .args(["-u", "nobody", &sink_addr.to_string(), "256"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()
        } else {
            None
        };
        std::thread::sleep(Duration::from_millis(300));
        println!();
        println!("== side by side: Postfix smtp-source -> server (2 KiB messages)");
        println!(
            "{:>8} {:>22} {:>20} {:>12}",
            "sessions", "connections", "server", "messages/s"
        );
        for (sessions, reuse) in [(1, true), (8, true), (8, false)] {
            let conn = if reuse {
                "reused (-d)"
            } else {
                "one per message"
            };
            if let Some(mps) = smtp_source(addr, sessions, total, 2048, reuse) {
                println!(
                    "{sessions:>8} {conn:>22} {:>20} {mps:>12.0}",
                    "abusedesk-smtp"
                );
            }
            if sink.is_some()
                && let Some(mps) = smtp_source(sink_addr, sessions, total, 2048, reuse)
            {
                println!(
                    "{sessions:>8} {conn:>22} {:>20} {mps:>12.0}",
                    "postfix smtp-sink"
                );
            }
        }
        if let Some(mut sink) = sink {
            let _ = sink.kill();
            let _ = sink.wait();
        }
    }

    shutdown.cancel();
    server_rt.block_on(server).unwrap().unwrap();
    println!();
    println!(
        "messages accepted by the counting handler: {}",
        counter.0.load(Ordering::Relaxed)
    );
}
