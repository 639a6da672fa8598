//! DKIM: the RFC 6376 / RFC 8463 examples, and messages signed here with keys made here.
mod common;

use abusedesk_auth::dkim::{self, DkimOutcome, DkimPolicy, DkimResult};
use abusedesk_auth::dns::Resolver;
use abusedesk_auth::parse_message;
use common::*;
use mail_auth::common::crypto::{Ed25519Key, Sha1, Sha256, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

const MESSAGE: &str = "From: Joe SixPack <joe@football.example.com>\r\n\
To: Suzie Q <suzie@shopping.example.net>\r\n\
Subject: Is dinner ready?\r\n\
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n\
Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n\
\r\n\
Hi.\r\n\
\r\n\
We lost the game. Are you hungry yet?\r\n\
\r\n\
Joe.\r\n";

async fn verify_at(resolver: &Resolver, raw: &[u8], now: u64) -> Vec<DkimOutcome> {
    let msg = parse_message(raw).expect("message parses");
    dkim::verify(resolver, &msg, now, &DkimPolicy::default()).await
}

fn signed<K: SigningKey>(
    signer: &DkimSigner<K, mail_auth::dkim::Done>,
    msg: &str,
) -> (Vec<u8>, u64) {
    let sig = signer.sign(msg.as_bytes()).expect("sign");
    let t = sig.t;
    (format!("{}{msg}", sig.to_header()).into_bytes(), t)
}

fn ed25519() -> (Ed25519Key, String) {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let public = b64(&key.public_key());
    (key, public)
}

fn ed_signer(selector: &str) -> (DkimSigner<Ed25519Key, mail_auth::dkim::Done>, String) {
    let (key, public) = ed25519();
    let s = DkimSigner::from_key(key)
        .domain("football.example.com")
        .selector(selector)
        .headers(["From", "To", "Subject", "Date"]);
    (s, public)
}

#[tokio::test]
async fn rfc8463_example_ed25519_and_rsa() {
    let (zone, raw) = example(include_str!("data/dkim/rfc8463-example.txt"));
    let r = resolver(zone);
    let out = verify_at(&r, &raw, 1528637909 + 60).await;
    assert_eq!(out.len(), 2);
    assert_eq!(
        (
            out[0].result,
            out[0].selector.as_str(),
            out[0].algorithm.as_str()
        ),
        (DkimResult::Pass, "brisbane", "ed25519-sha256")
    );
    assert_eq!(
        (out[1].result, out[1].selector.as_str(), out[1].key_bits),
        (DkimResult::Pass, "test", Some(1024))
    );
    assert_eq!(out[0].domain, "football.example.com");
}

#[tokio::test]
async fn rfc6376_example() {
    let (zone, raw) = example(include_str!("data/dkim/rfc6376-example.txt"));
    let out = verify_at(&resolver(zone), &raw, 1615825284 + 60).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].result, DkimResult::Pass, "{}", out[0].reason);
    assert_eq!(out[0].identity.as_deref(), Some("joe@football.example.com"));
}

#[tokio::test]
async fn signed_here_and_tampered() {
    let (signer, public) = ed_signer("ed");
    let r = resolver(txt_zone(&[(
        "ed._domainkey.football.example.com",
        &format!("v=DKIM1; k=ed25519; p={public}"),
    )]));
    let (raw, t) = signed(&signer, MESSAGE);
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out[0].result, DkimResult::Pass, "{}", out[0].reason);

    let body_changed = String::from_utf8(raw.clone())
        .unwrap()
        .replace("hungry", "thirsty");
    let out = verify_at(&r, body_changed.as_bytes(), t).await;
    assert_eq!(out[0].result, DkimResult::Fail);
    assert!(out[0].reason.contains("body hash"), "{}", out[0].reason);

    let header_changed = String::from_utf8(raw)
        .unwrap()
        .replace("Is dinner ready?", "Is lunch ready?");
    let out = verify_at(&r, header_changed.as_bytes(), t).await;
    assert_eq!(out[0].result, DkimResult::Fail);
    assert!(
        out[0].reason.contains("did not verify"),
        "{}",
        out[0].reason
    );
}

#[tokio::test]
async fn rsa_key_sizes() {
    let k1024 = TestRsa::<Sha256>::generate(1024);
    let p1024 = k1024.public_b64();
    let k512 = TestRsa::<Sha256>::generate(512);
    let p512 = k512.public_b64();
    let r = resolver(txt_zone(&[
        (
            "r1024._domainkey.football.example.com",
            &format!("v=DKIM1; k=rsa; p={p1024}"),
        ),
        (
            "r512._domainkey.football.example.com",
            &format!("v=DKIM1; k=rsa; p={p512}"),
        ),
    ]));
    let s = DkimSigner::from_key(k1024)
        .domain("football.example.com")
        .selector("r1024")
        .headers(["From", "Subject"]);
    let (raw, t) = signed(&s, MESSAGE);
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(
        (out[0].result, out[0].key_bits),
        (DkimResult::Pass, Some(1024)),
        "{}",
        out[0].reason
    );

    let s = DkimSigner::from_key(k512)
        .domain("football.example.com")
        .selector("r512")
        .headers(["From", "Subject"]);
    let (raw, t) = signed(&s, MESSAGE);
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out[0].result, DkimResult::PermError);
    assert!(out[0].reason.contains("512 bits"), "{}", out[0].reason);
}

