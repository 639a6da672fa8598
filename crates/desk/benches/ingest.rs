//! Ingest rate end to end: reports acknowledged (HTTP 201 after the commit) and fully
//! processed (parsed, traced, attributed, in a case) per second, with a loopback HTTP
//! client keeping `CONNECTIONS` connections busy.
//!
//! `cargo bench -p abusedesk-desk --bench ingest` (SQLite; PostgreSQL too when
//! `ABUSEDESK_TEST_POSTGRES` is set). `ABUSEDESK_BENCH_REPORTS` changes the count,
//! `ABUSEDESK_BENCH_CONNECTIONS` the number of client connections (default 32). For
//! experiments, `ABUSEDESK_BENCH_GATHER_MS`, `ABUSEDESK_BENCH_INTAKE_BATCH` and
//! `ABUSEDESK_BENCH_WORKERS` override `workers.gather_ms`, `intake.batch` and
//! `workers.count`.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use abusedesk_desk::{Config, Services, serve};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn connections() -> usize {
    std::env::var("ABUSEDESK_BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(32)
}

/// A forwarded spam from one of 1,000 customer addresses (as the e2e stream client).
fn message(i: usize) -> Vec<u8> {
    let ip = format!("198.51.{}.{}", (i / 250) % 4, i % 250 + 1);
    format!(
        "From: reporter{r}@example.org\r\nTo: abuse@desk.example\r\nSubject: spam from {ip}\r\n\
         Message-ID: <complaint-{i}@example.org>\r\nDate: Sun, 31 Mar 2002 12:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nSpam received, see attached.\r\n--b\r\n\
         Content-Type: message/rfc822\r\n\r\nReceived: from spammer{i} ([{ip}])\r\n\
         \tby mx.example.org with SMTP id {i};\r\n\tSun, 31 Mar 2002 12:07:53 +0000\r\n\
         From: \"\" <x{i}@example.com>\r\nTo: victim@example.org\r\nSubject: buy {i}\r\n\
         Date: Sun, 31 Mar 2002 12:07:50 +0000\r\n\r\nbuy now {i}\r\n--b--\r\n",
        r = i % 7
    )
    .into_bytes()
}

async fn post(conn: &mut BufReader<TcpStream>, token: &str, body: &[u8]) -> u16 {
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: message/rfc822\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // One write per request: a second small write would wait for the server's delayed ACK.
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    conn.get_mut().write_all(&req).await.unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).await.unwrap();
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        line.clear();
        conn.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut buf = vec![0; len];
    conn.read_exact(&mut buf).await.unwrap();
    status
}

async fn run(label: &str, mut config: Config, reports: usize) {
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.smtp.enabled = false;
    config.rdap.enabled = false;
    if let Some(n) = std::env::var("ABUSEDESK_BENCH_INTAKE_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.intake.batch = n;
    }
    if let Some(n) = std::env::var("ABUSEDESK_BENCH_WORKERS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.workers.count = n;
    }
    if let Some(ms) = std::env::var("ABUSEDESK_BENCH_GATHER_MS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.workers.gather = Duration::from_millis(ms);
    }
    let services = Services::standard(&config).unwrap();
    let running = serve(&config, services).await.unwrap();
    let store = running.store.clone();
    // A registry to attribute against: our /16 and 1,000 assignments.
    let mut csv = String::from("prefix,contract,valid_from,valid_to\n");
    let mut contracts = String::from("id,name,email\n");
    for n in 0..1000 {
        contracts.push_str(&format!("C-{n},Customer {n},noc{n}@customer.example\n"));
        csv.push_str(&format!(
            "198.51.{}.{},C-{n},2002-01-01T00:00:00Z,\n",
            (n / 250) % 4,
            n % 250 + 1
        ));
    }
    let import = abusedesk_store::RegistryImport {
        contracts: abusedesk_registry::contracts_from_csv(contracts.as_bytes())
            .unwrap()
            .iter()
            .map(abusedesk_desk::registry_data::contract_row)
            .collect(),
        assignments: abusedesk_registry::assignments_from_csv(csv.as_bytes())
            .unwrap()
            .iter()
            .map(abusedesk_desk::registry_data::assignment_row)
            .collect(),
        networks: abusedesk_registry::networks_from_csv(
            b"prefix,description\n198.51.0.0/16,customers\n",
        )
        .unwrap()
        .iter()
        .map(abusedesk_desk::registry_data::network_row)
        .collect(),
        ..Default::default()
    };
    store.import_registry(&import, 0).await.unwrap();
    let token = store.create_token("bench", 0).await.unwrap().secret;
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..reports).map(message).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let addr = running.http_addr;
    let start = Instant::now();
    let mut tasks = Vec::new();
    let connections = connections();
    for _ in 0..connections {
        let (bodies, next, token) = (bodies.clone(), next.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut conn = BufReader::new(stream);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                assert_eq!(post(&mut conn, &token, &bodies[i]).await, 201);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let acked = start.elapsed();
    loop {
        let s = store.stats().await.unwrap();
        if s.jobs_queued == 0 {
            assert_eq!(
                s.reports_processed as usize, reports,
                "every report processed"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = start.elapsed();
    let page = store
        .list_cases(
            &Default::default(),
            abusedesk_store::CaseSort::Reports,
            abusedesk_store::Order::Desc,
            None,
            1,
        )
        .await
        .unwrap();
    println!(
        "{label:<9} {reports} reports, {connections} connections: acknowledged {:>7.0}/s ({:.2} s); acknowledged and processed {:>7.0}/s ({:.2} s); biggest case {} reports",
        reports as f64 / acked.as_secs_f64(),
        acked.as_secs_f64(),
        reports as f64 / done.as_secs_f64(),
        done.as_secs_f64(),
        page.items.first().map(|c| c.report_count).unwrap_or(0),
    );
    running.shutdown_token().cancel();
    running.wait().await;
}

fn main() {
    let reports: usize = std::env::var("ABUSEDESK_BENCH_REPORTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Default::default()
        };
        run("sqlite", config, reports).await;

        let Ok(admin) = std::env::var("ABUSEDESK_TEST_POSTGRES") else {
            println!("postgres  skipped: ABUSEDESK_TEST_POSTGRES is not set");
            return;
        };
        let name = format!("abusedesk_bench_ingest_{}", std::process::id());
        let psql = |sql: String| {
            let ok = std::process::Command::new("psql")
                .arg(&admin)
                .arg("-qc")
                .arg(&sql)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "psql {sql}");
        };
        psql(format!("CREATE DATABASE {name}"));
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin.clone());
        let mut config = Config {
            data_dir: dir.path().join("pg"),
            database_url: Some(format!("{base}/{name}")),
            ..Default::default()
        };
        config.store.max_connections = 16;
        run("postgres", config, reports).await;
        psql(format!("DROP DATABASE {name} WITH (FORCE)"));
    });
}
