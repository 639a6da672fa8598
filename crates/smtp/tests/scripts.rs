//! Runs every `tests/scripts/*.smtp` dialogue against the sans-I/O session, twice: once
//! feeding each client batch whole (a pipelined burst) and once byte by byte. Both runs
//! must meet every expectation. The format is described in `tests/scripts/README.md`.

use abusedesk_smtp::{
    Accepted, BareLineEndings, ConnectionInfo, EarlyTalkPolicy, Event, Greeting, Message, Reply,
    Session, SessionConfig, TlsInfo,
};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Feed {
    Whole,
    Bytewise,
}

struct Script {
    config: SessionConfig,
    starttls: bool,
    greeting: Greeting,
    split: bool,
    pregreet: Vec<u8>,
    steps: Vec<(usize, Step)>,
}

#[derive(Debug, Clone)]
enum Step {
    Send(Vec<u8>),
    Reply { code: u16, text: Option<String> },
    ReplyHasLine(String),
    ReplyLacksLine(String),
    Envelope(String),
    Data(Vec<u8>),
    Closed,
}

fn unescape(s: &str, line: usize) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = s
                        .get(i + 2..i + 4)
                        .unwrap_or_else(|| panic!("line {line}: bad \\x"));
                    out.push(
                        u8::from_str_radix(hex, 16)
                            .unwrap_or_else(|_| panic!("line {line}: bad \\x")),
                    );
                    i += 2;
                }
                other => panic!("line {line}: unknown escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn parse(text: &str) -> Script {
    let mut script = Script {
        config: SessionConfig {
            hostname: "mx.test".into(),
            ..SessionConfig::default()
        },
        starttls: false,
        greeting: Greeting::Accept,
        split: true,
        pregreet: Vec::new(),
        steps: Vec::new(),
    };
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = match line.find(' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, ""),
        };
        match tag {
            "set" => {
                let (k, v) = rest
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("line {n}: set KEY VALUE"));
                let c = &mut script.config;
                let num = || {
                    v.parse::<u64>()
                        .unwrap_or_else(|_| panic!("line {n}: number"))
                };
                match k {
                    "max_message_size" => c.max_message_size = num(),
                    "max_recipients" => c.max_recipients = num() as usize,
                    "max_errors" => c.max_errors = num() as u32,
                    "max_line_length" => c.max_line_length = num() as usize,
                    "max_recorded_commands" => c.max_recorded_commands = num() as usize,
                    "bare_line_endings" => {
                        c.bare_line_endings = match v {
                            "reject" => BareLineEndings::Reject,
                            "accept" => BareLineEndings::Accept,
                            _ => panic!("line {n}: reject|accept"),
                        }
                    }
                    "early_talk" => {
                        c.early_talk = match v {
                            "process" => EarlyTalkPolicy::Process,
                            "refuse" => EarlyTalkPolicy::Refuse,
                            _ => panic!("line {n}: process|refuse"),
                        }
                    }
                    "starttls" => script.starttls = v == "on",
                    "split" => script.split = v == "on",
                    "greeting" => {
                        let (code, text) = v.split_once(' ').unwrap_or((v, "No service"));
                        let code: u16 = code.parse().unwrap_or_else(|_| panic!("line {n}"));
                        let enh = format!("{}.7.1", code / 100);
                        script.greeting = Greeting::Refuse(Reply::new(code, &enh, text).unwrap());
                    }
                    _ => panic!("line {n}: unknown setting {k}"),
                }
            }
            "P:" => script.pregreet.extend(unescape(rest, n)),
            "C:" => {
                let mut b = rest.as_bytes().to_vec();
                b.extend_from_slice(b"\r\n");
                script.steps.push((n, Step::Send(b)));
            }
            "R:" => script.steps.push((n, Step::Send(unescape(rest, n)))),
            "S:" => {
                let (code, text) = match rest.split_once(' ') {
                    Some((c, t)) => (c, Some(t.to_string())),
                    None => (rest, None),
                };
                let code = code
                    .parse()
                    .unwrap_or_else(|_| panic!("line {n}: S: CODE [TEXT]"));
                script.steps.push((n, Step::Reply { code, text }));
            }
            "S+" => script.steps.push((n, Step::ReplyHasLine(rest.to_string()))),
            "S-" => script
                .steps
                .push((n, Step::ReplyLacksLine(rest.to_string()))),
            "E:" => script.steps.push((n, Step::Envelope(rest.to_string()))),
            "D:" => script.steps.push((n, Step::Data(unescape(rest, n)))),
            "CLOSED" => script.steps.push((n, Step::Closed)),
            _ => panic!("line {n}: unknown line {line:?}"),
        }
    }
    script
}

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// The scripted application: decisions keyed on names, so scripts can ask for them.
fn decide(event: &Event, delivered: &mut u32) -> Result<Accepted, Reply> {
    match event {
        Event::Helo(h) if h.argument == "reject.example" => {
            Err(Reply::policy_rejection("HELO refused by policy"))
        }
        Event::MailFrom(m) if m.path.to_string().starts_with("<reject@") => {
            Err(Reply::policy_rejection("Sender refused by policy"))
        }
        Event::RcptTo(r) if r.path.to_string().starts_with("<unknown@") => {
            Err(Reply::no_such_user())
        }
        Event::RcptTo(r) if r.path.to_string().starts_with("<greylist@") => {
            Err(Reply::greylisted())
        }
        Event::Message(m) if m.data.windows(12).any(|w| w == b"X-Fail: temp") => {
            Err(Reply::temporary_failure("Storage unavailable, try later"))
        }
        Event::Message(_) => {
            *delivered += 1;
            Ok(Accepted::with_id(format!("Q{delivered}")))
        }
        _ => Ok(Accepted::new()),
    }
}

