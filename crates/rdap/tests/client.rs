//! The client against a local RDAP responder (axum on 127.0.0.1, port 0) that serves the
//! corpus files. No other network.
use abusedesk_rdap::{
    Bootstrap, ClientConfig, ContactRule, ManualClock, RdapClient, RdapError, Rir, Servers,
};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Address -> corpus file, as the corpus README lists them.
const FILES: &[(&str, &str)] = &[
    ("74.125.225.229", "ipwhois/responses/74.125.225.229.json"),
    (
        "2001:4860:4860::8888",
        "ipwhois/responses/2001_4860_4860__8888.json",
    ),
    ("62.239.237.1", "ipwhois/responses/62.239.237.1.json"),
    (
        "2a00:2381:ffff::1",
        "ipwhois/responses/2a00_2381_ffff__1.json",
    ),
    ("210.107.73.73", "ipwhois/responses/210.107.73.73.json"),
    (
        "2001:240:10c:1::ca20:9d1d",
        "ipwhois/responses/2001_240_10c_1__ca20_9d1d.json",
    ),
    ("200.57.141.161", "ipwhois/responses/200.57.141.161.json"),
    ("2801:10:c000::", "ipwhois/responses/2801_10_c000__.json"),
    ("196.11.240.215", "ipwhois/responses/196.11.240.215.json"),
    ("2001:43f8:7b0::", "ipwhois/responses/2001_43f8_7b0__.json"),
    (
        "101.1.0.1",
        "icann-rdap-conformance-tool/ipNetwork-valid.json",
    ),
    ("192.198.0.1", "icann-rdap/network_192_198_0_0.json"),
    ("2001:db8::1", "icann-rdap/2001_db8__.json"),
];

#[derive(Clone, Default)]
struct Responder {
    hits: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

fn corpus(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(rel)
}

async fn serve(State(r): State<Responder>, Path(rest): Path<String>) -> Response {
    r.hits.fetch_add(1, Ordering::SeqCst);
    r.paths.lock().unwrap().push(rest.clone());
    // Optional registry prefix: /<rir>/ip/<addr>.
    let (prefix, ip) = match rest.split_once("ip/") {
        Some((p, ip)) => (p.trim_end_matches('/').to_string(), ip.to_string()),
        None => return StatusCode::BAD_REQUEST.into_response(),
    };
    if prefix == "moved" {
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, format!("/ripe/ip/{ip}"))],
        )
            .into_response();
    }
    match ip.as_str() {
        "198.51.100.1" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            return StatusCode::OK.into_response();
        }
        "198.51.100.2" => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "198.51.100.3" => return (StatusCode::OK, vec![b' '; 64 * 1024]).into_response(),
        "198.51.100.4" => return (StatusCode::OK, "{not json").into_response(),
        "198.51.100.6" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let body = std::fs::read(corpus("ipwhois/responses/62.239.237.1.json")).unwrap();
            return (StatusCode::OK, body).into_response();
        }
        "198.51.100.5" => {
            return (
                StatusCode::OK,
                r#"{"errorCode": 404, "title": "Not Found"}"#,
            )
                .into_response();
        }
        _ => {}
    }
    let Ok(addr) = ip.parse::<IpAddr>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match FILES
        .iter()
        .find(|(a, _)| a.parse::<IpAddr>().ok() == Some(addr))
    {
        Some((_, f)) => (
            [(header::CONTENT_TYPE, "application/rdap+json")],
            std::fs::read(corpus(f)).unwrap(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/rdap+json")],
            r#"{"errorCode": 404, "title": "Not Found"}"#,
        )
            .into_response(),
    }
}

async fn start() -> (String, Responder) {
    let r = Responder::default();
    let app = Router::new()
        .route("/{*rest}", axum::routing::get(serve))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/"), r)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn single_base_url_serves_every_corpus_record_and_caches() {
    let (base, r) = start().await;
    let client = RdapClient::new(ClientConfig::with_base_url(&base).unwrap()).unwrap();
    for (addr, _) in FILES {
        let l = client.lookup_ip(ip(addr)).await.unwrap();
        assert!(!l.cached);
        assert!(l.url.ends_with(&format!("ip/{}", ip(addr))), "{}", l.url);
        assert!(l.network.abuse_contact.is_some(), "{addr}");
    }
    assert_eq!(r.hits.load(Ordering::SeqCst), FILES.len());
    for (addr, _) in FILES {
        assert!(client.lookup_ip(ip(addr)).await.unwrap().cached);
    }
    assert_eq!(r.hits.load(Ordering::SeqCst), FILES.len());
    let l = client.lookup_ip(ip("74.125.225.229")).await.unwrap();
    let c = l.network.abuse_contact.as_ref().unwrap();
    assert_eq!(c.rule, ContactRule::NestedAbuseRole);
    assert_eq!(c.emails, ["arin-contact@google.com"]);
}

