//! `abusedesk spf` and `abusedesk auth` as a user runs them: the real binary, zone files
//! on disk, and a DNS server on loopback for the live path.
use abusedesk_auth::dns::server::ZoneServer;
use abusedesk_auth::dns::zone::Zone;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

const ZONE: &str = r#"$ORIGIN example.com.
$TTL 300
@       TXT "v=spf1 ip4:192.0.2.0/24 -all exp=why.example.com"
why     TXT "%{i} may not send for %{d}"
_dmarc  TXT "v=DMARC1; p=quarantine"
"#;

const MESSAGE: &str = "Received: from mail.example.com (mail.example.com [192.0.2.10])\n\
\tby mx.example.org (Postfix) with ESMTP id 1; Tue, 14 Nov 2023 22:13:20 +0000\n\
Return-Path: <joe@example.com>\n\
From: Joe <joe@example.com>\n\
To: you@example.org\n\
Subject: hi\n\
Date: Tue, 14 Nov 2023 22:13:19 +0000\n\
Message-ID: <1@example.com>\n\
\n\
body\n";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("abusedesk-auth-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_abusedesk"))
}

#[test]
fn spf_prints_the_keyword_first() {
    let d = dir("spf");
    let zone = d.join("example.zone");
    std::fs::write(&zone, ZONE).unwrap();
    let run = |ip: &str, from: &str| {
        let out = bin()
            .args([
                "spf",
                "--ip",
                ip,
                "--helo",
                "mail.example.com",
                "--mail-from",
                from,
                "--dns-zone",
            ])
            .arg(&zone)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let pass = run("192.0.2.10", "joe@example.com");
    assert_eq!(pass.lines().next(), Some("pass"), "{pass}");
    let fail = run("203.0.113.1", "joe@example.com");
    assert_eq!(fail.lines().next(), Some("fail"));
    assert!(
        fail.contains("explanation: 203.0.113.1 may not send for example.com"),
        "{fail}"
    );
    assert_eq!(
        run("192.0.2.10", "joe@nowhere.example").lines().next(),
        Some("none")
    );
    // a broken zone file is a configuration error (exit 2), not a result
    std::fs::write(d.join("bad.zone"), "$ORIGIN x.\na A 999.1.1.1\n").unwrap();
    let out = bin()
        .args([
            "spf",
            "--ip",
            "192.0.2.1",
            "--helo",
            "h",
            "--mail-from",
            "a@b.c",
            "--dns-zone",
        ])
        .arg(d.join("bad.zone"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn auth_over_loopback_dns_takes_the_session_from_trace() {
    let d = dir("auth");
    let msg = d.join("m.eml");
    std::fs::write(&msg, MESSAGE).unwrap();
    let (zone, _) = Zone::parse(ZONE.as_bytes(), None).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(ZoneServer::start(
            Arc::new(zone),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let addr = server.local_addr().to_string();

    let out = bin()
        .args([
            "auth",
            "--resolver",
            &addr,
            "--format",
            "json",
            "--at",
            "1700000000",
        ])
        .arg(&msg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["spf", "sender_id", "dmarc", "arc", "iprev"] {
        assert!(v[key]["result"].is_string(), "{key}: {v}");
    }
    for key in ["dkim", "domainkeys"] {
        assert!(v[key].is_array(), "{key}");
    }
    assert_eq!(v["session"]["source"], "trace");
    assert_eq!(v["session"]["ip"], "192.0.2.10");
    assert_eq!(v["spf"]["result"], "pass");
    assert_eq!(v["dmarc"]["result"], "pass");
    assert_eq!(v["dmarc"]["policy"], "quarantine");
    assert_eq!(v["evaluated_at"], 1700000000);
    assert!(server.queries() > 0);

    // arguments override the origin; text output is the header field
    let out = bin()
        .args(["auth", "--resolver", &addr, "--ip", "203.0.113.1"])
        .arg(&msg)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Authentication-Results: abusedesk.invalid;\n\tspf=fail"),
        "{text}"
    );
    assert!(text.contains("dmarc=fail"), "{text}");
    drop(server);
}
