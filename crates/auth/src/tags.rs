//! Tag=value lists (RFC 6376 section 3.2), shared by DKIM signatures and key records and by
//! DomainKeys (RFC 4870 section 3.2) signatures, keys and policies.

/// Largest tag list we parse (a DKIM-Signature is rarely over a few kB).
const MAX_LEN: usize = 64 * 1024;

/// A parsed tag list: names in order of appearance, values with folding whitespace
/// trimmed at both ends (inner whitespace kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagList {
    tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("tag list over {MAX_LEN} octets")]
    TooLong,
    #[error("tag list is not valid: {0}")]
    Syntax(String),
    #[error("duplicate tag {0}=")]
    Duplicate(String),
}

impl TagList {
    /// Parses `tag-list = tag-spec *( ";" tag-spec ) [ ";" ]`. Tag names are
    /// `ALPHA *( ALPHA / DIGIT / "_" )`; values are `%x21-3A / %x3C-7E` runs separated by
    /// whitespace. A name given twice is an error (RFC 6376 section 3.2).
    pub fn parse(input: &[u8]) -> Result<TagList, TagError> {
        if input.len() > MAX_LEN {
            return Err(TagError::TooLong);
        }
        let mut tags: Vec<(String, String)> = Vec::new();
        for spec in input.split(|&b| b == b';') {
            if spec.iter().all(|b| is_fws(*b)) {
                continue;
            }
            let eq = spec
                .iter()
                .position(|&b| b == b'=')
                .ok_or_else(|| TagError::Syntax(format!("{:?} has no '='", lossy(spec))))?;
            let name = trim(&spec[..eq]);
            let value = trim(&spec[eq + 1..]);
            let name_ok = name.first().is_some_and(u8::is_ascii_alphabetic)
                && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
            if !name_ok {
                return Err(TagError::Syntax(format!(
                    "invalid tag name {:?}",
                    lossy(name)
                )));
            }
            if let Some(bad) = value
                .iter()
                .find(|b| !(is_fws(**b) || (0x21..=0x7e).contains(*b)))
            {
                return Err(TagError::Syntax(format!(
                    "invalid byte {bad:#04x} in {}=",
                    lossy(name)
                )));
            }
            let name = lossy(name);
            if tags.iter().any(|(n, _)| *n == name) {
                return Err(TagError::Duplicate(name));
            }
            tags.push((name, lossy(value)));
        }
        Ok(TagList { tags })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value with all whitespace removed (base64 tags: `b=`, `bh=`, `p=`).
    pub fn get_compact(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| v.chars().filter(|c| !c.is_ascii_whitespace()).collect())
    }

    pub fn first_name(&self) -> Option<&str> {
        self.tags.first().map(|(n, _)| n.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(|(n, _)| n.as_str())
    }

    /// A colon-separated list value, each item trimmed.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|v| {
            v.split(':')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
}

fn is_fws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !is_fws(*b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_fws(*b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// The header value with the `b=` tag's value removed and without the field's final CRLF,
/// as RFC 6376 section 3.7 hashes the DKIM-Signature: whitespace before the tag name, the
/// name and `=` are kept; everything up to the next `;` goes.
pub fn strip_b_value(value: &[u8]) -> Vec<u8> {
    let value = value
        .strip_suffix(b"\r\n")
        .or_else(|| value.strip_suffix(b"\n"))
        .unwrap_or(value);
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    loop {
        let (segment, tail, terminated) = match rest.iter().position(|&b| b == b';') {
            Some(p) => (&rest[..p], &rest[p + 1..], true),
            None => (rest, &rest[rest.len()..], false),
        };
        let start = segment
            .iter()
            .position(|b| !is_fws(*b))
            .unwrap_or(segment.len());
        let is_b = segment.get(start).is_some_and(|c| *c == b'b' || *c == b'B') && {
            let after = &segment[start + 1..];
            let eq = after
                .iter()
                .position(|b| !is_fws(*b))
                .unwrap_or(after.len());
            after.get(eq) == Some(&b'=')
        };
        if is_b {
            let eq = segment
                .iter()
                .position(|&b| b == b'=')
                .unwrap_or(segment.len());
            out.extend_from_slice(&segment[..(eq + 1).min(segment.len())]);
        } else {
            out.extend_from_slice(segment);
        }
        if terminated {
            out.push(b';');
            rest = tail;
        } else {
            return out;
        }
    }
}

/// `sub-domain *("." sub-domain)` with LDH labels (RFC 5321 `Domain`), 253 octets at most.
pub fn is_domain_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let t =
            TagList::parse(b" v=1; a=rsa-sha256;\r\n\tb= dGVz\r\n  dA== ; h=from : to;").unwrap();
        assert_eq!(t.get("v"), Some("1"));
        assert_eq!(t.get_compact("b").as_deref(), Some("dGVzdA=="));
        assert_eq!(t.list("h").unwrap(), vec!["from", "to"]);
        assert_eq!(t.first_name(), Some("v"));
        assert!(matches!(
            TagList::parse(b"a=1; a=2"),
            Err(TagError::Duplicate(_))
        ));
        assert!(TagList::parse(b"1a=x").is_err());
        assert!(TagList::parse(b"novalue").is_err());
        assert!(TagList::parse(b"a=\x80").is_err());
        assert_eq!(TagList::parse(b"a=").unwrap().get("a"), Some(""));
    }

    #[test]
    fn strips_b() {
        assert_eq!(
            strip_b_value(b"v=1; bh=abc; b=sig\r\n more; d=x"),
            b"v=1; bh=abc; b=; d=x".to_vec()
        );
        assert_eq!(strip_b_value(b"v=1; b = sig"), b"v=1; b =".to_vec());
        assert_eq!(strip_b_value(b"b=sig;"), b"b=;".to_vec());
        assert_eq!(strip_b_value(b"b=abc;h=From\r\n"), b"b=;h=From".to_vec());
    }

    #[test]
    fn domain_names() {
        assert!(is_domain_name("example.com"));
        assert!(is_domain_name("_sub.example.com"));
        assert!(!is_domain_name("-bad.example.com"));
        assert!(!is_domain_name("a..b"));
        assert!(!is_domain_name("exa mple.com"));
    }
}
