//! Sender ID, DomainKeys, DMARC, ARC, iprev and the whole report, offline and over the
//! loopback DNS server.
mod common;

use abusedesk_auth::dkim::DkimResult;
use abusedesk_auth::dns::server::ZoneServer;
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::dns::{LiveConfig, Rdata, Resolver};
use abusedesk_auth::domainkeys::{self, Canon};
use abusedesk_auth::report::{ArcResult, DmarcResult};
use abusedesk_auth::sender_id::{self, PraHeader};
use abusedesk_auth::spf::SpfResult;
use abusedesk_auth::{Authenticator, Session, parse_message};
use common::*;
use rsa::pkcs8::EncodePublicKey;
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use std::sync::Arc;

const AT: u64 = 1_700_000_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn zone_text(text: &str) -> Zone {
    Zone::parse(text.as_bytes(), None).unwrap().0
}

const SENDER_ID_ZONE: &str = r#"
$ORIGIN example.com.
@            TXT "v=spf1 ip4:192.0.2.0/24 -all"
lists        TXT "spf2.0/pra ip4:198.51.100.0/24 -all"
             TXT "v=spf1 -all"
forwarder    TXT "spf2.0/mfrom,pra ip4:203.0.113.7 ~all"
both         TXT "spf2.0/pra ip4:192.0.2.1 -all"
             TXT "spf2.0/pra,mfrom ip4:192.0.2.2 -all"
"#;

async fn sid(headers: &str, client: &str) -> abusedesk_auth::sender_id::SenderIdOutcome {
    let r = Resolver::from_zone(zone_text(SENDER_ID_ZONE));
    let raw = crlf(&format!("{headers}\n\nbody\n"));
    let msg = parse_message(&raw).unwrap();
    sender_id::verify(
        &r,
        ip(client),
        "helo.example.net",
        &msg.headers,
        "mx.test",
        AT,
    )
    .await
}

/// RFC 4407 PRA selection with spf2.0 records (RFC 4406).
#[tokio::test]
async fn sender_id_pra_cases() {
    // From, v=spf1 fallback
    let o = sid("From: joe@example.com\nTo: x@example.org", "192.0.2.9").await;
    assert_eq!(
        (o.result, o.pra.unwrap().header),
        (SpfResult::Pass, PraHeader::From)
    );
    let o = sid("From: joe@example.com", "203.0.113.1").await;
    assert_eq!(o.result, SpfResult::Fail);
    // Sender beats From; spf2.0/pra preferred over v=spf1
    let o = sid(
        "From: joe@example.com\nSender: list@lists.example.com",
        "198.51.100.20",
    )
    .await;
    assert_eq!(
        (o.result, o.pra.as_ref().unwrap().header),
        (SpfResult::Pass, PraHeader::Sender),
        "{}",
        o.reason
    );
    // Resent block: Resent-From of the newest block
    let o = sid(
        "Resent-From: fwd@forwarder.example.com\nReceived: from a by b\nFrom: joe@example.com",
        "203.0.113.7",
    )
    .await;
    assert_eq!(
        (o.result, o.pra.as_ref().unwrap().header),
        (SpfResult::Pass, PraHeader::ResentFrom)
    );
    let o = sid(
        "Resent-From: fwd@forwarder.example.com\nFrom: joe@example.com",
        "192.0.2.9",
    )
    .await;
    assert_eq!(o.result, SpfResult::SoftFail);
    // Resent-Sender in the newest block
    let o = sid(
        "Resent-From: a@example.com\nResent-Sender: fwd@forwarder.example.com\nReceived: from a by b\nFrom: joe@example.com",
        "203.0.113.7",
    )
    .await;
    assert_eq!(o.pra.unwrap().header, PraHeader::ResentSender);
    // two pra records: permerror; no PRA: permerror
    let o = sid("From: joe@both.example.com", "192.0.2.1").await;
    assert_eq!(o.result, SpfResult::PermError);
    let o = sid("From: a@example.com, b@example.com", "192.0.2.1").await;
    assert_eq!((o.result, o.pra.is_none()), (SpfResult::PermError, true));
    // no record at all
    let o = sid("From: joe@nowhere.example.org", "192.0.2.1").await;
    assert_eq!(o.result, SpfResult::None);
}

