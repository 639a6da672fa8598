//! Lenient date parsing for `Date:` and `Received:` timestamps.
//!
//! Real mail carries RFC 5322 dates (`Sun, 31 Mar 2002 21:08:03 +0900 (JST)`), obsolete
//! forms (two- and three-digit years, zone names, no seconds, no zone), and the asctime
//! form of legacy MTAs and mbox lines (`Fri Feb 07 10:18:12 2003 -0800`). The parser
//! reads fields by their shape, in any of those orders, and validates the result with
//! chrono: an impossible date (31 February, a +99:00 zone) gives `None`, never a wrong
//! instant. A numeric zone wins over a zone name; no zone at all means UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

/// Parses a date in RFC 5322 form (leniently) or asctime form.
pub fn parse_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 256 {
        return None;
    }
    let mut day = None;
    let mut month = None;
    let mut year = None;
    let mut time = None;
    let mut numeric_zone = None;
    let mut named_zone = None;
    let b = text.as_bytes();
    let mut i = 0;
    let mut seen = 0;
    while i < b.len() && seen < 12 {
        let c = b[i];
        if c.is_ascii_whitespace() || c == b',' {
            i += 1;
            continue;
        }
        if c == b'(' {
            // Skip a comment such as `(JST)`, nested ones too.
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b',' && b[i] != b'(' {
            i += 1;
        }
        seen += 1;
        let mut tok = &b[start..i];
        while let [rest @ .., b'.' | b';'] = tok {
            tok = rest;
        }
        if tok.is_empty() {
            continue;
        }
        if tok.contains(&b':') {
            if time.is_none() {
                time = parse_time(tok);
            }
        } else if (tok[0] == b'+' || tok[0] == b'-')
            && tok.len() == 5
            && tok[1..].iter().all(u8::is_ascii_digit)
        {
            if numeric_zone.is_none() {
                let d = |k: usize| i32::from(tok[k] - b'0');
                let minutes = (d(1) * 10 + d(2)) * 60 + d(3) * 10 + d(4);
                numeric_zone = Some(if tok[0] == b'-' { -minutes } else { minutes });
            }
        } else if tok.iter().all(u8::is_ascii_digit) {
            if tok.len() > 4 {
                continue;
            }
            let n = tok
                .iter()
                .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
            match tok.len() {
                1 | 2 if day.is_none() && (month.is_none() || year.is_none()) => {
                    day = Some(n as u32)
                }
                1 | 2 if year.is_none() => year = Some(if n < 50 { 2000 + n } else { 1900 + n }),
                3 if year.is_none() => year = Some(1900 + n),
                4 if year.is_none() => year = Some(n),
                _ => {}
            }
        } else if let Some(m) = month_number(tok) {
            if month.is_none() {
                month = Some(m);
            }
        } else if let Some(z) = zone_name(tok) {
            named_zone.get_or_insert(z);
        }
    }
    let offset = numeric_zone.or(named_zone).unwrap_or(0);
    build(year?, month?, day?, time?, offset)
}

