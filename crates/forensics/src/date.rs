//! Lenient date parsing for `Date:` and `Received:` timestamps.
//!
//! RFC 5322 dates are parsed by mail-parser (which copes with zone names, missing
//! seconds, two-digit years and comments); we add the asctime form that some legacy MTAs
//! and mbox `From ` lines use, and validate the result with chrono so an impossible date
//! (31 February, a +99:00 zone) becomes `None` instead of a wrong instant.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

/// Parses a date in RFC 5322 form (leniently) or asctime form.
pub fn parse_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 200 {
        return None;
    }
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    parse_rfc5322(text).or_else(|| parse_asctime(text))
}

fn parse_rfc5322(text: &str) -> Option<DateTime<FixedOffset>> {
    let dt = mail_parser::DateTime::parse_rfc822(text)?;
    let mut minutes = i32::from(dt.tz_hour) * 60 + i32::from(dt.tz_minute);
    if dt.tz_before_gmt {
        minutes = -minutes;
    }
    build(
        i32::from(dt.year),
        u32::from(dt.month),
        u32::from(dt.day),
        (
            u32::from(dt.hour),
            u32::from(dt.minute),
            u32::from(dt.second),
        ),
        minutes,
    )
}

fn build(
    year: i32,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    offset_minutes: i32,
) -> Option<DateTime<FixedOffset>> {
    // mail-parser reports years before 1970 and nonsense as given; keep a sane window.
    if !(1970..=2200).contains(&year) || offset_minutes.abs() > 18 * 60 {
        return None;
    }
    let (h, m, s) = hms;
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, s.min(59))?;
    let offset = FixedOffset::east_opt(offset_minutes * 60)?;
    offset.from_local_datetime(&naive).single()
}

/// `Thu Aug 22 13:17:22 2002` (asctime, as in mbox `From ` lines), optionally with a
/// numeric zone after the time or the year; UTC when no zone is given.
fn parse_asctime(text: &str) -> Option<DateTime<FixedOffset>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    if words.first().is_some_and(|w| {
        w.len() >= 3 && w[..3].chars().all(|c| c.is_ascii_alphabetic()) && month_number(w).is_none()
    }) {
        i = 1; // weekday
    }
    let month = month_number(words.get(i)?)?;
    let day: u32 = words.get(i + 1)?.parse().ok()?;
    let mut time = None;
    let mut year = None;
    let mut offset = 0;
    for w in words.iter().skip(i + 2).take(3) {
        if w.contains(':') {
            let mut parts = w.split(':').map(|p| p.parse::<u32>().ok());
            let h = parts.next()??;
            let m = parts.next()??;
            let s = parts.next().flatten().unwrap_or(0);
            time = Some((h, m, s));
        } else if (w.starts_with('+') || w.starts_with('-')) && w.len() == 5 {
            let sign = if w.starts_with('-') { -1 } else { 1 };
            let hh: i32 = w[1..3].parse().ok()?;
            let mm: i32 = w[3..5].parse().ok()?;
            offset = sign * (hh * 60 + mm);
        } else if let Ok(y) = w.parse::<i32>() {
            year = Some(y);
        }
    }
    build(year?, month, day, time?, offset)
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let w = word.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == w).map(|p| p as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(text: &str) -> Option<String> {
        parse_date(text).map(|d| d.to_rfc3339())
    }

    #[test]
    fn forms() {
        assert_eq!(
            rfc3339("Sun, 31 Mar 2002 21:08:03 +0900 (JST)").as_deref(),
            Some("2002-03-31T21:08:03+09:00")
        );
        assert_eq!(
            rfc3339("22 Aug 2002 12:39:38 -0000").as_deref(),
            Some("2002-08-22T12:39:38+00:00")
        );
        assert_eq!(
            rfc3339("Mon, 7\n\tMay 2018 09:58:55 +0000").as_deref(),
            Some("2018-05-07T09:58:55+00:00")
        );
        assert_eq!(
            rfc3339("Thu, 22 Aug 2002 08:08:05 -0700 (PDT)").as_deref(),
            Some("2002-08-22T08:08:05-07:00")
        );
        assert_eq!(
            rfc3339("Thu Aug 22 13:17:22 2002").as_deref(),
            Some("2002-08-22T13:17:22+00:00")
        );
        assert_eq!(rfc3339("31 Feb 2002 10:00:00 +0000"), None);
        assert_eq!(rfc3339("garbage"), None);
        assert_eq!(rfc3339(""), None);
    }
}
