//! Fuzzes the sans-I/O SMTP session (abusedesk-smtp) with arbitrary client bytes and
//! arbitrary handler verdicts.
//!
//! Input layout: byte 0 picks the configuration, byte 1 seeds the chunking and the
//! verdicts, byte 2 says how many of the remaining bytes arrive before the greeting.
//! When bit 0 of byte 1 is set, every further byte is mapped to an SMTP token (commands,
//! paths, CR, LF, dots, end-of-data variants) so the fuzzer reaches deep states quickly;
//! otherwise the bytes are sent as they are.
//!
//! Checked on every input:
//! - no panic, and the session always ends up waiting for input or closed;
//! - the output is a sequence of well-formed replies (`ddd[ -]text CRLF`, 200..=599, no
//!   stray CR or LF), and exactly one reply per command recorded;
//! - under `BareLineEndings::Reject` no delivered message holds a bare CR or LF, and no
//!   delivered message exceeds the size limit;
//! - feeding the same bytes in random chunks or all at once gives identical replies,
//!   messages and records (without STARTTLS, whose discard of pipelined input depends
//!   on the chunking by design).
#![no_main]

use abusedesk_smtp::{
    Accepted, BareLineEndings, ConnectionInfo, EarlyTalkPolicy, Event, Greeting, Reply, Session,
    SessionConfig, SessionInfo, TlsInfo,
};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const TOKENS: &[&[u8]] = &[
    b"EHLO x.example\r\n",
    b"HELO 192.0.2.1\r\n",
    b"MAIL FROM:<a@b.example>\r\n",
    b"MAIL FROM:<>",
    b"MAIL FROM:",
    b" SIZE=",
    b"100",
    b"99999999999999999999",
    b" BODY=8BITMIME",
    b" SMTPUTF8",
    b"RCPT TO:<c@d.example>\r\n",
    b"RCPT TO:<",
    b"postmaster",
    b"DATA\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"QUIT\r\n",
    b"STARTTLS\r\n",
    b"VRFY a\r\n",
    b"HELP\r\n",
    b"BDAT 10\r\n",
    b"GET / HTTP/1.1\r\n",
    b"\r\n",
    b"\r",
    b"\n",
    b".",
    b"..",
    b"\r\n.\r\n",
    b"\n.\n",
    b"\n.\r\n",
    b"\r\n.\n",
    b"\r.\r",
    b"x",
    b"\xc3\xbc",
    b"\xff",
    b"\x00",
    b">",
    b"<",
    b"@",
    b" ",
    b":",
    b"\"",
    b"\\",
    b"[192.0.2.1]",
    b"[IPv6:2001:db8::1]",
    b"@r.example,@s.example:",
    b"Subject: hi\r\n\r\nbody\r\n",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn config(b: u8) -> (SessionConfig, bool) {
    let cfg = SessionConfig {
        hostname: "mx.fuzz".into(),
        banner: "fuzz".into(),
        max_message_size: [0, 16, 200, 4096][(b & 3) as usize],
        max_recipients: 1 + ((b >> 2) & 3) as usize,
        max_errors: [3, 8, 20, 1000][((b >> 4) & 3) as usize],
        max_line_length: 512,
        bare_line_endings: if b & 0x40 != 0 {
            BareLineEndings::Accept
        } else {
            BareLineEndings::Reject
        },
        early_talk: if b & 0x80 != 0 {
            EarlyTalkPolicy::Refuse
        } else {
            EarlyTalkPolicy::Process
        },
        max_recorded_commands: 64,
    };
    // STARTTLS only when it cannot break the chunking comparison: bit 2 and 3 both set.
    let starttls = b & 0x0c == 0x0c;
    (cfg, starttls)
}

#[derive(Debug, PartialEq)]
struct Run {
    output: Vec<u8>,
    messages: Vec<(String, Vec<u8>, bool, bool)>,
    info: SessionInfo,
    tls_upgrades: u32,
}

fn verdict(rng: &mut Rng, event: &Event) -> Result<Accepted, Reply> {
    match rng.next() % 8 {
        0 => Err(Reply::greylisted()),
        1 => Err(Reply::no_such_user()),
        2 => Err(Reply::temporary_failure("later")),
        // A careless handler: a positive reply as a refusal (must be coerced).
        3 => Err(Reply::plain(250, "ok").expect("valid")),
        _ if matches!(event, Event::Message(_)) => Ok(Accepted::with_id("Q")),
        _ => Ok(Accepted::new()),
    }
}

fn run(
    cfg: &SessionConfig,
    starttls: bool,
    pregreet: &[u8],
    input: &[u8],
    seed: u64,
    chunked: bool,
) -> Run {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let conn = ConnectionInfo {
        id: 1,
        peer: "192.0.2.1:1234".parse().expect("addr"),
        local: "198.51.100.1:25".parse().expect("addr"),
        starttls,
    };
    let mut s = Session::new(Arc::new(cfg.clone()), conn, t);
    let mut chunk_rng = Rng(seed | 1);
    let mut verdict_rng = Rng(seed.rotate_left(17) | 1);
    let mut out = Run {
        output: Vec::new(),
        messages: Vec::new(),
        info: s.info().clone(),
        tls_upgrades: 0,
    };
    if !pregreet.is_empty() {
        s.receive(pregreet, t);
    }
    let greeting = if seed % 29 == 0 {
        Greeting::Refuse(Reply::no_service("no"))
    } else {
        Greeting::Accept
    };
    s.greet(greeting, t);
    let mut rest = input;
    loop {
        // Drive until the session needs input.
        let mut steps = 0u32;
        loop {
            steps += 1;
            assert!(steps < 1_000_000, "session does not make progress");
            match s.poll() {
                Event::NeedInput | Event::Close => break,
                Event::StartTls => {
                    out.tls_upgrades += 1;
                    let tls = TlsInfo {
                        version: "TLSv1.3".into(),
                        cipher: "TLS13_AES_128_GCM_SHA256".into(),
                        sni: None,
                        at: t,
                    };
                    s.tls_established(tls, t);
                }
                Event::DecisionPending => panic!("decision pending after resolve"),
                ev => {
                    let v = verdict(&mut verdict_rng, &ev);
                    if let Event::Message(m) = &ev {
                        if cfg.bare_line_endings == BareLineEndings::Reject {
                            check_no_bare(&m.data);
                            assert!(!m.bare_lf && !m.bare_cr);
                        }
                        if cfg.max_message_size > 0 {
                            assert!(m.data.len() as u64 <= cfg.max_message_size);
                        }
                        out.messages.push((
                            m.envelope.mail_from.path.to_string(),
                            m.data.clone(),
                            m.bare_lf,
                            m.bare_cr,
                        ));
                    }
                    s.resolve(v, t).expect("a decision was pending");
                }
            }
        }
        out.output.extend_from_slice(&s.take_output());
        // Bytes after the session closed are still fed (and ignored) so both runs count
        // the same bytes received.
        if rest.is_empty() {
            break;
        }
        let n = if chunked {
            1 + (chunk_rng.next() % 97) as usize
        } else {
            rest.len()
        };
        let (now, later) = rest.split_at(n.min(rest.len()));
        s.receive(now, t);
        rest = later;
    }
    out.info = s.into_info();
    out
}

fn check_no_bare(data: &[u8]) {
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            assert!(
                i > 0 && data[i - 1] == b'\r',
                "bare LF delivered under Reject"
            );
        }
        if b == b'\r' {
            assert!(
                data.get(i + 1) == Some(&b'\n'),
                "bare CR delivered under Reject"
            );
        }
    }
}

