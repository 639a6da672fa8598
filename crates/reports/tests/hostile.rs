//! Hostile input is normal input: no panic, a value or a clear error for any bytes.
use std::fs;
use std::path::Path;

use abusedesk_reports::{ReportError, ReportFormat, parse_report, parse_xarf_json};

#[test]
fn nothing_usable_is_a_clear_error() {
    assert_eq!(parse_report(b""), Err(ReportError::Empty));
    assert_eq!(parse_report(b" \r\n\t"), Err(ReportError::Empty));
    let err = parse_report(b"hello world\nthis is not mail\n").unwrap_err();
    assert!(matches!(err, ReportError::NotAMessage { .. }));
    assert!(err.to_string().contains("\"hello world\""), "{err}");
    assert!(matches!(
        parse_report(b"\xff\xfe\x00garbage"),
        Err(ReportError::NotAMessage { .. })
    ));

    assert_eq!(parse_xarf_json(b""), Err(ReportError::Empty));
    let err = parse_xarf_json(b"{\"xarf_version\": ").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not a JSON document: EOF while parsing"),
        "{err}"
    );
    assert_eq!(
        parse_xarf_json(b"[1,2]"),
        Err(ReportError::NotAnObject("an array"))
    );
    assert_eq!(
        parse_xarf_json(b"42"),
        Err(ReportError::NotAnObject("a number"))
    );
}

#[test]
fn any_object_is_a_report_with_problems() {
    let r = parse_xarf_json(br#"{"hello": "world"}"#).unwrap();
    assert_eq!(r.format, ReportFormat::Xarf);
    assert!(!r.xarf.unwrap().valid);
    assert!(
        r.validation
            .iter()
            .any(|p| p.message.contains("xarf_version")),
        "{:?}",
        r.validation
    );
}

#[test]
fn json_body_handed_to_parse_report_is_xarf() {
    let raw = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xarf/v4/messaging-spam.json"),
    )
    .unwrap();
    let r = parse_report(&raw).unwrap();
    assert_eq!(r.format, ReportFormat::Xarf);
    assert!(r.is_valid());
}

#[test]
fn deep_and_wide_json() {
    let deep = "[".repeat(100_000);
    assert!(matches!(
        parse_xarf_json(deep.as_bytes()),
        Err(ReportError::NotJson(_))
    ));
    let deep_obj = format!("{{\"a\":{}1{}}}", "[".repeat(120), "]".repeat(120));
    assert!(parse_xarf_json(deep_obj.as_bytes()).is_ok());
    let mut wide = String::from("{\"xarf_version\":\"4.0.0\"");
    for i in 0..5000 {
        wide.push_str(&format!(",\"k{i}\":{i}"));
    }
    wide.push('}');
    let r = parse_xarf_json(wide.as_bytes()).unwrap();
    assert!(r.validation.len() <= 50);
}

#[test]
fn pathological_mail() {
    // Many header-looking lines, none a real header block.
    let mut s = String::from("From: a@example.com\nSubject: x\n\n");
    for i in 0..200_000 {
        s.push_str(&format!("k{i}: v\n"));
    }
    let r = parse_report(s.as_bytes()).unwrap();
    assert_eq!(r.format, ReportFormat::Plain);

    // Thousands of tiny pasted blocks: evidence is capped.
    let mut s = String::from("From: a@example.com\nSubject: x\n\n");
    for _ in 0..5_000 {
        s.push_str("Received: from x by y\nFrom: z@example.com\n\n");
    }
    let r = parse_report(s.as_bytes()).unwrap();
    assert_eq!(r.evidence.len(), abusedesk_reports::MAX_EVIDENCE);

    // Deeply nested message/rfc822 parts.
    let mut s = String::new();
    for _ in 0..120 {
        s.push_str("From: a@example.com\nContent-Type: message/rfc822\n\n");
    }
    s.push_str("Subject: inner\n\nbody\n");
    parse_report(s.as_bytes()).unwrap();

    // Unterminated multipart, bogus boundaries, NULs and lone CRs.
    parse_report(b"From: a\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\n--x\n\x00\r\r--").unwrap();
    // A huge single line.
    let mut s = String::from("Subject: long\n\n");
    s.push_str(&"http://a.example/".repeat(100_000));
    let r = parse_report(s.as_bytes()).unwrap();
    assert!(r.urls.len() <= 200);
}

/// Deterministic mutations of every golden input: truncations, byte flips, and splices.
#[test]
fn mutated_golden_inputs_never_panic() {
    let mut inputs = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml" || x == "json") {
                inputs.push(fs::read(&p).unwrap());
            }
        }
    }
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let specials = [
        b'\n', b'\r', b':', b'-', b'=', b'>', b'\t', b'{', b'"', 0x1b, 0xff, b' ',
    ];
    for input in &inputs {
        for cut in (0..input.len()).step_by(61) {
            let _ = parse_report(&input[..cut]);
            let _ = parse_xarf_json(&input[..cut]);
        }
        for _ in 0..120 {
            let mut m = input.clone();
            for _ in 0..(1 + next() % 8) {
                if m.is_empty() {
                    break;
                }
                let at = (next() as usize) % m.len();
                match next() % 3 {
                    0 => m[at] = specials[(next() as usize) % specials.len()],
                    1 => {
                        m.remove(at);
                    }
                    _ => {
                        let from = (next() as usize) % m.len();
                        let len = ((next() as usize) % 64).min(m.len() - from);
                        let chunk = m[from..from + len].to_vec();
                        m.splice(at..at, chunk);
                    }
                }
            }
            let _ = parse_report(&m);
            let _ = parse_xarf_json(&m);
        }
    }
}
