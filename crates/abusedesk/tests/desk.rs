//! End-to-end tests of `abusedesk serve`, `ingest` and `token`: the real binary on port 0,
//! driven by real clients (curl, swaks, Python's smtplib and http.client), on SQLite and,
//! when `ABUSEDESK_TEST_POSTGRES` is set, on PostgreSQL (a fresh database per test).
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_abusedesk");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn client(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ------------------------------------------------------------------ backends

/// Where a test's store lives.
enum Backend {
    Sqlite,
    Postgres { admin: String, name: String },
}

impl Backend {
    fn postgres() -> Option<Backend> {
        let Ok(admin) = std::env::var("ABUSEDESK_TEST_POSTGRES") else {
            eprintln!("skipped: ABUSEDESK_TEST_POSTGRES is not set (PostgreSQL end-to-end test)");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("abusedesk_e2e_{nanos:x}_{}", std::process::id());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        Some(Backend::Postgres { admin, name })
    }

    fn env(&self) -> Vec<(String, String)> {
        match self {
            Backend::Sqlite => vec![],
            Backend::Postgres { admin, name } => {
                vec![("ABUSEDESK_DATABASE_URL".into(), with_database(admin, name))]
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres { admin, name } = self {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-qc")
        .arg(sql)
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let start = base.find("://").map_or(0, |i| i + 3);
    let host = base[start..].find('/').map_or(base, |i| &base[..start + i]);
    match query {
        Some(q) => format!("{host}/{db}?{q}"),
        None => format!("{host}/{db}"),
    }
}

/// Run `$body(backend)` on SQLite and on PostgreSQL.
macro_rules! both_stores {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                $body(Backend::Sqlite);
            }
            #[test]
            fn postgres() {
                if let Some(b) = Backend::postgres() {
                    $body(b);
                }
            }
        }
    };
}

// ------------------------------------------------------------------ the server

struct Desk {
    child: Child,
    http: String,
    smtp: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Desk {
    fn start(dir: &Path, env: &[(String, String)]) -> Desk {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smtp",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .env("ABUSEDESK_RDAP_ENABLED", "false")
        .env("ABUSEDESK_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("abusedesk serve starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let (mut http, mut smtp) = (String::new(), String::new());
        while http.is_empty() || smtp.is_empty() {
            let line = lines.next().expect("serve printed its addresses").unwrap();
            if let Some(a) = line.strip_prefix("http listening on ") {
                http = a.to_owned();
            } else if let Some(a) = line.strip_prefix("smtp listening on ") {
                smtp = a.to_owned();
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Desk {
            child,
            http,
            smtp,
            dir: dir.to_owned(),
            env: env.to_vec(),
        }
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "serve exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not stop on SIGTERM");
    }

    fn token(&self) -> String {
        let out = self.cli(&["token", "create", "--name", "e2e"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args).arg("--data-dir").arg(&self.dir);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// curl; returns (status, body).
fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = out.stdout;
    let cut = text.iter().rposition(|&b| b == b'\n').unwrap();
    let status = std::str::from_utf8(&text[cut + 1..])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (status, text[..cut].to_vec())
}

struct Api<'a> {
    desk: &'a Desk,
    token: String,
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.desk.http)
    }
    fn auth(&self) -> String {
        format!("Authorization: Bearer {}", self.token)
    }
    fn get(&self, path: &str) -> (u16, Value) {
        let (s, b) = curl(&["-H", &self.auth(), &self.url(path)]);
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
    fn send(&self, method: &str, path: &str, content_type: &str, file: &Path) -> (u16, Value) {
        let (s, b) = curl(&[
            "-X",
            method,
            "-H",
            &self.auth(),
            "-H",
            &format!("Content-Type: {content_type}"),
            "--data-binary",
            &format!("@{}", file.display()),
            &self.url(path),
        ]);
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
    /// Wait until no report is queued.
    fn wait_processed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let (s, v) = self.get("/api/v1/reports?status=queued&limit=1");
            assert_eq!(s, 200, "{v}");
            if v["items"].as_array().unwrap().is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "reports still queued after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

// ------------------------------------------------------------------ scenarios

fn intake_attribution_cases_and_api(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let rdap_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("rdap-210.107.73.73.json"),
        rdap_dir.path().join("rdap-210.107.73.73.json"),
    )
    .unwrap();
    let mut rdap = Reaper(
        Command::new("python3")
            .arg(client("rdap_responder.py"))
            .arg(rdap_dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut port = String::new();
    BufReader::new(rdap.0.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();

    let mut env = backend.env();
    env.push(("ABUSEDESK_INTAKE_MAX_REPORT_BYTES".into(), "200000".into()));
    env.push(("ABUSEDESK_RDAP_ENABLED".into(), "true".into()));
    env.push((
        "ABUSEDESK_RDAP_BASE_URL".into(),
        format!("http://127.0.0.1:{}/", port.trim()),
    ));
    let mut desk = Desk::start(&dir, &env);
    // The token is created while serve runs on the same store.
    let api = Api {
        token: desk.token(),
        desk: &desk,
    };

    // Unauthenticated and wrong tokens are refused; health and the OpenAPI document are open.
    let (s, b) = curl(&[&api.url("/api/v1/reports")]);
    assert_eq!(s, 401, "{}", String::from_utf8_lossy(&b));
    let (s, _) = curl(&[
        "-H",
        "Authorization: Bearer adk_wrong",
        &api.url("/api/v1/cases"),
    ]);
    assert_eq!(s, 401);
    let (s, b) = curl(&[&api.url("/healthz")]);
    assert_eq!(s, 200);
    assert_eq!(serde_json::from_slice::<Value>(&b).unwrap()["status"], "ok");
    let (s, b) = curl(&[&api.url("/api/openapi.json")]);
    assert_eq!(s, 200);
    let doc: Value = serde_json::from_slice(&b).unwrap();
    for path in [
        "/api/v1/reports",
        "/api/v1/reports/{id}",
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/registry/import",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }

    // The registry: our network, a customer, and who held 192.0.2.1 in March 2005.
    let contracts = write(
        tmp.path(),
        "contracts.csv",
        b"id,name,email\nC-1001,Dial-up customer,noc@customer.example\n",
    );
    let networks = write(
        tmp.path(),
        "networks.csv",
        b"prefix,description\n192.0.2.0/24,dial-up pool\n",
    );
    let assignments = write(tmp.path(), "assignments.csv", b"prefix,contract,valid_from,valid_to\n192.0.2.1,C-1001,2005-03-01T00:00:00Z,2005-04-01T00:00:00Z\n");
    for (table, file) in [
        ("contracts", &contracts),
        ("networks", &networks),
        ("assignments", &assignments),
    ] {
        let (s, v) = api.send(
            "POST",
            &format!("/api/v1/registry/import?table={table}"),
            "text/csv",
            file,
        );
        assert_eq!(s, 200, "{v}");
    }
    let bad = write(tmp.path(), "bad.csv", b"prefix,contract,valid_from,valid_to\n300.0.0.1,C-1001,,\n192.0.2.0/24,C-1001,2005-04-01T00:00:00Z,2005-03-01T00:00:00Z\n");
    let (s, v) = api.send(
        "POST",
        "/api/v1/registry/import?table=assignments",
        "text/csv",
        &bad,
    );
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["rows"]["errors"].as_array().unwrap().len(),
        2,
        "every bad row is named: {v}"
    );
    let (s, v) = api.get("/api/v1/registry/lookup?ip=192.0.2.1&at=2005-03-08T18:00:00Z");
    assert_eq!(s, 200);
    assert!(v["summary"].as_str().unwrap().contains("C-1001"), "{v}");

    // 1. ARF over HTTP: ours, attributed to the customer of that moment.
    let (s, v) = api.send(
        "POST",
        "/api/v1/reports",
        "message/rfc822",
        &data("arf-rfc5965-B.2.eml"),
    );
    assert_eq!((s, v["status"].as_str()), (201, Some("queued")), "{v}");
    let arf_id = v["id"].as_i64().unwrap();
    let (s, v) = api.send(
        "POST",
        "/api/v1/reports",
        "message/rfc822",
        &data("arf-rfc5965-B.2.eml"),
    );
    assert_eq!(
        (s, v["id"].as_i64(), v["duplicate"].as_bool()),
        (200, Some(arf_id), Some(true)),
        "same bytes, same report: {v}"
    );

    // 2. X-ARF JSON from an external network: RDAP gives country and abuse contact.
    let mut xarf: Value =
        serde_json::from_slice(&std::fs::read(data("xarf-messaging-spam.json")).unwrap()).unwrap();
    xarf["source_identifier"] = json!("210.107.73.73");
    let xarf_file = write(tmp.path(), "xarf.json", xarf.to_string().as_bytes());
    let (s, v) = api.send("POST", "/api/v1/reports", "application/json", &xarf_file);
    assert_eq!(s, 201, "{v}");
    let xarf_id = v["id"].as_i64().unwrap();

    // 3. A forwarded spam over SMTP with swaks; 4. a plain complaint with smtplib.
    let forwarded = b"From: Jane <jane@example.org>\r\nTo: abuse@desk.example\r\nSubject: Fw: spam\r\nDate: Sun, 31 Mar 2002 13:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nPlease stop this.\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nReceived: from pc1 ([192.0.2.1]) by mx.example.org with SMTP; Tue, 08 Mar 2005 18:00:00 +0000\r\nFrom: x@example.com\r\nTo: jane@example.org\r\nSubject: pills\r\nDate: Tue, 08 Mar 2005 17:59:00 +0000\r\n\r\nbuy\r\n--x--\r\n";
    let fw = write(tmp.path(), "forwarded.eml", forwarded);
    if have("swaks") {
        let out = Command::new("swaks")
            .args([
                "--server",
                &desk.smtp,
                "--from",
                "jane@example.org",
                "--to",
                "abuse@desk.example",
                "--data",
            ])
            .arg(format!("@{}", fw.display()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("250 2.0.0 Message accepted: queued as report"),
            "{text}"
        );
    } else {
        eprintln!("swaks not installed: the forwarded report goes over smtplib instead");
    }
    let plain = write(tmp.path(), "plain.eml", b"From: someone@example.net\r\nTo: abuse@desk.example\r\nSubject: spam again!!!\r\nDate: Mon, 1 Apr 2002 09:00:00 +0900\r\n\r\nYour customer keeps spamming me. Stop it.\r\n");
    let (host, port) = desk.smtp.rsplit_once(':').unwrap();
    for file in [&plain, &fw] {
        let out = Command::new("python3")
            .arg(client("send_smtplib.py"))
            .args([host, port])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "accepted",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Over the size limit: HTTP 413, SMTP 552, nothing stored.
    let big = write(
        tmp.path(),
        "big.eml",
        &[b"Subject: big\r\n\r\n".as_slice(), &vec![b'a'; 300_000]].concat(),
    );
    let (s, v) = api.send("POST", "/api/v1/reports", "message/rfc822", &big);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{v}"
    );
    let out = Command::new("python3")
        .arg(client("send_smtplib.py"))
        .args([host, port])
        .arg(&big)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("552"),
        "SMTP refuses the big message with 552: {err}"
    );
    let (s, v) = api.send("POST", "/api/v1/reports", "text/html", &plain);
    assert_eq!(s, 415, "{v}");

    // Garbage is stored, marked unparseable, visible.
    let junk = write(tmp.path(), "junk.bin", b"\x00\x01\x02 this is not mail");
    let (s, v) = api.send("POST", "/api/v1/reports", "message/rfc822", &junk);
    assert_eq!(s, 201, "{v}");
    let junk_id = v["id"].as_i64().unwrap();

    api.wait_processed(Duration::from_secs(60));

    let (_, r) = api.get(&format!("/api/v1/reports/{arf_id}"));
    assert_eq!(r["status"], "processed", "{r}");
    assert_eq!(r["format"], "arf");
    assert_eq!(r["kind"], "spam");
    assert_eq!(r["source_ip"], "192.0.2.1");
    assert_eq!(r["attribution"]["scope"], "ours");
    assert_eq!(r["attribution"]["contract"], "C-1001", "{r}");
    assert_eq!(r["submissions"], 2);
    let arf_case = r["case_id"].as_i64().unwrap();

    let (_, r) = api.get(&format!("/api/v1/reports/{xarf_id}"));
    assert_eq!(
        (r["status"].as_str(), r["format"].as_str()),
        (Some("processed"), Some("xarf")),
        "{r}"
    );
    assert_eq!(r["attribution"]["scope"], "external", "{r}");
    assert_eq!(r["attribution"]["country"], "KR", "{r}");
    // The record's entity with the `abuse` role (IRT-KRNIC-KR), not the e-mail addresses
    // of its technical contact.
    assert_eq!(
        r["attribution"]["abuse_contact"], "hostmaster@nic.or.kr",
        "{r}"
    );
    assert_eq!(r["attribution"]["network"], "210.107.0.0/17", "{r}");

    let (_, r) = api.get(&format!("/api/v1/reports/{junk_id}"));
    assert_eq!(r["status"], "unparseable", "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("not an RFC 5322 message"),
        "{r}"
    );
    assert!(r["case_id"].is_null());

    // The forwarded spam (sent by swaks and by smtplib: one report if the bytes arrived
    // identical, else two) joins the ARF report's case: same contract, same kind.
    let (_, smtp_reports) = api.get("/api/v1/reports?channel=smtp");
    let items = smtp_reports["items"].as_array().unwrap();
    let forwarded: Vec<&Value> = items
        .iter()
        .filter(|r| r["format"] == "forwarded")
        .collect();
    assert!(!forwarded.is_empty(), "{smtp_reports}");
    for fw_report in &forwarded {
        assert_eq!(fw_report["case_id"].as_i64(), Some(arf_case), "{fw_report}");
        assert_eq!(fw_report["time_basis"], "origin_hop");
        assert_eq!(fw_report["envelope_to"], "<abuse@desk.example>");
    }
    let plain_report = items
        .iter()
        .find(|r| r["format"] == "plain")
        .expect("the plain complaint");
    assert_eq!(
        plain_report["attribution"]["scope"], "unknown",
        "{plain_report}"
    );
    let (_, plain_case) = api.get(&format!("/api/v1/cases/{}", plain_report["case_id"]));
    assert_eq!(plain_case["needs_full_headers"], true, "{plain_case}");

    let (s, case) = api.get(&format!("/api/v1/cases/{arf_case}"));
    assert_eq!(s, 200);
    let in_case = 1 + forwarded.len();
    assert_eq!(case["report_count"], in_case, "{case}");
    assert_eq!(case["attribution"]["contract"], "C-1001");
    assert_eq!(case["state"], "open");
    assert!(case["deadlines"]["respond_by"].is_string());
    let events: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(events[0], "case_opened");
    assert_eq!(
        events.iter().filter(|e| **e == "report_added").count(),
        in_case,
        "{events:?}"
    );

    // Lists: filters, newest first, cursor pagination.
    let (_, cases) = api.get("/api/v1/cases?contract=C-1001&state=open&kind=spam");
    assert_eq!(cases["items"].as_array().unwrap().len(), 1);
    let (_, page1) = api.get("/api/v1/reports?limit=2");
    let ids: Vec<i64> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids[0] > ids[1], "newest first");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = api.get(&format!("/api/v1/reports?limit=2&cursor={cursor}"));
    assert!(page2["items"][0]["id"].as_i64().unwrap() < ids[1]);
    let (s, _) = api.get("/api/v1/cases?sort=bogus");
    assert_eq!(s, 400);
    let (s, _) = api.get("/api/v1/reports/999999");
    assert_eq!(s, 404);

    // The raw bytes come back exactly.
    let (s, raw) = curl(&[
        "-H",
        &api.auth(),
        &api.url(&format!("/api/v1/reports/{arf_id}/raw")),
    ]);
    assert_eq!(s, 200);
    assert_eq!(raw, std::fs::read(data("arf-rfc5965-B.2.eml")).unwrap());

    // Re-processing is idempotent: same case, same counters.
    let (s, _) = curl(&[
        "-X",
        "POST",
        "-H",
        &api.auth(),
        &api.url(&format!("/api/v1/reports/{arf_id}/reprocess")),
    ]);
    assert_eq!(s, 202);
    api.wait_processed(Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let (_, case) = api.get(&format!("/api/v1/cases/{arf_case}"));
    assert_eq!(case["report_count"], in_case, "{case}");
    assert_eq!(
        case["events"].as_array().unwrap().last().unwrap()["type"],
        "report_reprocessed"
    );

    // Metrics.
    let (s, m) = curl(&[&api.url("/metrics")]);
    let m = String::from_utf8(m).unwrap();
    assert_eq!(s, 200);
    assert!(
        m.contains(&format!(
            "abusedesk_reports_received_total{{channel=\"smtp\"}} {}",
            items.len()
        )),
        "{m}"
    );
    // SMTP refuses an oversize message inside the protocol (SIZE, 552), HTTP here.
    assert!(m.contains("abusedesk_reports_too_large_total 1"), "{m}");
    assert!(m.contains("abusedesk_queue_depth 0"), "{m}");

    desk.terminate();
    drop(rdap);
}

/// Kills a helper process when the test ends, passed or failed.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
both_stores!(
    intake_attribution_cases_and_api,
    intake_attribution_cases_and_api
);

fn ingest_files_mboxes_and_maildirs(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let inputs = tmp.path().join("in");
    std::fs::create_dir_all(inputs.join("maildir/cur")).unwrap();
    std::fs::create_dir_all(inputs.join("maildir/new")).unwrap();
    std::fs::create_dir_all(inputs.join("maildir/tmp")).unwrap();
    std::fs::copy(data("arf-rfc5965-B.2.eml"), inputs.join("one.eml")).unwrap();
    std::fs::write(inputs.join("box.mbox"), b"From a@example.org Sun Mar 31 12:00:00 2002\nFrom: a@example.org\nSubject: one\n\nfirst\n\nFrom b@example.org Sun Mar 31 12:00:01 2002\nFrom: b@example.org\nSubject: two\n\nsecond\n").unwrap();
    std::fs::write(
        inputs.join("maildir/cur/1:2,S"),
        b"From: c@example.org\nSubject: three\n\nthird\n",
    )
    .unwrap();
    std::fs::write(
        inputs.join("maildir/new/2"),
        b"From: d@example.org\nSubject: four\n\nfourth\n",
    )
    .unwrap();
    std::fs::write(inputs.join("maildir/tmp/partial"), b"From: e@example.org\n").unwrap();
    std::fs::copy(data("xarf-messaging-spam.json"), inputs.join("report.json")).unwrap();

    let env = backend.env();
    let run = |args: &[&str]| {
        let mut c = Command::new(BIN);
        c.arg("ingest").args(args).arg("--data-dir").arg(&dir);
        for (k, v) in &env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(&[inputs.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "stored 6 new report(s), 0 duplicate(s) of stored ones; 0 input(s) skipped"
    );
    let out = run(&[
        inputs.join("one.eml").to_str().unwrap(),
        "/nonexistent/path",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/path"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stored 0 new report(s), 1 duplicate(s)")
    );

    // serve processes what ingest queued.
    let desk = Desk::start(&dir, &env);
    let api = Api {
        token: desk.token(),
        desk: &desk,
    };
    api.wait_processed(Duration::from_secs(60));
    let (_, v) = api.get("/api/v1/reports?channel=ingest");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    let names: Vec<&str> = items
        .iter()
        .map(|r| r["source_name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("box.mbox#2")), "{names:?}");
    assert!(items.iter().any(|r| r["format"] == "xarf"));
    assert!(items.iter().all(|r| r["status"] == "processed"), "{v}");
}
both_stores!(
    ingest_files_mboxes_and_maildirs,
    ingest_files_mboxes_and_maildirs
);

/// kill -9 the server while a client streams 10,000 reports; restart; every acknowledged
/// report is there exactly once and gets processed.
fn kill_9_while_streaming_loses_nothing(backend: Backend) {
    const TOTAL: usize = 10_000;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let acks = tmp.path().join("acks.txt");
    let env = backend.env();
    let mut desk = Desk::start(&dir, &env);
    let token = desk.token();
    let mut stream = Command::new("python3")
        .arg(client("stream.py"))
        .args([&desk.http, &token, "0", &TOTAL.to_string(), "8"])
        .arg(&acks)
        .spawn()
        .unwrap();
    // Kill the server once a good part has been acknowledged.
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&acks)
        .map(|s| s.lines().count())
        .unwrap_or(0)
        < 2_500
    {
        assert!(
            Instant::now() < deadline,
            "the client did not get 2,500 acknowledgements"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    desk.kill9();
    assert!(
        stream.wait().unwrap().success(),
        "the client stops cleanly when the server dies"
    );
    let before: Vec<(usize, i64)> = parse_acks(&acks);
    assert!(
        before.len() >= 2_500 && before.len() < TOTAL,
        "killed mid-stream: {} acknowledged",
        before.len()
    );

    // Restart and send everything again (the client cannot know what the unacknowledged
    // requests did): acknowledged reports must come back with their ids.
    let desk = Desk::start(&dir, &env);
    let again = tmp.path().join("acks2.txt");
    let status = Command::new("python3")
        .arg(client("stream.py"))
        .args([&desk.http, &token, "0", &TOTAL.to_string(), "8"])
        .arg(&again)
        .status()
        .unwrap();
    assert!(status.success());
    let after: std::collections::HashMap<usize, i64> = parse_acks(&again).into_iter().collect();
    assert_eq!(after.len(), TOTAL);
    for (i, id) in &before {
        assert_eq!(
            after.get(i),
            Some(id),
            "report {i} was acknowledged as {id} before the crash"
        );
    }
    let api = Api { token, desk: &desk };
    api.wait_processed(Duration::from_secs(300));
    let ids: std::collections::HashSet<i64> = after.values().copied().collect();
    assert_eq!(
        ids.len(),
        TOTAL,
        "each distinct report is stored exactly once"
    );
    // Every stored report is processed, and the case counters add up to exactly TOTAL.
    let (_, m) = curl(&[&api.url("/metrics")]);
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains(&format!(
            "abusedesk_reports{{status=\"processed\"}} {TOTAL}"
        )),
        "{m}"
    );
    assert!(m.contains("abusedesk_queue_depth 0"), "{m}");
    let mut total = 0;
    let mut cursor = String::new();
    loop {
        let (_, page) = api.get(&format!("/api/v1/cases?limit=1000{cursor}"));
        total += page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["report_count"].as_i64().unwrap())
            .sum::<i64>();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(total, TOTAL as i64, "no report counted twice in the cases");
}
both_stores!(
    kill_9_while_streaming_loses_nothing,
    kill_9_while_streaming_loses_nothing
);

fn parse_acks(path: &Path) -> Vec<(usize, i64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let mut p = l.split(' ');
            (
                p.next().unwrap().parse().unwrap(),
                p.next().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Two `serve` processes on one PostgreSQL: every report processed once, by one of them.
#[test]
fn two_processes_share_one_postgres() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    const TOTAL: usize = 3_000;
    let tmp = tempfile::tempdir().unwrap();
    let env = backend.env();
    let a = Desk::start(&tmp.path().join("a"), &env);
    let b = Desk::start(&tmp.path().join("b"), &env);
    let token = a.token();
    let half = (TOTAL / 2).to_string();
    let mut clients = Vec::new();
    for (desk, first) in [(&a, "0"), (&b, half.as_str())] {
        clients.push(
            Command::new("python3")
                .arg(client("stream.py"))
                .args([&desk.http, &token, first, &half, "4"])
                .arg(tmp.path().join(format!("acks-{first}")))
                .spawn()
                .unwrap(),
        );
    }
    for mut c in clients {
        assert!(c.wait().unwrap().success());
    }
    let api = Api {
        token: token.clone(),
        desk: &a,
    };
    api.wait_processed(Duration::from_secs(300));
    let processed_by = |d: &Desk| -> u64 {
        let (_, m) = curl(&[&format!("http://{}/metrics", d.http)]);
        let m = String::from_utf8(m).unwrap();
        let line = m
            .lines()
            .find(|l| l.starts_with("abusedesk_reports_processed_total{result=\"processed\"}"))
            .unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let (pa, pb) = (processed_by(&a), processed_by(&b));
    assert_eq!(pa + pb, TOTAL as u64, "processed once in all: {pa} + {pb}");
    assert!(pa > 0 && pb > 0, "both processes worked: {pa} + {pb}");
    let (_, m) = curl(&[&format!("http://{}/metrics", a.http)]);
    assert!(String::from_utf8(m).unwrap().contains(&format!(
        "abusedesk_reports{{status=\"processed\"}} {TOTAL}"
    )));
}

#[test]
fn configuration_errors_are_reported_together() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(
        tmp.path(),
        "abusedesk.toml",
        b"[http]\nlisten = \"nowhere\"\n[workers]\ncount = \"many\"\n[bogus]\nx = 1\n",
    );
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .env("ABUSEDESK_SMTP", "also-bad")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "http.listen: \"nowhere\"",
        "workers.count: expected a number",
        "unknown key bogus.x",
        "ABUSEDESK_SMTP: \"also-bad\"",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
}

#[test]
fn serve_starts_with_no_configuration_in_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0"])
        .current_dir(tmp.path())
        .env("ABUSEDESK_RDAP_ENABLED", "false")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("http listening on 127.0.0.1:"), "{line}");
    assert!(
        !line.trim().ends_with(":0"),
        "the real port is printed: {line}"
    );
    assert!(tmp.path().join("abusedesk-data/abusedesk.sqlite3").exists());
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::io::stdout().flush();
}
