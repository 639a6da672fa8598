//! Text analysis: charset sniffing for unlabelled Japanese text, language, report kind from
//! keywords (English and Japanese), URLs, domains and IP addresses.
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{Language, ReportKind};

/// At most this many URLs / domains / IPs are kept per report.
pub(crate) const MAX_ITEMS: usize = 200;
const MAX_URL_LEN: usize = 2048;

// ---------------------------------------------------------------------------------------
// Charsets

/// Decode bytes whose charset is unknown or wrongly labelled: ISO-2022-JP (escape
/// sequences), UTF-8, Shift_JIS or EUC-JP (whichever decodes cleanly into more kana),
/// else windows-1252.
pub(crate) fn decode_unlabelled(bytes: &[u8]) -> String {
    if looks_iso2022jp(bytes) {
        let (text, _) = encoding_rs::ISO_2022_JP.decode_without_bom_handling(bytes);
        return text.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let sjis = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes);
    let euc = encoding_rs::EUC_JP.decode_without_bom_handling_and_without_replacement(bytes);
    match (sjis, euc) {
        (Some(s), Some(e)) => {
            if kana_count(&e) > kana_count(&s) {
                e.into_owned()
            } else {
                s.into_owned()
            }
        }
        (Some(s), None) => s.into_owned(),
        (None, Some(e)) => e.into_owned(),
        (None, None) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            text.into_owned()
        }
    }
}

/// ISO-2022-JP shifts into JIS X 0208 with `ESC $ B` or `ESC $ @` (and JIS X 0212 with
/// `ESC $ ( D`).
pub(crate) fn looks_iso2022jp(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\x1b$B").is_some()
        || memchr::memmem::find(bytes, b"\x1b$@").is_some()
        || memchr::memmem::find(bytes, b"\x1b$(D").is_some()
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{ff66}'..='\u{ff9f}')
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

fn kana_count(s: &str) -> usize {
    s.chars().filter(|&c| is_kana(c)).count()
}

// ---------------------------------------------------------------------------------------
// Language

const ENGLISH_WORDS: &[&str] = &[
    "the", "and", "to", "of", "is", "you", "this", "from", "we", "please", "your", "are", "our",
    "for", "have", "has", "been", "received", "that", "with", "on", "in", "it", "not", "be", "by",
    "an", "a", "i", "my", "was", "were", "spam", "mail", "email", "abuse", "report", "hello",
    "dear", "regards", "thanks", "thank",
];

/// Japanese when kana appear; English when the letters are Latin and common English words
/// occur; otherwise other.
pub(crate) fn detect_language(text: &str) -> Language {
    let mut kana = 0usize;
    let mut cjk = 0usize;
    let mut ascii_letters = 0usize;
    let mut other_letters = 0usize;
    for c in text.chars() {
        if is_kana(c) {
            kana += 1;
        } else if is_cjk(c) {
            cjk += 1;
        } else if c.is_ascii_alphabetic() {
            ascii_letters += 1;
        } else if c.is_alphabetic() {
            other_letters += 1;
        }
    }
    if kana >= 2 || (kana >= 1 && cjk >= 1) {
        return Language::Ja;
    }
    if ascii_letters == 0 || ascii_letters < 4 * (other_letters + cjk) {
        return Language::Other;
    }
    let mut words = 0usize;
    let mut english = 0usize;
    for word in text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(2000)
    {
        words += 1;
        if ENGLISH_WORDS.iter().any(|e| word.eq_ignore_ascii_case(e)) {
            english += 1;
        }
    }
    if english >= 2 && english * 10 >= words {
        Language::En
    } else {
        Language::Other
    }
}

// ---------------------------------------------------------------------------------------
// Kind from keywords

struct KindWords {
    kind: ReportKind,
    /// Lower-case needles (Japanese as written).
    words: &'static [&'static str],
    /// A line containing one of these does not count (signature/footer boilerplate).
    except: &'static [&'static str],
}