fn dk_sign(
    key: &rsa::RsaPrivateKey,
    domain: &str,
    selector: &str,
    canon: Canon,
    msg: &[u8],
) -> Vec<u8> {
    let parsed = parse_message(msg).unwrap();
    let data = domainkeys::signed_data(&parsed.headers, None, parsed.raw_body(), canon);
    let digest = Sha1::digest(&data);
    let sig = key.sign(rsa::Pkcs1v15Sign::new::<Sha1>(), &digest).unwrap();
    let c = match canon {
        Canon::Simple => "simple",
        Canon::Nofws => "nofws",
    };
    let mut out = format!("DomainKey-Signature: a=rsa-sha1; q=dns; c={c};\r\n  s={selector}; d={domain};\r\n  b={};\r\n", b64(&sig))
        .into_bytes();
    out.extend_from_slice(msg);
    out
}

/// DomainKeys: signed here (the signer exists only in this test), verified, tampered.
#[tokio::test]
async fn domainkeys_sign_verify_tamper() {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 768).unwrap();
    let public = b64(key.to_public_key().to_public_key_der().unwrap().as_bytes());
    let mut zone = txt_zone(&[
        ("dk._domainkey.example.com", &format!("k=rsa; p={public}")),
        (
            "testing._domainkey.example.com",
            &format!("t=y; p={public}"),
        ),
        ("revoked._domainkey.example.com", "k=rsa; p="),
        (
            "_domainkey.strict.example.org",
            "o=-; r=postmaster@strict.example.org",
        ),
    ]);
    zone.add("example.com", Rdata::A("192.0.2.1".parse().unwrap()), 300)
        .unwrap();
    let r = Resolver::from_zone(zone);
    let msg = crlf(
        "From: Joe <joe@example.com>\nTo: x@example.org\nSubject: dinner   is  ready\n\nHi.\n\nWe lost  the game.\n\n\n",
    );
    let check = |raw: Vec<u8>| {
        let r = r.clone();
        async move {
            let m = parse_message(&raw).unwrap();
            domainkeys::verify(&r, &m.headers, m.raw_body()).await
        }
    };
    for canon in [Canon::Simple, Canon::Nofws] {
        let signed = dk_sign(&key, "example.com", "dk", canon, &msg);
        let out = check(signed.clone()).await;
        assert_eq!(
            (out[0].result, out[0].key_bits),
            (DkimResult::Pass, Some(768)),
            "{canon:?}: {}",
            out[0].reason
        );
        let tampered = String::from_utf8(signed.clone())
            .unwrap()
            .replace("lost", "won");
        assert_eq!(
            check(tampered.into_bytes()).await[0].result,
            DkimResult::Fail
        );
        // whitespace changes: nofws survives them, simple does not
        let respaced = String::from_utf8(signed)
            .unwrap()
            .replace("We lost  the game.", "We lost the game.");
        let want = if canon == Canon::Nofws {
            DkimResult::Pass
        } else {
            DkimResult::Fail
        };
        assert_eq!(
            check(respaced.into_bytes()).await[0].result,
            want,
            "{canon:?}"
        );
    }
    let out = check(dk_sign(&key, "example.com", "testing", Canon::Simple, &msg)).await;
    assert!(out[0].testing && out[0].result == DkimResult::Pass);
    let out = check(dk_sign(&key, "example.com", "revoked", Canon::Simple, &msg)).await;
    assert_eq!(out[0].result, DkimResult::PermError);
    assert!(out[0].reason.contains("revoked"));
    // d= must cover the sending address (Sender, else From)
    let out = check(dk_sign(&key, "other.example", "dk", Canon::Simple, &msg)).await;
    assert_eq!(out[0].result, DkimResult::Fail);
    assert!(out[0].reason.contains("does not cover"));
    // the o=- policy: unsigned mail from a domain that signs everything
    let unsigned = crlf("From: a@strict.example.org\nSubject: x\n\nbody\n");
    let out = check(unsigned).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].result, DkimResult::Fail);
    assert!(out[0].reason.contains("o=-"));
    assert!(
        check(crlf("From: a@example.com\n\nbody\n"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn arc_chain_sealed_by_google() {
    let (zone, raw) = example(include_str!("data/arc/google-ietf.txt"));
    let auth = Authenticator::new(Resolver::from_zone(zone), "mx.test").unwrap();
    let report = auth
        .authenticate(
            &raw,
            &Session {
                at: 1667893880,
                ..Session::default()
            },
        )
        .await;
    assert_eq!(report.arc.result, ArcResult::Pass, "{}", report.arc.reason);
    assert_eq!(report.arc.sets, 1);
}

const DMARC_ZONE: &str = r#"
$ORIGIN example.com.
@                 TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc            TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"
mail              A   192.0.2.25
25.2.0.192.in-addr.arpa. PTR mail.example.com.
"#;

#[tokio::test]
async fn dmarc_and_iprev() {
    let auth = Authenticator::new(Resolver::from_zone(zone_text(DMARC_ZONE)), "mx.test").unwrap();
    let msg = crlf("From: Joe <joe@example.com>\nTo: x@example.org\nSubject: hi\n\nbody\n");
    let session = |client: &str, from: &str| Session {
        ip: Some(ip(client)),
        helo: Some("mail.example.com".into()),
        mail_from: Some(from.into()),
        at: AT,
    };
    let pass = auth
        .authenticate(&msg, &session("192.0.2.25", "bounce@example.com"))
        .await;
    assert_eq!(pass.spf.result, SpfResult::Pass);
    assert_eq!(
        (pass.dmarc.result, pass.dmarc.policy),
        (DmarcResult::Pass, Some("reject")),
        "{:?}",
        pass.dmarc
    );
    assert_eq!(pass.iprev.result, abusedesk_auth::iprev::IprevResult::Pass);
    let forged = auth
        .authenticate(&msg, &session("203.0.113.5", "bounce@example.com"))
        .await;
    assert_eq!(
        (forged.spf.result, forged.dmarc.result),
        (SpfResult::Fail, DmarcResult::Fail)
    );
    assert_eq!(
        forged.iprev.result,
        abusedesk_auth::iprev::IprevResult::PermError
    );
    // SPF passes for a MAIL FROM domain that is not aligned with From
    let unaligned = auth
        .authenticate(&msg, &session("192.0.2.25", "x@mail.example.com"))
        .await;
    assert_eq!(
        unaligned.dmarc.result,
        DmarcResult::Fail,
        "{:?}",
        unaligned.dmarc
    );
    let header = pass.authentication_results("\r\n\t");
    assert!(header.starts_with("mx.test;\r\n\tspf=pass"), "{header}");
    assert!(header.contains("dmarc=pass reason=\"aligned identifier passed\" header.from=example.com policy.dmarc=reject"), "{header}");
    assert!(header.contains("iprev=pass"), "{header}");
}

/// The whole report through the live resolver against the loopback DNS server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_path_over_loopback_dns() {
    let server = ZoneServer::start(
        Arc::new(zone_text(DMARC_ZONE)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let resolver = Resolver::live(LiveConfig {
        server: Some(server.local_addr()),
        ..LiveConfig::default()
    })
    .unwrap();
    let auth = Authenticator::new(resolver.clone(), "mx.test").unwrap();
    let msg = crlf("From: Joe <joe@example.com>\nSubject: hi\n\nbody\n");
    let session = Session {
        ip: Some(ip("192.0.2.25")),
        helo: Some("mail.example.com".into()),
        mail_from: Some("joe@example.com".into()),
        at: AT,
    };
    let first = auth.authenticate(&msg, &session).await;
    assert_eq!(
        (first.spf.result, first.dmarc.result),
        (SpfResult::Pass, DmarcResult::Pass)
    );
    let served = server.queries();
    assert!(served > 0);
    let second = auth.authenticate(&msg, &session).await;
    assert_eq!(first, second);
    assert_eq!(
        server.queries(),
        served,
        "the second run is answered from the cache"
    );
}