#[tokio::test]
async fn positive_and_negative_ttls_follow_the_clock() {
    let (base, r) = start().await;
    let clock = Arc::new(ManualClock::new());
    let config = ClientConfig {
        positive_ttl: Duration::from_secs(100),
        negative_ttl: Duration::from_secs(10),
        ..ClientConfig::with_base_url(&base).unwrap()
    };
    let client = RdapClient::with_clock(config, clock.clone()).unwrap();

    let e = client.lookup_ip(ip("5.5.5.5")).await.unwrap_err();
    assert!(matches!(e, RdapError::NotFound { .. }), "{e}");
    assert_eq!(client.lookup_ip(ip("5.5.5.5")).await.unwrap_err(), e);
    assert_eq!(r.hits.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(11));
    assert!(client.lookup_ip(ip("5.5.5.5")).await.is_err());
    assert_eq!(r.hits.load(Ordering::SeqCst), 2);

    client.lookup_ip(ip("62.239.237.1")).await.unwrap();
    clock.advance(Duration::from_secs(99));
    assert!(client.lookup_ip(ip("62.239.237.1")).await.unwrap().cached);
    clock.advance(Duration::from_secs(2));
    assert!(!client.lookup_ip(ip("62.239.237.1")).await.unwrap().cached);
    assert_eq!(r.hits.load(Ordering::SeqCst), 4);
    // An error body that says 404 counts as not found.
    let e = client.lookup_ip(ip("198.51.100.5")).await.unwrap_err();
    assert!(matches!(e, RdapError::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn failures_are_clear_and_briefly_cached() {
    let (base, r) = start().await;
    let clock = Arc::new(ManualClock::new());
    let config = ClientConfig {
        timeout: Duration::from_millis(300),
        error_ttl: Duration::from_secs(30),
        max_body_bytes: 1024,
        ..ClientConfig::with_base_url(&base).unwrap()
    };
    let client = RdapClient::with_clock(config, clock.clone()).unwrap();

    let e = client.lookup_ip(ip("198.51.100.1")).await.unwrap_err();
    assert!(matches!(e, RdapError::Timeout { .. }), "{e}");
    assert!(e.is_transient());
    let e = client.lookup_ip(ip("198.51.100.2")).await.unwrap_err();
    assert!(matches!(e, RdapError::Status { status: 500, .. }), "{e}");
    let e = client.lookup_ip(ip("198.51.100.3")).await.unwrap_err();
    assert!(matches!(e, RdapError::TooLarge { limit: 1024, .. }), "{e}");
    let e = client.lookup_ip(ip("198.51.100.4")).await.unwrap_err();
    assert!(matches!(e, RdapError::Parse { .. }), "{e}");
    assert!(e.to_string().contains("not JSON"), "{e}");
    let hits = r.hits.load(Ordering::SeqCst);
    assert!(client.lookup_ip(ip("198.51.100.2")).await.is_err());
    assert_eq!(r.hits.load(Ordering::SeqCst), hits, "error was cached");
    clock.advance(Duration::from_secs(31));
    assert!(client.lookup_ip(ip("198.51.100.2")).await.is_err());
    assert_eq!(r.hits.load(Ordering::SeqCst), hits + 1);
}

#[tokio::test]
async fn bootstrap_table_picks_the_registry_and_redirects_are_followed() {
    let (base, r) = start().await;
    let base = Url::parse(&base).unwrap();
    let boot = Bootstrap::embedded_with(|rir| {
        let name = match rir {
            Rir::Arin => "arin",
            Rir::Ripe => "moved", // answers with a redirect to /ripe/
            Rir::Apnic => "apnic",
            Rir::Lacnic => "lacnic",
            Rir::Afrinic => "afrinic",
        };
        base.join(&format!("{name}/")).ok()
    });
    let config = ClientConfig {
        servers: Servers::Bootstrap(boot),
        ..ClientConfig::default()
    };
    let client = RdapClient::new(config).unwrap();

    let l = client.lookup_ip(ip("74.125.225.229")).await.unwrap();
    assert!(l.url.contains("/arin/ip/74.125.225.229"), "{}", l.url);
    let l = client.lookup_ip(ip("2a00:2381:ffff::1")).await.unwrap();
    assert!(l.url.contains("/ripe/ip/2a00:2381:ffff::1"), "{}", l.url);
    assert_eq!(l.network.registry, Some(Rir::Ripe));
    let l = client.lookup_ip(ip("196.11.240.215")).await.unwrap();
    assert!(l.url.contains("/afrinic/"), "{}", l.url);
    assert_eq!(
        l.network.abuse_contact.as_ref().unwrap().rule,
        ContactRule::AbuseRemark
    );
    let paths = r.paths.lock().unwrap().clone();
    assert_eq!(
        paths,
        [
            "arin/ip/74.125.225.229",
            "moved/ip/2a00:2381:ffff::1",
            "ripe/ip/2a00:2381:ffff::1",
            "afrinic/ip/196.11.240.215"
        ]
    );
    let e = client.lookup_ip(ip("10.1.2.3")).await.unwrap_err();
    assert_eq!(e, RdapError::NoService(ip("10.1.2.3")));
    assert!(ClientConfig::with_base_url("ftp://x.example/").is_err());
}

#[tokio::test]
async fn cache_is_bounded() {
    let (base, _r) = start().await;
    let config = ClientConfig {
        max_cache_entries: 5,
        ..ClientConfig::with_base_url(&base).unwrap()
    };
    let client = RdapClient::new(config).unwrap();
    for i in 0..20u8 {
        let _ = client.lookup_ip(IpAddr::from([5, 5, 5, i])).await;
        assert!(client.cache_len() <= 5);
    }
}

#[tokio::test]
async fn concurrent_lookups_of_one_address_share_one_request() {
    let (base, r) = start().await;
    let client = RdapClient::new(ClientConfig::with_base_url(&base).unwrap()).unwrap();
    let a = ip("198.51.100.6");
    let (x, y, z) = tokio::join!(
        client.lookup_ip(a),
        client.lookup_ip(a),
        client.lookup_ip(a)
    );
    assert_eq!(x.unwrap().network, y.unwrap().network);
    assert!(z.is_ok());
    assert_eq!(r.hits.load(Ordering::SeqCst), 1);
    assert!(client.lookup_ip(a).await.unwrap().cached);
}