#[derive(Default)]
struct Outcome {
    replies: VecDeque<(u16, Vec<String>)>,
    messages: VecDeque<Message>,
    raw_output: Vec<u8>,
}

fn drive(s: &mut Session, out: &mut Outcome, delivered: &mut u32, clock: &mut u64) {
    loop {
        let ev = s.poll();
        match ev {
            Event::NeedInput | Event::Close => break,
            Event::StartTls => {
                let tls = TlsInfo {
                    version: "TLSv1.3".into(),
                    cipher: "TLS13_AES_128_GCM_SHA256".into(),
                    sni: None,
                    at: t(*clock),
                };
                collect(s, out);
                s.tls_established(tls, t(*clock));
            }
            Event::DecisionPending => panic!("decision left pending"),
            ev => {
                let verdict = decide(&ev, delivered);
                if let Event::Message(m) = ev {
                    out.messages.push_back(m);
                }
                *clock += 1;
                s.resolve(verdict, t(*clock)).expect("pending decision");
            }
        }
    }
    collect(s, out);
}

fn collect(s: &mut Session, out: &mut Outcome) {
    let bytes = s.take_output();
    out.raw_output.extend_from_slice(&bytes);
    let text = String::from_utf8(bytes).expect("replies are UTF-8");
    let mut lines = Vec::new();
    for line in text.split_inclusive("\r\n") {
        let line = line.strip_suffix("\r\n").expect("reply line ends in CRLF");
        assert!(line.len() >= 3, "short reply line {line:?}");
        let code: u16 = line[..3].parse().expect("reply code");
        let sep = line.as_bytes().get(3).copied().unwrap_or(b' ');
        lines.push(line.get(4..).unwrap_or("").to_string());
        if sep == b' ' {
            out.replies.push_back((code, std::mem::take(&mut lines)));
        } else {
            assert_eq!(sep, b'-', "bad reply separator in {line:?}");
        }
    }
    assert!(lines.is_empty(), "unterminated multi-line reply");
}