#[tokio::test]
async fn rsa_sha1_is_policy() {
    let k = TestRsa::<Sha1>::generate(1024);
    let p = k.public_b64();
    let r = resolver(txt_zone(&[(
        "old._domainkey.football.example.com",
        &format!("p={p}"),
    )]));
    let s = DkimSigner::from_key(k)
        .domain("football.example.com")
        .selector("old")
        .headers(["From"]);
    let (raw, t) = signed(&s, MESSAGE);
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out[0].result, DkimResult::Policy, "{}", out[0].reason);
    assert!(out[0].reason.contains("RFC 8301"));
}

/// Key record tags: v=, k=, h=, s=, t=, revoked and short keys, each on its own selector.
#[tokio::test]
async fn key_record_checks() {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let public = b64(&Ed25519Key::from_pkcs8_der(&pkcs8).unwrap().public_key());
    let records = [
        (
            "good",
            format!("v=DKIM1; k=ed25519; p={public}"),
            DkimResult::Pass,
            "valid",
        ),
        (
            "vlate",
            format!("k=ed25519; v=DKIM1; p={public}"),
            DkimResult::PermError,
            "v= must come first",
        ),
        (
            "v2",
            format!("v=DKIM2; k=ed25519; p={public}"),
            DkimResult::PermError,
            "DKIM1",
        ),
        (
            "krsa",
            format!("v=DKIM1; k=rsa; p={public}"),
            DkimResult::PermError,
            "key type does not match",
        ),
        (
            "kodd",
            format!("v=DKIM1; k=dsa; p={public}"),
            DkimResult::PermError,
            "k=dsa",
        ),
        (
            "hsha1",
            format!("v=DKIM1; k=ed25519; h=sha1; p={public}"),
            DkimResult::PermError,
            "does not allow sha256",
        ),
        (
            "web",
            format!("v=DKIM1; k=ed25519; s=web; p={public}"),
            DkimResult::PermError,
            "does not include email",
        ),
        (
            "star",
            format!("v=DKIM1; k=ed25519; s=*; p={public}"),
            DkimResult::Pass,
            "valid",
        ),
        (
            "testing",
            format!("v=DKIM1; k=ed25519; t=y; p={public}"),
            DkimResult::Pass,
            "testing",
        ),
        (
            "revoked",
            "v=DKIM1; k=ed25519; p=".to_string(),
            DkimResult::PermError,
            "revoked",
        ),
        (
            "short",
            "v=DKIM1; k=ed25519; p=AAAA".to_string(),
            DkimResult::PermError,
            "32 required",
        ),
        ("absent", String::new(), DkimResult::PermError, "no key"),
    ];
    let zone_records: Vec<(String, String)> = records
        .iter()
        .filter(|(s, _, _, _)| *s != "absent")
        .map(|(s, rec, _, _)| (format!("{s}._domainkey.football.example.com"), rec.clone()))
        .collect();
    let refs: Vec<(&str, &str)> = zone_records
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = resolver(txt_zone(&refs));
    for (selector, _, want, why) in &records {
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        let signer = DkimSigner::from_key(key)
            .domain("football.example.com")
            .selector(*selector)
            .headers(["From"]);
        let (raw, t) = signed(&signer, MESSAGE);
        let out = verify_at(&r, &raw, t).await;
        assert_eq!(out[0].result, *want, "{selector}: {}", out[0].reason);
        assert!(out[0].reason.contains(why), "{selector}: {}", out[0].reason);
        assert_eq!(out[0].testing, *selector == "testing");
    }
}

#[tokio::test]
async fn strict_identity_flag() {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let public = b64(&Ed25519Key::from_pkcs8_der(&pkcs8).unwrap().public_key());
    let r = resolver(txt_zone(&[(
        "s._domainkey.football.example.com",
        &format!("k=ed25519; t=s; p={public}"),
    )]));
    let sign = |auid: &str| {
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        let s = DkimSigner::from_key(key)
            .domain("football.example.com")
            .selector("s")
            .headers(["From"])
            .agent_user_identifier(auid);
        signed(&s, MESSAGE)
    };
    let (raw, t) = sign("joe@football.example.com");
    assert_eq!(verify_at(&r, &raw, t).await[0].result, DkimResult::Pass);
    let (raw, t) = sign("joe@mail.football.example.com");
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out[0].result, DkimResult::Fail);
    assert!(out[0].reason.contains("t=s"), "{}", out[0].reason);
    // i= outside d= is a permerror whatever the key says
    let (raw, t) = sign("joe@other.example");
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out[0].result, DkimResult::PermError);
    assert!(out[0].reason.contains("not d="), "{}", out[0].reason);
}

