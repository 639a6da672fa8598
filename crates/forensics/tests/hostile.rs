//! Hostile input is normal input: whatever the bytes, `trace` returns a result.

use abusedesk_forensics::{TraceConfig, parse_received, trace};

fn cfg() -> TraceConfig {
    TraceConfig::default()
}

#[test]
fn ten_thousand_received_headers() {
    let mut m = Vec::new();
    for i in 0..10_000u32 {
        m.extend_from_slice(
            format!("Received: from h{i}.example (h{i}.example [203.0.113.{}]) by h{}.example (Postfix) with ESMTP id {i}; Tue, 1 Nov 2022 10:00:00 +0000\n", i % 250, i + 1).as_bytes(),
        );
    }
    m.extend_from_slice(b"Subject: x\n\nbody\n");
    let t = trace(&m, &cfg());
    assert_eq!(t.hops.len(), 10_000);
    assert_eq!(t.origin.as_ref().map(|o| o.hop), Some(0));
}

#[test]
fn fifty_megabyte_message() {
    let mut m = b"Received: from a (a [203.0.113.1]) by b; Tue, 1 Nov 2022 10:00:00 +0000\nContent-Type: multipart/mixed; boundary=x\n\n".to_vec();
    let line = b"--x\nContent-Type: application/octet-stream; name=\"a.bin\"\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    while m.len() < 50 << 20 {
        m.extend_from_slice(line);
    }
    let t = trace(&m, &cfg());
    assert_eq!(t.size, m.len());
    assert!(t.origin.is_some());
}

#[test]
fn a_fifty_megabyte_header_line() {
    let mut m = b"Received: from ".to_vec();
    m.resize(50 << 20, b'(');
    let t = trace(&m, &cfg());
    assert_eq!(t.hops.len(), 1);
}

#[test]
fn odd_bytes_and_encodings() {
    let cases: Vec<Vec<u8>> = vec![
        b"From spammer@example.com  Thu Aug 22 13:17:22 2002\nReceived: from x ([203.0.113.2]) by y; Thu, 22 Aug 2002 13:17:22 +0100\n\nb".to_vec(),
        b"Received: from a\rby b\r\rSubject: bare CR\r\rbody".to_vec(),
        b"Received: from a\n by b\nSubject: bare LF only\n\nbody".to_vec(),
        b"Received: from \x00\x01\x02 (\xff\xfe [203.0.113.3]) by \x80\x81; \x00\n\n".to_vec(),
        b"Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\nFrom: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <a@example.jp>\n\n\x1b$B%F%9%H\x1b(B\n".to_vec(),
        b"Subject: =?Shift_JIS?B?g2WDWINn?=\nFrom: \x83\x65\x83\x58\x83\x67 <b@example.jp>\n\n".to_vec(),
        b"Subject: =?UTF-8?B?broken==?= =?x?q?==?= =?utf-8?Q?=E3=81?=\nFrom: =?\n\n".to_vec(),
        b"Received: ;;;;;;\nReceived: ((((((((\nReceived: [[[[\nReceived: <<<<\nReceived: from\nReceived: by\n\n".to_vec(),
        b"From: ".to_vec(),
        b"".to_vec(),
        b"\n".to_vec(),
        b"no header at all, just text".to_vec(),
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"\"\nFrom: MAILER-DAEMON@x\n\n--\n".to_vec(),
        b"From: MAILER-DAEMON@x\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@y\nContent-Type: multipart/report; boundary=c\n\n--c\nContent-Type: message/rfc822\n\nReceived: from z\n\n--c--\n--b--\n".to_vec(),
        "Received: from ホスト (ホスト [203.0.113.4]) by 受信; Tue, 1 Nov 2022 10:00:00 +0900\n\n".as_bytes().to_vec(),
    ];
    for c in &cases {
        let t = trace(c, &cfg());
        let _ = serde_json::to_string(&t).unwrap();
    }
}

/// Pseudo-random byte soup over an alphabet rich in delimiters, as the fuzz targets do,
/// but deterministic so it runs in every test run.
#[test]
fn deterministic_soup() {
    const ALPHABET: &[u8] = b"()[]<>;:=@., \t\r\n\x0b\x0cfromby withidforHELOhelo=127.0.0.1::ffff:[IPv6:2001:db8::1]ReceivedReturn-Path\x00\xff\xe3";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let len = (state % 400) as usize;
        let mut buf = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buf.push(ALPHABET[(state % ALPHABET.len() as u64) as usize]);
        }
        let _ = parse_received(&String::from_utf8_lossy(&buf));
        let mut msg = b"Received: ".to_vec();
        msg.extend_from_slice(&buf);
        let _ = trace(&msg, &cfg());
    }
}