fn run(name: &str, script: &Script, feed: Feed) {
    let conn = ConnectionInfo {
        id: 7,
        peer: "192.0.2.10:50000".parse().unwrap(),
        local: "198.51.100.25:25".parse().unwrap(),
        starttls: script.starttls,
    };
    let mut s = Session::new(Arc::new(script.config.clone()), conn, t(0));
    let mut out = Outcome::default();
    let mut delivered = 0;
    let mut clock = 1;
    if !script.pregreet.is_empty() {
        s.receive(&script.pregreet, t(clock));
    }
    s.greet(script.greeting.clone(), t(clock));
    drive(&mut s, &mut out, &mut delivered, &mut clock);
    let mut pending: Vec<u8> = Vec::new();
    let mut last_reply: Option<(u16, Vec<String>)> = None;
    let ctx = |n: usize| format!("{name}:{n} ({feed:?})");
    for (n, step) in &script.steps {
        if !matches!(step, Step::Send(_)) && !pending.is_empty() {
            clock += 1;
            match feed {
                Feed::Whole => {
                    s.receive(&pending, t(clock));
                    drive(&mut s, &mut out, &mut delivered, &mut clock);
                }
                Feed::Bytewise => {
                    for b in &pending {
                        s.receive(std::slice::from_ref(b), t(clock));
                        drive(&mut s, &mut out, &mut delivered, &mut clock);
                    }
                }
            }
            pending.clear();
        }
        match step {
            Step::Send(b) => pending.extend_from_slice(b),
            Step::Reply { code, text } => {
                let got = out
                    .replies
                    .pop_front()
                    .unwrap_or_else(|| panic!("{}: expected {code}, got no reply", ctx(*n)));
                assert_eq!(got.0, *code, "{}: reply {:?}", ctx(*n), got);
                if let Some(text) = text {
                    let last = got.1.last().map(String::as_str).unwrap_or("");
                    assert!(
                        last.starts_with(text.as_str()),
                        "{}: reply text {last:?} does not start with {text:?}",
                        ctx(*n)
                    );
                }
                last_reply = Some(got);
            }
            Step::ReplyHasLine(want) | Step::ReplyLacksLine(want) => {
                let (_, lines) = last_reply
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: no reply yet", ctx(*n)));
                let has = lines.iter().any(|l| l == want);
                let expect = matches!(step, Step::ReplyHasLine(_));
                assert_eq!(has, expect, "{}: line {want:?} in {lines:?}", ctx(*n));
            }
            Step::Envelope(want) => {
                let m = out
                    .messages
                    .front()
                    .unwrap_or_else(|| panic!("{}: expected a message, none delivered", ctx(*n)));
                let mut got = m.envelope.mail_from.path.to_string();
                for r in &m.envelope.recipients {
                    got.push(' ');
                    got.push_str(&r.path.to_string());
                }
                assert_eq!(&got, want, "{}: envelope", ctx(*n));
            }
            Step::Data(want) => {
                let m = out
                    .messages
                    .pop_front()
                    .unwrap_or_else(|| panic!("{}: expected a message, none delivered", ctx(*n)));
                assert_eq!(
                    String::from_utf8_lossy(&m.data),
                    String::from_utf8_lossy(want),
                    "{}: message data",
                    ctx(*n)
                );
            }
            Step::Closed => {
                assert!(s.is_closed(), "{}: session still open", ctx(*n));
            }
        }
    }
    assert!(
        pending.is_empty(),
        "{name}: client bytes at the end without an expectation"
    );
    assert!(
        out.replies.is_empty(),
        "{name} ({feed:?}): unexpected replies at the end: {:?}",
        out.replies
    );
    assert!(
        out.messages.is_empty(),
        "{name} ({feed:?}): {} message(s) delivered but not expected",
        out.messages.len()
    );
}

#[test]
fn smtp_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/scripts")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "smtp"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "expected the script suite, found {}",
        names.len()
    );
    for path in &names {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let script = parse(&std::fs::read_to_string(path).unwrap());
        run(&name, &script, Feed::Whole);
        if script.split {
            run(&name, &script, Feed::Bytewise);
        }
    }
    println!("{} scripts passed", names.len());
}