/// In priority order: the first kind with a hit wins (a phishing spam is phishing).
const KIND_WORDS: &[KindWords] = &[
    KindWords {
        kind: ReportKind::Disclosure,
        words: &[
            "発信者情報開示",
            "発信者情報の開示",
            "開示請求",
            "disclosure of sender information",
            "disclosure of the sender",
            "disclosure of subscriber",
            "disclose the identity",
            "disclose the subscriber",
            "subscriber information request",
            "identity disclosure",
        ],
        except: &[],
    },
    KindWords {
        kind: ReportKind::Takedown,
        words: &[
            "送信防止措置",
            "削除依頼",
            "削除要請",
            "削除のお願い",
            "削除を依頼",
            "削除をお願い",
            "著作権侵害",
            "商標権侵害",
            "takedown",
            "take down",
            "take-down",
            "dmca",
            "copyright infringement",
            "trademark infringement",
            "infringing content",
            "infringing material",
            "notice of infringement",
            "removal of the content",
            "remove the content",
            "child sexual abuse material",
        ],
        except: &[],
    },
    KindWords {
        kind: ReportKind::UnauthorizedAccess,
        words: &[
            "不正アクセス",
            "不正ログイン",
            "不正侵入",
            "ブルートフォース",
            "総当たり攻撃",
            "unauthorized access",
            "unauthorised access",
            "brute force",
            "brute-force",
            "bruteforce",
            "login attempts",
            "failed login",
            "login attack",
            "intrusion attempt",
            "hacking attempt",
            "hack attempt",
            "break-in attempt",
            "compromised account",
            "account takeover",
        ],
        except: &["any unauthorized", "any unauthorised"],
    },
    KindWords {
        kind: ReportKind::Phishing,
        words: &[
            "フィッシング",
            "詐欺",
            "phishing",
            "phish",
            "fraudulent",
            "fraud",
            "credential harvesting",
        ],
        except: &[],
    },
    KindWords {
        kind: ReportKind::Virus,
        words: &[
            "ウイルス",
            "ウィルス",
            "マルウェア",
            "トロイの木馬",
            "ランサムウェア",
            "virus",
            "malware",
            "trojan",
            "ransomware",
            "botnet",
            "infected",
            "backdoor",
        ],
        except: &[
            "virus-free",
            "virus free",
            "scanned",
            "anti-virus",
            "antivirus",
            "virus scan",
            "virus check",
            "ウイルスチェック",
            "ウイルス対策",
            "ウィルスチェック",
            "ウィルス対策",
        ],
    },
    KindWords {
        kind: ReportKind::Spam,
        words: &[
            "迷惑メール",
            "スパム",
            "広告メール",
            "spam",
            "unsolicited",
            "junk mail",
            "junk e-mail",
            "junk email",
            "bulk mail",
        ],
        except: &["spamcop.net/"],
    },
];

/// The highest-priority kind any keyword names in these texts, if any.
pub(crate) fn kind_from_keywords<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Option<ReportKind> {
    let mut best: Option<usize> = None;
    for text in texts {
        let lower = text.to_lowercase();
        for line in lower.lines() {
            let limit = best.unwrap_or(KIND_WORDS.len());
            for (idx, kw) in KIND_WORDS.iter().enumerate().take(limit) {
                if kw.words.iter().any(|w| line.contains(w))
                    && !kw.except.iter().any(|e| line.contains(e))
                {
                    best = Some(idx);
                    break;
                }
            }
            if best == Some(0) {
                return Some(KIND_WORDS[0].kind);
            }
        }
    }
    best.map(|idx| KIND_WORDS[idx].kind)
}

