//! Unit tests of the Received parser: one line per MTA format. The conformance vectors
//! (mail-parser, pyreceived) run from `tests/received_vectors.rs`.

use super::*;

#[derive(Default)]
struct Want<'a> {
    helo: Option<&'a str>,
    rdns: Option<&'a str>,
    ip: Option<&'a str>,
    by: Option<&'a str>,
    proto: Option<&'a str>,
    date: Option<&'a str>,
}

fn check(line: &str, want: Want<'_>) -> Received {
    let r = parse_received(line);
    assert!(r.parsed, "not parsed: {line}");
    assert_eq!(r.from_helo.as_deref(), want.helo, "helo of {line}");
    assert_eq!(r.from_rdns.as_deref(), want.rdns, "rdns of {line}");
    assert_eq!(
        r.from_ip.map(|i| i.to_string()).as_deref(),
        want.ip,
        "ip of {line}"
    );
    if want.by.is_some() {
        assert_eq!(r.by.as_deref(), want.by, "by of {line}");
    }
    if want.proto.is_some() {
        assert_eq!(
            r.protocol.as_ref().map(|p| p.as_str()),
            want.proto,
            "protocol of {line}"
        );
    }
    if want.date.is_some() {
        assert_eq!(
            r.date.map(|d| d.to_rfc3339()).as_deref(),
            want.date,
            "date of {line}"
        );
    }
    r
}

#[test]
fn postfix_forum_thread() {
    let r = check(
        "from aak48900 (TKYca-0315p25.ppp.odn.ad.jp [143.90.172.25])\n\tby smtp.estate.ocn.ne.jp (Postfix) with SMTP id 229F49A54\n\tfor <XXXXXXX@estate.ocn.ne.jp>; Sun, 31 Mar 2002 21:07:53 +0900 (JST)",
        Want {
            helo: Some("aak48900"),
            rdns: Some("TKYca-0315p25.ppp.odn.ad.jp"),
            ip: Some("143.90.172.25"),
            by: Some("smtp.estate.ocn.ne.jp"),
            proto: Some("SMTP"),
            date: Some("2002-03-31T21:07:53+09:00"),
        },
    );
    assert_eq!(r.id.as_deref(), Some("229F49A54"));
    assert_eq!(r.for_.as_deref(), Some("XXXXXXX@estate.ocn.ne.jp"));
    assert_eq!(r.mta, Some(Mta::Postfix));
}