#[tokio::test]
async fn domain_syntax_is_checked() {
    let (signer, public) = ed_signer("ed");
    let r = resolver(txt_zone(&[(
        "ed._domainkey.football.example.com",
        &format!("k=ed25519; p={public}"),
    )]));
    let (raw, t) = signed(&signer, MESSAGE);
    let bad = String::from_utf8(raw).unwrap().replacen(
        "d=football.example.com",
        "d=football..example.com",
        1,
    );
    let out = verify_at(&r, bad.as_bytes(), t).await;
    assert_eq!(out[0].result, DkimResult::PermError);
    assert!(
        out[0].reason.contains("not a domain name"),
        "{}",
        out[0].reason
    );
}

#[tokio::test]
async fn expiry_against_the_evaluation_time() {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let public = b64(&key.public_key());
    let r = resolver(txt_zone(&[(
        "x._domainkey.football.example.com",
        &format!("k=ed25519; p={public}"),
    )]));
    let s = DkimSigner::from_key(key)
        .domain("football.example.com")
        .selector("x")
        .headers(["From"])
        .expiration(3600);
    let (raw, t) = signed(&s, MESSAGE);
    let before = verify_at(&r, &raw, t + 10).await;
    assert_eq!(before[0].result, DkimResult::Pass, "{}", before[0].reason);
    assert_eq!(before[0].expires_at, Some(t + 3600));
    let after = verify_at(&r, &raw, t + 7200).await;
    assert_eq!(after[0].result, DkimResult::PermError);
    assert!(after[0].reason.contains("expired"), "{}", after[0].reason);
}

#[tokio::test]
async fn body_length_limit() {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let public = b64(&key.public_key());
    let r = resolver(txt_zone(&[(
        "l._domainkey.football.example.com",
        &format!("k=ed25519; p={public}"),
    )]));
    let s = DkimSigner::from_key(key)
        .domain("football.example.com")
        .selector("l")
        .headers(["From"])
        .body_length(true);
    let (raw, t) = signed(&s, MESSAGE);
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out[0].result, DkimResult::Pass, "{}", out[0].reason);
    assert_eq!(out[0].unsigned_body_octets, Some(0));

    let mut appended = raw.clone();
    appended.extend_from_slice(b"Buy cheap pills at example.invalid\r\n");
    let out = verify_at(&r, &appended, t).await;
    assert_eq!(out[0].result, DkimResult::Policy, "{}", out[0].reason);
    assert_eq!(out[0].unsigned_body_octets, Some(36));

    let truncated = String::from_utf8(raw)
        .unwrap()
        .replace("\r\nJoe.\r\n", "\r\n");
    let out = verify_at(&r, truncated.as_bytes(), t).await;
    assert_eq!(out[0].result, DkimResult::Fail);
    assert!(out[0].reason.contains("exceeds"), "{}", out[0].reason);
}

#[tokio::test]
async fn results_in_header_order_and_dns_failures() {
    let (s1, p1) = ed_signer("one");
    let (s2, _) = ed_signer("two");
    let mut zone = txt_zone(&[(
        "one._domainkey.football.example.com",
        &format!("k=ed25519; p={p1}"),
    )]);
    zone.set_timeout("two._domainkey.football.example.com")
        .unwrap();
    let r = resolver(zone);
    let (inner, t) = signed(&s1, MESSAGE);
    let sig2 = s2.sign(&inner).unwrap();
    let mut raw = sig2.to_header().into_bytes();
    raw.extend_from_slice(&inner);
    let out = verify_at(&r, &raw, t).await;
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].selector.as_str(), out[0].result),
        ("two", DkimResult::TempError)
    );
    assert_eq!(
        (out[1].selector.as_str(), out[1].result),
        ("one", DkimResult::Pass)
    );
}

#[tokio::test]
async fn unsigned_and_garbage() {
    let r = resolver(txt_zone(&[]));
    assert!(verify_at(&r, MESSAGE.as_bytes(), 0).await.is_empty());
    let garbage = format!("DKIM-Signature: v=1; a=rsa-sha256; d=x; d=y\r\n{MESSAGE}");
    let out = verify_at(&r, garbage.as_bytes(), 0).await;
    assert_eq!(out[0].result, DkimResult::PermError);
    assert!(out[0].reason.contains("duplicate"), "{}", out[0].reason);
}