/// Kind from an X-ARF (any generation) or similar category/type pair.
pub(crate) fn kind_from_category(category: Option<&str>, report_type: Option<&str>) -> ReportKind {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    if let Some(t) = report_type {
        match norm(t).as_str() {
            "spam" | "bulkmessaging" | "bulk" => return ReportKind::Spam,
            "phishing" | "fraud" | "cryptocurrencyscam" | "fakeshop" => {
                return ReportKind::Phishing;
            }
            "malware" | "infectedhost" | "botnet" | "bot" | "botinfection" | "virus" => {
                return ReportKind::Virus;
            }
            "loginattack"
            | "hackattack"
            | "sqlinjection"
            | "exploit"
            | "potentiallycompromisedaccount"
            | "compromisedserver"
            | "remotecompromise"
            | "bruteforce"
            | "intrusion" => return ReportKind::UnauthorizedAccess,
            "copyright"
            | "p2p"
            | "cyberlocker"
            | "ugcplatform"
            | "linksite"
            | "usenet"
            | "trademark"
            | "brandinfringement"
            | "childabuse"
            | "childsexualabusematerial"
            | "csam"
            | "csem"
            | "harassment"
            | "exposeddata" => return ReportKind::Takedown,
            _ => {}
        }
    }
    match category.map(norm).as_deref() {
        Some("messaging") => ReportKind::Spam,
        Some("copyright") => ReportKind::Takedown,
        Some("fraud") => ReportKind::Phishing,
        Some("malware") => ReportKind::Virus,
        _ => ReportKind::Other,
    }
}

// ---------------------------------------------------------------------------------------
// URLs, domains, IPs

/// Undo the usual defanging (`hxxp`, `[.]`, `(.)`, `[dot]`, `[:]`).
pub(crate) fn refang(text: &str) -> Cow<'_, str> {
    let lower_has =
        |needle: &str| memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some();
    if !(lower_has("hxxp")
        || lower_has("[.]")
        || lower_has("(.)")
        || lower_has("[dot]")
        || lower_has("[:]")
        || lower_has("HXXP"))
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("hxxp", "http")
            .replace("HXXP", "HTTP")
            .replace("[.]", ".")
            .replace("(.)", ".")
            .replace("[dot]", ".")
            .replace("[:]", ":"),
    )
}

fn url_char(c: u8) -> bool {
    c.is_ascii_graphic()
        && !matches!(
            c,
            b'<' | b'>' | b'"' | b'\'' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
        )
}

/// Append the http(s) URLs in `text` to `out` (deduplicated, capped).
pub(crate) fn find_urls(text: &str, out: &mut Vec<String>) {
    let text = refang(text);
    let bytes = text.as_bytes();
    let finder = memchr::memmem::Finder::new(b"://");
    let mut from = 0;
    while let Some(rel) = finder.find(bytes.get(from..).unwrap_or_default()) {
        let colon = from + rel;
        from = colon + 3;
        // Scheme: http or https, case-insensitive, preceded by a non-letter.
        let scheme_start = if colon >= 5 && bytes[colon - 5..colon].eq_ignore_ascii_case(b"https") {
            colon - 5
        } else if colon >= 4 && bytes[colon - 4..colon].eq_ignore_ascii_case(b"http") {
            colon - 4
        } else {
            continue;
        };
        if scheme_start > 0 && bytes[scheme_start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut end = colon + 3;
        let mut parens = 0i32;
        while end < bytes.len() && end - scheme_start < MAX_URL_LEN {
            let c = bytes[end];
            if !url_char(c) {
                break;
            }
            match c {
                b'(' => parens += 1,
                b')' => {
                    if parens == 0 {
                        break;
                    }
                    parens -= 1;
                }
                b']' => break,
                _ => {}
            }
            end += 1;
        }
        from = end.max(from);
        let Some(candidate) = text.get(scheme_start..end) else {
            continue;
        };
        let mut url = candidate.trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '=']);
        for entity in ["&gt", "&lt", "&quot"] {
            if let Some(pos) = url.find(entity) {
                url = &url[..pos];
            }
        }
        let url = url.replace("&amp;", "&");
        if url_host(&url).is_none() {
            continue;
        }
        push_unique(out, url);
        if out.len() >= MAX_ITEMS {
            return;
        }
    }
}

/// The host of an http(s) URL, lower-cased, without port or userinfo.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || !(host.contains('.') || host.contains(':') || host == "localhost") {
        return None;
    }
    Some(host)
}

