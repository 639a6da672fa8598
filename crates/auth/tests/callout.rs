//! Envelope-sender callouts against an SMTP server started here on loopback.
use abusedesk_auth::callout::{CalloutConfig, EnvelopeClass, Verifier};
use abusedesk_auth::dns::cache::ManualClock;
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::dns::{Rdata, Resolver};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A scripted MX: knows `good@`, rejects `bad@`, greylists `grey@`. Records every line.
async fn smtp_server(log: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220-mx.example.test ESMTP test\r\n220 ready\r\n")
                    .await
                    .unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    log.lock().unwrap().push(cmd.clone());
                    let upper = cmd.to_ascii_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") {
                        b"250-mx.example.test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        b"250 2.1.0 ok\r\n"
                    } else if upper.starts_with("RCPT TO:<GOOD@") {
                        b"250 2.1.5 ok\r\n"
                    } else if upper.starts_with("RCPT TO:<BAD@") {
                        b"550 5.1.1 no such user\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        b"451 4.7.1 greylisted, try later\r\n"
                    } else if upper.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.ok();
                        return;
                    } else {
                        b"502 5.5.2 not here\r\n"
                    };
                    w.write_all(answer).await.unwrap();
                }
            });
        }
    });
    port
}

fn zone() -> Zone {
    let mut z = Zone::new();
    z.add(
        "example.test",
        Rdata::Mx {
            preference: 10,
            exchange: "mx.example.test".into(),
        },
        300,
    )
    .unwrap();
    z.add(
        "mx.example.test",
        Rdata::A("127.0.0.1".parse().unwrap()),
        300,
    )
    .unwrap();
    z.add(
        "nomail.example.test",
        Rdata::Mx {
            preference: 0,
            exchange: String::new(),
        },
        300,
    )
    .unwrap();
    z.add(
        "bare.example.test",
        Rdata::A("127.0.0.1".parse().unwrap()),
        300,
    )
    .unwrap();
    z.add(
        "empty.example.test",
        Rdata::Txt(vec![b"hello".to_vec()]),
        300,
    )
    .unwrap();
    z.set_timeout("slow.example.test").unwrap();
    z
}

#[tokio::test]
async fn table4_classes() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let port = smtp_server(log.clone()).await;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let cfg = CalloutConfig {
        helo: "verifier.example.net".into(),
        port,
        connect_timeout: Duration::from_secs(2),
        command_timeout: Duration::from_secs(2),
        burst_per_domain: 100,
        ..CalloutConfig::default()
    };
    let v = Verifier::with_clock(Resolver::from_zone(zone()), cfg, clock.clone());

    let good = v.verify("good@example.test").await;
    assert_eq!(good.class, EnvelopeClass::Reachable, "{}", good.reason);
    assert_eq!(good.mx.as_deref(), Some("mx.example.test"));
    let bad = v.verify("<bad@example.test>").await;
    assert_eq!(bad.class, EnvelopeClass::Unreachable, "{}", bad.reason);
    assert!(bad.reply.as_deref().unwrap().starts_with("550"));
    let grey = v.verify("grey@example.test").await;
    assert_eq!(grey.class, EnvelopeClass::Unknown, "{}", grey.reason);
    assert_eq!(
        v.verify("x@nowhere.example.test").await.class,
        EnvelopeClass::NonexistentDomain
    );
    assert_eq!(
        v.verify("x@empty.example.test").await.class,
        EnvelopeClass::NonexistentDomain
    );
    assert_eq!(
        v.verify("x@nomail.example.test").await.class,
        EnvelopeClass::Unreachable
    );
    assert_eq!(
        v.verify("good@bare.example.test").await.class,
        EnvelopeClass::Reachable,
        "implicit MX"
    );
    assert_eq!(
        v.verify("x@slow.example.test").await.class,
        EnvelopeClass::Unknown
    );
    assert_eq!(v.verify("").await.class, EnvelopeClass::Unknown);

    // the dialogue: configured HELO, null sender, never DATA
    let lines = log.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l == "EHLO verifier.example.net"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("MAIL"))
            .all(|l| l == "MAIL FROM:<>"),
        "{lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with("DATA")),
        "{lines:?}"
    );

    // cache: positive 31 days, negative 3 days, temporary not at all
    let n = log.lock().unwrap().len();
    assert!(v.verify("good@example.test").await.cached);
    assert!(v.verify("bad@example.test").await.cached);
    assert!(!v.verify("grey@example.test").await.cached);
    let after_grey = log.lock().unwrap().len();
    assert!(after_grey > n, "the greylisted address was asked again");
    clock.advance_secs(3 * 86_400 + 1);
    assert!(v.verify("good@example.test").await.cached);
    assert!(
        !v.verify("bad@example.test").await.cached,
        "negative entries expire after 3 days"
    );
    clock.advance_secs(28 * 86_400);
    assert!(
        !v.verify("good@example.test").await.cached,
        "positive entries expire after 31 days"
    );
}

#[tokio::test]
async fn rate_limited_per_domain() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let port = smtp_server(log.clone()).await;
    let clock = Arc::new(ManualClock::new(0));
    let cfg = CalloutConfig {
        port,
        burst_per_domain: 2,
        per_minute_per_domain: 1,
        ..CalloutConfig::default()
    };
    let v = Verifier::with_clock(Resolver::from_zone(zone()), cfg, clock.clone());
    assert_eq!(
        v.verify("grey1@example.test").await.class,
        EnvelopeClass::Unknown
    );
    assert_eq!(
        v.verify("grey2@example.test").await.class,
        EnvelopeClass::Unknown
    );
    let limited = v.verify("good@example.test").await;
    assert!(limited.reason.contains("rate limit"), "{}", limited.reason);
    // another domain has its own budget
    assert_eq!(
        v.verify("good@bare.example.test").await.class,
        EnvelopeClass::Reachable
    );
    clock.advance_secs(61);
    assert_eq!(
        v.verify("good@example.test").await.class,
        EnvelopeClass::Reachable
    );
}
