//! The text report of `abusedesk trace`: what an operator reads first.

use crate::chain::{Mark, Role};
use crate::trace::Trace;
use std::fmt::Write;

/// Renders a trace as the operator-facing text report (no trailing blank line).
pub fn render_text(t: &Trace, label: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "== {label}");
    if let Some(id) = &t.message_id {
        let _ = write!(s, "Message-ID <{id}>");
        if let Some(d) = t.date {
            let _ = write!(s, "   Date {}", d.format("%Y-%m-%d %H:%M:%S %:z"));
        }
        s.push('\n');
    }
    if let Some(subj) = t.subject.as_deref().filter(|x| !x.is_empty()) {
        let _ = writeln!(s, "Subject    {}", one_line(subj, 100));
    }
    match &t.origin {
        Some(o) => {
            let _ = write!(s, "Origin     {}", o.ip);
            if let Some(p) = o.port {
                let _ = write!(s, " port {p}");
            }
            let _ = write!(s, "  {}", o.rdns.as_deref().unwrap_or("(no rDNS)"));
            if let Some(c) = &o.country {
                let _ = write!(s, "  [{c}]");
            }
            s.push('\n');
            let _ = write!(
                s,
                "           HELO {} ({})",
                o.helo.as_deref().unwrap_or("(none)"),
                o.helo_class
            );
            if let Some(by) = &o.by {
                let _ = write!(s, ", handed to {by}");
            }
            if let Some(d) = o.date {
                let _ = write!(s, " at {}", d.format("%Y-%m-%d %H:%M:%S %:z"));
            }
            let _ = writeln!(
                s,
                ", hop {}{}",
                o.hop + 1,
                if o.synthetic {
                    " (from an originating-IP header)"
                } else {
                    ""
                }
            );
            if let Some(a) = &o.authenticated {
                let _ = writeln!(
                    s,
                    "           authenticated{}",
                    if a.is_empty() {
                        String::new()
                    } else {
                        format!(" as {a}")
                    }
                );
            }
            let _ = writeln!(s, "           why: {}", o.reason);
        }
        None => {
            let _ = writeln!(s, "Origin     none found (no hop from an untrusted sender)");
        }
    }
    let e = &t.envelope_from;
    let env = match e.address.as_deref() {
        Some("") => "<>".to_string(),
        Some(a) => format!("<{a}>"),
        None => "(none)".to_string(),
    };
    let _ = writeln!(
        s,
        "Envelope   {env} ({}){}   From {}",
        e.class.as_str(),
        if e.matches_header_from {
            ", same as From"
        } else {
            ""
        },
        t.header_from
            .as_deref()
            .map(|f| format!("<{f}>"))
            .unwrap_or_else(|| "(no address)".into())
    );
    if !t.hops.is_empty() {
        let _ = writeln!(s, "Chain      newest first");
        for (i, h) in t.hops.iter().enumerate() {
            let r = &h.received;
            let tag = match h.role {
                Role::Origin => "ORIGIN ",
                Role::Trusted => "trusted",
                Role::Internal => "local  ",
                Role::Claimed => "claimed",
                Role::Unparsed => "??     ",
            };
            let _ = write!(
                s,
                "  {}{:>2} {tag} ",
                if h.role == Role::Origin { '>' } else { ' ' },
                i + 1
            );
            if !r.parsed {
                let _ = writeln!(s, "unparsed: {}", one_line(&h.raw, 90));
                continue;
            }
            if let Some(hdr) = &h.synthetic {
                let _ = writeln!(
                    s,
                    "{} (from {hdr})",
                    r.from_ip.map(|i| i.to_string()).unwrap_or_default()
                );
                continue;
            }
            let ip = r
                .from_ip
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into());
            let _ = write!(s, "{ip}");
            if let Some(d) = &r.from_rdns {
                let _ = write!(s, " {d}");
            }
            if let Some(hl) = &r.from_helo {
                let _ = write!(s, " HELO {hl}");
            }
            let _ = write!(s, " -> {}", r.by.as_deref().unwrap_or("?"));
            if let Some(p) = &r.protocol {
                let _ = write!(s, " {}", p.as_str());
            }
            if let Some(tls) = &r.tls {
                let _ = write!(
                    s,
                    " TLS{}",
                    tls.version
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default()
                );
            }
            if let Some(d) = r.date {
                let _ = write!(s, " {}", d.format("%Y-%m-%d %H:%M:%S %:z"));
            }
            if let Some(c) = &h.country {
                let _ = write!(s, " [{c}]");
            }
            let notes: Vec<String> = h.marks.iter().filter_map(mark_note).collect();
            if !notes.is_empty() {
                let _ = write!(s, "  ({})", notes.join("; "));
            }
            s.push('\n');
        }
    }
    if t.indicators.is_empty() {
        let _ = writeln!(s, "Indicators none");
    } else {
        let _ = writeln!(s, "Indicators");
        for ind in &t.indicators {
            let _ = writeln!(s, "  - {}: {}", ind.name.as_str(), ind.evidence);
        }
    }
    if let Some(b) = &t.bounce
        && let Some(o) = &b.original
    {
        let inner = render_text(o, "bounced original");
        for line in inner.lines() {
            let _ = writeln!(s, "  | {line}");
        }
    }
    for p in &t.problems {
        let _ = writeln!(s, "Note       {p}");
    }
    while s.ends_with('\n') {
        s.pop();
    }
    s
}

fn mark_note(m: &Mark) -> Option<String> {
    Some(match m {
        Mark::LinkOk => return None,
        Mark::LinkWeak { detail } => format!("weak link: {detail}"),
        Mark::LinkMismatch { detail } => format!("chain broken: {detail}"),
        Mark::PrivateIp => "private address".into(),
        Mark::TimeBackwards { seconds } => format!(
            "time runs backwards by {}",
            crate::indicators::human_duration(*seconds)
        ),
        Mark::BadDate => "unreadable date".into(),
        Mark::MayBeForged => "rDNS may be forged".into(),
        Mark::OutOfPlace => "below the author's headers".into(),
        Mark::ClaimsOurHost { detail } => detail.clone(),
        Mark::NoIp => "no sending IP".into(),
        Mark::Unparsed | Mark::Synthetic { .. } => return None,
    })
}

fn one_line(s: &str, max: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        one
    } else {
        one.chars().take(max).chain(std::iter::once('…')).collect()
    }
}