/// A syntactically plausible DNS name (at least two labels, alphabetic or punycode TLD),
/// lower-cased; IP literals are not domains.
pub(crate) fn normalise_domain(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.len() > 253 || name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
    }
    let tld = labels.last()?;
    if !(tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--")) {
        return None;
    }
    Some(name)
}

/// The domain of a mail address (`user@example.com`, `<user@example.com>`).
pub(crate) fn address_domain(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, domain) = address.rsplit_once('@')?;
    normalise_domain(domain)
}

/// Append the IP addresses written in `text` that could be an abuse source (not
/// unspecified, loopback, private, link-local, multicast or CGNAT shared space).
pub(crate) fn find_ips(text: &str, out: &mut Vec<IpAddr>) {
    let text = refang(text);
    for token in text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
        let token = token.trim_matches(|c| c == '.' || c == ':');
        if token.len() < 7 {
            continue;
        }
        let ip = if token.bytes().filter(|&b| b == b'.').count() == 3 && !token.contains(':') {
            token.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
        } else if token.bytes().filter(|&b| b == b':').count() >= 2 {
            token.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            None
        };
        if let Some(ip) = ip
            && is_reportable(ip)
            && !out.contains(&ip)
        {
            out.push(ip);
            if out.len() >= MAX_ITEMS {
                return;
            }
        }
    }
}

fn is_reportable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xfe00) == 0xfc00)
        }
    }
}

pub(crate) fn push_unique(out: &mut Vec<String>, item: String) {
    if out.len() < MAX_ITEMS && !out.iter().any(|x| *x == item) {
        out.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_cut_at_japanese_text_and_punctuation() {
        let mut urls = Vec::new();
        find_urls(
            "見てください http://spam.example/a?b=1&amp;c=2です。 (see https://x.example/p). hxxp://bad[.]example/z",
            &mut urls,
        );
        assert_eq!(
            urls,
            [
                "http://spam.example/a?b=1&c=2",
                "https://x.example/p",
                "http://bad.example/z"
            ]
        );
    }

    #[test]
    fn ips_skip_private_and_versions() {
        let mut ips = Vec::new();
        find_ips(
            "from 203.0.113.7, not 192.168.1.1 nor V1.3.3 nor 10:30:00; v6 2001:db8::25.",
            &mut ips,
        );
        assert_eq!(
            ips,
            [
                "203.0.113.7".parse::<IpAddr>().unwrap(),
                "2001:db8::25".parse().unwrap()
            ]
        );
    }

    #[test]
    fn keywords_prefer_specific_kinds_and_skip_footers() {
        assert_eq!(
            kind_from_keywords(["迷惑メールが届きました。フィッシングサイトへ誘導しています。"]),
            Some(ReportKind::Phishing)
        );
        assert_eq!(
            kind_from_keywords(["This spam was sent.\nThis email has been scanned for viruses."]),
            Some(ReportKind::Spam)
        );
        assert_eq!(kind_from_keywords(["hello"]), None);
        assert_eq!(
            kind_from_keywords(["プロバイダ責任制限法に基づく発信者情報開示請求"]),
            Some(ReportKind::Disclosure)
        );
    }

    #[test]
    fn language() {
        assert_eq!(
            detect_language("貴社のネットワークから迷惑メールが送信されています。"),
            Language::Ja
        );
        assert_eq!(
            detect_language("Please stop the spam from your network."),
            Language::En
        );
        assert_eq!(
            detect_language("Bitte stoppen Sie den Versand."),
            Language::Other
        );
        assert_eq!(detect_language(""), Language::Other);
    }

    #[test]
    fn unlabelled_japanese() {
        let text = "迷惑メールについて";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        let (euc, _, _) = encoding_rs::EUC_JP.encode(text);
        let (jis, _, _) = encoding_rs::ISO_2022_JP.encode(text);
        assert_eq!(decode_unlabelled(&sjis), text);
        assert_eq!(decode_unlabelled(&euc), text);
        assert_eq!(decode_unlabelled(&jis), text);
    }
}