#[test]
fn postfix_unknown_rdns_and_tls() {
    let r = check(
        "from mail.example.org (unknown [198.51.100.7]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519) (No client certificate requested) by mx.example.net (Postfix) with ESMTPS id 4F1; Tue, 1 Nov 2022 10:00:00 +0000",
        Want {
            helo: Some("mail.example.org"),
            ip: Some("198.51.100.7"),
            proto: Some("ESMTPS"),
            ..Default::default()
        },
    );
    assert!(r.rdns_unknown);
    let tls = r.tls.unwrap();
    assert_eq!(tls.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(tls.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
}

#[test]
fn postfix_authenticated_and_local() {
    let r = check(
        "from [192.168.1.20] (p1234-ipngn.example.ne.jp [203.0.113.9]) (Authenticated sender: alice@example.ne.jp) by smtp.example.ne.jp (Postfix) with ESMTPA id 1A2B; Mon, 3 Jan 2022 09:00:00 +0900",
        Want {
            helo: Some("[192.168.1.20]"),
            rdns: Some("p1234-ipngn.example.ne.jp"),
            ip: Some("203.0.113.9"),
            proto: Some("ESMTPA"),
            ..Default::default()
        },
    );
    assert_eq!(r.auth.as_deref(), Some("alice@example.ne.jp"));
    let local = parse_received(
        "by mail.example.com (Postfix, from userid 1000) id 3C4D; Mon, 3 Jan 2022 09:00:00 +0900",
    );
    assert!(local.parsed && local.local && local.from_ip.is_none());
}

#[test]
fn sendmail_forms() {
    let r = check(
        "from host.example.com (user@host.example.com [192.0.2.10] (may be forged)) by mail.example.net (8.12.8/8.12.8) with ESMTP id g7MBYZZ17689 for <a@example.net>; Thu, 22 Aug 2002 12:34:56 +0100",
        Want {
            helo: Some("host.example.com"),
            rdns: Some("host.example.com"),
            ip: Some("192.0.2.10"),
            proto: Some("ESMTP"),
            ..Default::default()
        },
    );
    assert!(r.rdns_may_be_forged);
    assert_eq!(r.ident.as_deref(), Some("user"));
    assert_eq!(r.mta, Some(Mta::Sendmail));
    let tls = parse_received(
        "from a.example (a.example [192.0.2.1]) by b.example (8.13.1/8.13.1) with ESMTP id x (version=TLSv1/SSLv3 cipher=DHE-RSA-AES256-SHA bits=256 verify=NO); Mon, 1 Jan 2007 00:00:00 +0000",
    );
    assert_eq!(
        tls.tls.unwrap().cipher.as_deref(),
        Some("DHE-RSA-AES256-SHA")
    );
    check(
        "from helo.example ([192.0.2.11]) by mail.example.net (8.11.6/8.11.6) with SMTP id g7M; Thu, 22 Aug 2002 12:34:56 +0100",
        Want {
            helo: Some("helo.example"),
            ip: Some("192.0.2.11"),
            ..Default::default()
        },
    );
}

#[test]
fn exim_forms() {
    let r = check(
        "from mx.example.org ([192.0.2.20] helo=smtp.example.org) by mail.example.net with esmtp (Exim 4.10 #1 (Debian)) id 17hq3D-0001ab-00 for a@example.net; Thu, 22 Aug 2002 12:34:56 +0100",
        Want {
            helo: Some("smtp.example.org"),
            rdns: Some("mx.example.org"),
            ip: Some("192.0.2.20"),
            proto: Some("ESMTP"),
            ..Default::default()
        },
    );
    assert_eq!(r.mta, Some(Mta::Exim));
    check(
        "from [192.0.2.21] (helo=workstation) by mail.example.net with smtp (Exim 3.35 #1 (Debian)) id 17hq; Thu, 22 Aug 2002 12:34:56 +0100",
        Want {
            helo: Some("workstation"),
            ip: Some("192.0.2.21"),
            ..Default::default()
        },
    );
    // HELO equal to rDNS: Exim prints the name once; it is both.
    check(
        "from mail.example.org ([192.0.2.22]) by mx.example.net with esmtp (Exim 4.94.2) (envelope-from <b@example.org>) id 1k; Tue, 1 Nov 2022 10:00:00 +0000",
        Want {
            helo: Some("mail.example.org"),
            rdns: Some("mail.example.org"),
            ip: Some("192.0.2.22"),
            ..Default::default()
        },
    );
    let t = parse_received(
        "from a.example ([192.0.2.23]:41234 helo=a.example) by mx.example.net with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <x@a.example>) id 1q; Tue, 1 Nov 2022 10:00:00 +0000",
    );
    assert_eq!(t.from_port, Some(41234));
    assert_eq!(t.envelope_from.as_deref(), Some("x@a.example"));
    let tls = t.tls.unwrap();
    assert_eq!(tls.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(tls.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    let old = parse_received(
        "from a.example ([192.0.2.24] helo=a) by b.example with esmtp (Cipher TLSv1:DES-CBC3-SHA:168) (Exim 3.35 #1 (Debian)) id 17; Thu, 22 Aug 2002 12:34:56 +0100",
    );
    assert_eq!(old.tls.unwrap().cipher.as_deref(), Some("DES-CBC3-SHA"));
}

#[test]
fn qmail_forms() {
    let r = check(
        "from unknown (HELO mail.example.org) (192.0.2.30) by mx.example.net with SMTP; 22 Aug 2002 12:39:38 -0000",
        Want {
            helo: Some("mail.example.org"),
            ip: Some("192.0.2.30"),
            date: Some("2002-08-22T12:39:38+00:00"),
            ..Default::default()
        },
    );
    assert!(r.rdns_unknown);
    let inv = parse_received("(qmail 11769 invoked by uid 1010); 22 Aug 2002 12:39:38 -0000");
    assert!(inv.parsed && inv.local);
    let net = parse_received("(qmail 11769 invoked from network); 22 Aug 2002 12:39:38 -0000");
    assert!(net.parsed && !net.local && net.from_ip.is_none());
    let net = parse_received(
        "(qmail 90525 messnum 458261 invoked from network[159.134.229.14/p270.as3.adl.dublin.eircom.net]); 8 Oct 2002 11:13:01 -0000",
    );
    assert_eq!(
        net.from_ip.map(|i| i.to_string()).as_deref(),
        Some("159.134.229.14")
    );
    assert_eq!(
        net.from_rdns.as_deref(),
        Some("p270.as3.adl.dublin.eircom.net")
    );
    let ofmipd = parse_received("(ofmipd 192.0.2.9); 22 Aug 2002 12:39:38 -0000");
    assert_eq!(
        ofmipd.from_ip.map(|i| i.to_string()).as_deref(),
        Some("192.0.2.9")
    );
    check(
        "from host.example.org (HELO helo.example.org) (192.0.2.31) by mx.example.net with SMTP; 22 Aug 2002 12:39:38 -0000",
        Want {
            helo: Some("helo.example.org"),
            rdns: Some("host.example.org"),
            ip: Some("192.0.2.31"),
            ..Default::default()
        },
    );
}

#[test]
fn exchange_and_outlook() {
    check(
        "from relay.email.com (192.168.10.10) by\n EXCHANGE.email.local (192.168.100.51) with Microsoft SMTP Server id\n 14.3.123.3; Sat, 6 Jun 2015 05:34:59 +0200",
        Want {
            helo: Some("relay.email.com"),
            ip: Some("192.168.10.10"),
            by: Some("EXCHANGE.email.local"),
            proto: Some("SMTP"),
            ..Default::default()
        },
    );
    let r = check(
        "from VE1EUR02FT025.eop-EUR02.prod.protection.outlook.com\n\t(10.152.12.54) by VE1EUR02HT051.eop-EUR02.prod.protection.outlook.com\n\t(10.152.13.18) with Microsoft SMTP Server (version=TLS1_2,\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384) id 15.20.735.16; Mon, 7\n\tMay 2018 09:58:55 +0000",
        Want {
            helo: Some("VE1EUR02FT025.eop-EUR02.prod.protection.outlook.com"),
            ip: Some("10.152.12.54"),
            ..Default::default()
        },
    );
    assert_eq!(
        r.by_ip.map(|i| i.to_string()).as_deref(),
        Some("10.152.13.18")
    );
    let tls = r.tls.unwrap();
    assert_eq!(tls.version.as_deref(), Some("TLSv1.2"));
    check(
        "from SA0PR12MB4349.namprd12.prod.outlook.com (2603:10b6:806:98::21) by DM6PR12MB4434.namprd12.prod.outlook.com with HTTPS; Mon, 7 Mar 2022 10:00:00 +0000",
        Want {
            helo: Some("SA0PR12MB4349.namprd12.prod.outlook.com"),
            ip: Some("2603:10b6:806:98::21"),
            proto: Some("HTTPS"),
            ..Default::default()
        },
    );
    let pickup = parse_received(
        "from mail pickup service by example.com with Microsoft SMTPSVC; Thu, 22 Aug 2002 12:34:56 -0700",
    );
    assert!(pickup.parsed && pickup.local);
}

#[test]
fn gmail_and_yahoo() {
    let r = check(
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id a1sor123.2022.11.01.10.00.00 for <x@gmail.com> (Google Transport Security); Tue, 01 Nov 2022 10:00:00 -0700 (PDT)",
        Want {
            helo: Some("mail-sor-f41.google.com"),
            rdns: Some("mail-sor-f41.google.com"),
            ip: Some("209.85.220.41"),
            proto: Some("ESMTPS"),
            ..Default::default()
        },
    );
    assert_eq!(r.mta, Some(Mta::Gmail));
    check(
        "from [198.51.100.40] by web11.mail.yahoo.com via HTTP; Thu, 22 Aug 2002 12:34:56 PDT",
        Want {
            helo: Some("[198.51.100.40]"),
            ip: Some("198.51.100.40"),
            ..Default::default()
        },
    );
    check(
        "from [198.51.100.41] (EHLO mail.example.org) (198.51.100.41) by mta1.mail.yahoo.com with SMTP; Thu, 22 Aug 2002 12:34:56 -0700",
        Want {
            helo: Some("mail.example.org"),
            ip: Some("198.51.100.41"),
            ..Default::default()
        },
    );
}

#[test]
fn fetchmail_ipv6_and_others() {
    check(
        "from jalapeno [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0) for jm@localhost (single-drop); Thu, 22 Aug 2002 13:17:22 +0100 (IST)",
        Want {
            helo: Some("jalapeno"),
            rdns: Some("jalapeno"),
            ip: Some("127.0.0.1"),
            proto: Some("IMAP"),
            ..Default::default()
        },
    );
    check(
        "from mail.example.org (mail.example.org [IPv6:2001:db8::25]) by mx.example.net (Postfix) with ESMTP id 1; Tue, 1 Nov 2022 10:00:00 +0000",
        Want {
            helo: Some("mail.example.org"),
            rdns: Some("mail.example.org"),
            ip: Some("2001:db8::25"),
            ..Default::default()
        },
    );
    // Courier
    check(
        "from mail.example.org (mail.example.org [192.0.2.50])\n  by courier.example.net with ESMTP; Wed, 19 Jun 2002 11:16:34 -0400\n  id 0004A2F1.3D10A0E2.00001234",
        Want {
            helo: Some("mail.example.org"),
            rdns: Some("mail.example.org"),
            ip: Some("192.0.2.50"),
            date: Some("2002-06-19T11:16:34-04:00"),
            ..Default::default()
        },
    );
    // Haraka and Stalwart
    let h = parse_received(
        "from mail.example.org (mail.example.org [192.0.2.51]) by haraka.example.net (Haraka/3.0.2) with ESMTPS id 6B2 envelope-from <s@example.org> tls TLS_AES_256_GCM_SHA384; Tue, 1 Nov 2022 10:00:00 +0000",
    );
    assert_eq!(h.mta, Some(Mta::Haraka));
    assert_eq!(h.envelope_from.as_deref(), Some("s@example.org"));
    let s = parse_received(
        "from mail.example.org (mail.example.org [192.0.2.52]) by mx.example.net (Stalwart SMTP) with ESMTPS id 5F3; Tue, 1 Nov 2022 10:00:00 +0000",
    );
    assert_eq!(s.mta, Some(Mta::Stalwart));
    assert_eq!(
        s.from_ip.map(|i| i.to_string()).as_deref(),
        Some("192.0.2.52")
    );
    // CommuniGate
    check(
        "from [192.0.2.53] (account x@example.org HELO pc01) by mail.example.org (CommuniGate Pro SMTP 5.1.14) with ESMTPA id 1; Tue, 1 Nov 2022 10:00:00 +0000",
        Want {
            helo: Some("pc01"),
            ip: Some("192.0.2.53"),
            ..Default::default()
        },
    );
}

#[test]
fn unparsed_and_hostile() {
    let r = parse_received("(EGP: mail-8_1_0_1); 22 Aug 2002 12:39:38 -0000");
    assert!(r.parsed && r.local, "a known note line");
    let r = parse_received("X-Junk: not a received line at all");
    assert!(!r.parsed);
    let r = parse_received("(some gateway note)");
    assert!(!r.parsed);
    let r = parse_received("");
    assert!(!r.parsed);
    for junk in [
        "((((((((",
        "[[[[",
        "from",
        "by",
        ";;;;",
        "from (",
        "from [",
        "from <",
        "\u{0}\u{1}\u{ff}",
        "from a (b [c]:99999999999)",
    ] {
        let _ = parse_received(junk);
    }
    // Found by the fuzzer: a lead comment whose fifth byte falls inside a character.
    let _ = parse_received("(2\u{FFFD}\u{FFFD}");
    let _ = parse_received("(fro\u{e9}m x) by y");
    let long = "from a (".repeat(100_000);
    let _ = parse_received(&long);
    let nested = "(".repeat(100_000);
    let _ = parse_received(&nested);
}