fn parse_time(tok: &[u8]) -> Option<(u32, u32, u32)> {
    let num = |p: &[u8]| -> Option<u32> {
        if p.is_empty() || p.len() > 2 || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(p.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let mut parts = tok.split(|&c| c == b':');
    let h = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let s = match parts.next() {
        // Fractions of a second (`55.516`) are dropped.
        Some(p) => num(p.split(|&c| c == b'.').next()?)?,
        None => 0,
    };
    Some((h, m, s))
}

fn build(
    year: i32,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    offset_minutes: i32,
) -> Option<DateTime<FixedOffset>> {
    if !(1970..=2200).contains(&year) || offset_minutes.abs() > 18 * 60 {
        return None;
    }
    let (h, m, s) = hms;
    // A leap second (`:60`) is read as :59.
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, s.min(59))?;
    let offset = FixedOffset::east_opt(offset_minutes * 60)?;
    offset.from_local_datetime(&naive).single()
}

fn month_number(w: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    if w.len() < 3 || w.len() > 9 || !w.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let head = [
        w[0].to_ascii_lowercase(),
        w[1].to_ascii_lowercase(),
        w[2].to_ascii_lowercase(),
    ];
    MONTHS
        .iter()
        .position(|m| **m == head)
        .map(|p| p as u32 + 1)
}

/// Zone names seen in mail, as minutes east of UTC. Ambiguous names take the meaning
/// most common in mail (IST as India); the numeric zone, when present, wins anyway.
fn zone_name(word: &[u8]) -> Option<i32> {
    if word.len() > 4 || !word.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut buf = [0u8; 4];
    for (d, s) in buf.iter_mut().zip(word) {
        *d = s.to_ascii_uppercase();
    }
    let w = std::str::from_utf8(&buf[..word.len()]).ok()?;
    Some(match w {
        "UT" | "UTC" | "GMT" | "Z" | "WET" => 0,
        "EST" => -300,
        "EDT" => -240,
        "CST" => -360,
        "CDT" => -300,
        "MST" => -420,
        "MDT" => -360,
        "PST" => -480,
        "PDT" => -420,
        "AKST" => -540,
        "AKDT" => -480,
        "HST" => -600,
        "BST" | "CET" | "MET" | "MEZ" | "WEST" => 60,
        "CEST" | "MEST" | "MESZ" | "EET" => 120,
        "EEST" | "MSK" => 180,
        "IST" => 330,
        "HKT" | "SGT" | "AWST" => 480,
        "JST" | "KST" => 540,
        "AEST" => 600,
        "AEDT" => 660,
        "NZST" => 720,
        "NZDT" => 780,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(text: &str) -> Option<String> {
        parse_date(text).map(|d| d.to_rfc3339())
    }

    #[test]
    fn forms() {
        let cases = [
            (
                "Sun, 31 Mar 2002 21:08:03 +0900 (JST)",
                Some("2002-03-31T21:08:03+09:00"),
            ),
            (
                "22 Aug 2002 12:39:38 -0000",
                Some("2002-08-22T12:39:38+00:00"),
            ),
            (
                "Mon, 7\n\tMay 2018 09:58:55 +0000",
                Some("2018-05-07T09:58:55+00:00"),
            ),
            (
                "Thu, 22 Aug 2002 08:08:05 -0700 (PDT)",
                Some("2002-08-22T08:08:05-07:00"),
            ),
            (
                "Thu Aug 22 13:17:22 2002",
                Some("2002-08-22T13:17:22+00:00"),
            ),
            (
                "Fri Feb 07 10:18:12 2003 -0800",
                Some("2003-02-07T10:18:12-08:00"),
            ),
            (
                "Wed, 12 Feb 2003 14:22:21 PST",
                Some("2003-02-12T14:22:21-08:00"),
            ),
            (
                "Wed, 26 Mar 03 20:43:24 -0600",
                Some("2003-03-26T20:43:24-06:00"),
            ),
            (
                "Thu, 20 Mar 103 10:06:43 +0100",
                Some("2003-03-20T10:06:43+01:00"),
            ),
            ("30 Apr 2003 15:06:29", Some("2003-04-30T15:06:29+00:00")),
            (
                "Sat,  6 Jun 2015  04:10:45 +0100 (BST)",
                Some("2015-06-06T04:10:45+01:00"),
            ),
            (
                "Fri, 22 Aug 2014 01:52:13 \t +0000 (GMT)",
                Some("2014-08-22T01:52:13+00:00"),
            ),
            (
                "Thu, 22 Aug 2002 13:17:22 +0100 (IST)",
                Some("2002-08-22T13:17:22+01:00"),
            ),
            ("31 Feb 2002 10:00:00 +0000", None),
            ("1 Jan 2002 25:00:00 +0000", None),
            ("garbage", None),
            ("", None),
            ("(((((", None),
        ];
        for (text, want) in cases {
            assert_eq!(rfc3339(text).as_deref(), want, "{text:?}");
        }
    }
}