/// Every reply line is `ddd` + ' ' or '-' + text + CRLF; returns the number of replies.
fn check_output(out: &[u8]) -> usize {
    let mut replies = 0;
    let mut in_multiline: Option<&[u8]> = None;
    let mut rest = out;
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("reply line without CRLF");
        let line = &rest[..end];
        rest = &rest[end + 2..];
        assert!(
            !line.contains(&b'\r') && !line.contains(&b'\n'),
            "stray CR/LF in reply"
        );
        assert!(line.len() >= 3, "short reply line");
        let code = &line[..3];
        assert!(code.iter().all(u8::is_ascii_digit), "bad reply code");
        let value: u16 = std::str::from_utf8(code)
            .expect("digits")
            .parse()
            .expect("code");
        assert!((200..=599).contains(&value), "reply code out of range");
        if let Some(prev) = in_multiline {
            assert_eq!(prev, code, "multi-line reply changes code");
        }
        match line.get(3) {
            None | Some(b' ') => {
                replies += 1;
                in_multiline = None;
            }
            Some(b'-') => in_multiline = Some(code),
            Some(_) => panic!("bad reply separator"),
        }
    }
    assert!(in_multiline.is_none(), "unterminated multi-line reply");
    replies
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (cfg, starttls) = config(data[0]);
    let seed = u64::from(data[1]) * 0x9E37_79B9 + 7;
    let body = &data[3..];
    let bytes: Vec<u8> = if data[1] & 1 == 1 {
        body.iter()
            .flat_map(|&b| TOKENS[b as usize % TOKENS.len()].iter().copied())
            .collect()
    } else {
        body.to_vec()
    };
    let split = (data[2] as usize).min(bytes.len());
    let (pregreet, input) = bytes.split_at(split);
    let pregreet = if data[2] & 0x80 != 0 {
        pregreet
    } else {
        &[][..]
    };
    let input = if pregreet.is_empty() {
        &bytes[..]
    } else {
        input
    };

    let whole = run(&cfg, starttls, pregreet, input, seed, false);
    let replies = check_output(&whole.output);
    // Each recorded command got at most one reply counted in the record, and every reply
    // but the greeting and the closing 421s belongs to a recorded command.
    let answered = whole
        .info
        .commands
        .iter()
        .filter(|c| c.reply.is_some())
        .count();
    assert!(answered <= replies);
    if whole.info.commands_dropped == 0 {
        assert!(replies <= answered + 3, "replies without commands");
    }
    assert!(whole.info.commands.len() <= cfg.max_recorded_commands);
    if !starttls {
        let chunked = run(&cfg, starttls, pregreet, input, seed, true);
        assert_eq!(whole, chunked, "chunking changed the dialogue");
    }
});
