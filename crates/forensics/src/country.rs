//! Country of an IP address from the RIRs' delegated statistics.
//!
//! By default the data embedded in the `iptocc` crate answers. An operator who wants
//! fresher data downloads the five `delegated-<rir>-extended-latest` files and passes them
//! in; [`DelegatedTable::parse`] reads them from bytes (the caller does the file I/O), so
//! this module stays pure. The table also knows which registry delegated the block.

use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;

/// Where country answers come from.
#[derive(Debug, Clone, Default)]
pub enum CountryDb {
    /// The RIR data embedded at build time (`iptocc`).
    #[default]
    Embedded,
    /// Tables loaded from delegated-statistics files.
    Delegated(Arc<DelegatedTable>),
    /// No country lookups.
    Disabled,
}

/// The answer for one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, upper case (`JP`), or `EU`/`AP` for regional blocks.
    pub code: String,
    /// The delegating registry (`apnic`, `arin`, `ripencc`, `lacnic`, `afrinic`) when known.
    pub registry: Option<String>,
}

impl CountryDb {
    pub fn lookup(&self, ip: IpAddr) -> Option<Country> {
        match self {
            CountryDb::Embedded => iptocc::country_code(ip).map(|c| Country {
                code: c.to_string(),
                registry: None,
            }),
            CountryDb::Delegated(t) => t.lookup(ip),
            CountryDb::Disabled => None,
        }
    }
}

/// A range table built from delegated-statistics files.
#[derive(Debug, Default)]
pub struct DelegatedTable {
    v4: Vec<(u32, u32, u16)>,
    v6: Vec<(u128, u128, u16)>,
    /// Interned (country, registry) pairs.
    names: Vec<(String, String)>,
    pub records: usize,
}

/// A line of a delegated-statistics file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct DelegatedError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl DelegatedTable {
    /// Reads one or more files in the RIR statistics exchange format
    /// (`registry|cc|type|start|value|date|status[|opaque-id[|...]]`). Version, summary and
    /// comment lines are skipped; `available` and `reserved` blocks carry no country and
    /// are skipped. Malformed record lines are returned as errors together with the
    /// table built from the rest, so one bad line does not discard a file.
    pub fn parse<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> (DelegatedTable, Vec<DelegatedError>) {
        let mut t = DelegatedTable::default();
        let mut errors = Vec::new();
        for (file, bytes) in files {
            let text = String::from_utf8_lossy(bytes);
            let mut saw_version = false;
            for (no, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let f: Vec<&str> = line.split('|').collect();
                if !saw_version
                    && f.len() >= 3
                    && f[0].bytes().all(|b| b.is_ascii_digit() || b == b'.')
                {
                    saw_version = true; // version line: `2|apnic|20240101|...`
                    continue;
                }
                if f.len() >= 6 && f[5] == "summary" {
                    continue;
                }
                if f.len() < 7 {
                    errors.push(DelegatedError {
                        file: file.into(),
                        line: no + 1,
                        reason: format!("expected at least 7 fields, found {}", f.len()),
                    });
                    continue;
                }
                let (registry, cc, kind, start, value, status) =
                    (f[0], f[1], f[2], f[3], f[4], f[6]);
                if kind == "asn" {
                    continue;
                }
                if !matches!(status, "allocated" | "assigned") || cc.len() != 2 || cc == "ZZ" {
                    continue;
                }
                let idx = t.intern(cc, registry);
                let err = |reason: String| DelegatedError {
                    file: file.into(),
                    line: no + 1,
                    reason,
                };
                match kind {
                    "ipv4" => {
                        let Ok(s) = start.parse::<std::net::Ipv4Addr>() else {
                            errors.push(err(format!("bad IPv4 start `{start}`")));
                            continue;
                        };
                        let Ok(count) = value.parse::<u64>() else {
                            errors.push(err(format!("bad IPv4 count `{value}`")));
                            continue;
                        };
                        let s = u64::from(u32::from(s));
                        if count == 0 || s + count - 1 > u64::from(u32::MAX) {
                            errors
                                .push(err(format!("IPv4 block {start} + {count} is out of range")));
                            continue;
                        }
                        t.v4.push((s as u32, (s + count - 1) as u32, idx));
                    }
                    "ipv6" => {
                        let Ok(s) = start.parse::<std::net::Ipv6Addr>() else {
                            errors.push(err(format!("bad IPv6 start `{start}`")));
                            continue;
                        };
                        let Ok(len) = value.parse::<u32>() else {
                            errors.push(err(format!("bad IPv6 prefix length `{value}`")));
                            continue;
                        };
                        if len > 128 {
                            errors.push(err(format!("IPv6 prefix length {len} is over 128")));
                            continue;
                        }
                        let s = u128::from(s);
                        let host_bits = 128 - len;
                        let span = if host_bits == 128 {
                            u128::MAX
                        } else {
                            (1u128 << host_bits) - 1
                        };
                        t.v6.push((s, s.saturating_add(span), idx));
                    }
                    other => errors.push(err(format!("unknown record type `{other}`"))),
                }
                t.records += 1;
            }
        }
        t.v4.sort_unstable();
        t.v6.sort_unstable();
        (t, errors)
    }

    fn intern(&mut self, cc: &str, registry: &str) -> u16 {
        let cc = cc.to_ascii_uppercase();
        if let Some(p) = self
            .names
            .iter()
            .position(|(c, r)| *c == cc && r == registry)
        {
            return p as u16;
        }
        self.names.push((cc, registry.to_string()));
        (self.names.len() - 1) as u16
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<Country> {
        let idx = match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4))?,
            IpAddr::V6(v6) => find(&self.v6, u128::from(v6))?,
        };
        let (cc, reg) = self.names.get(usize::from(idx))?;
        Some(Country {
            code: cc.clone(),
            registry: Some(reg.clone()),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

fn find<T: Ord + Copy>(ranges: &[(T, T, u16)], x: T) -> Option<u16> {
    // Last range starting at or before x; blocks do not overlap in RIR data.
    let pos = ranges.partition_point(|r| r.0 <= x);
    let r = ranges.get(pos.checked_sub(1)?)?;
    (x <= r.1).then_some(r.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APNIC: &str = "2|apnic|20240101|3|19830613|20240101|+1000\n\
apnic|*|ipv4|*|2|summary\n\
apnic|JP|ipv4|143.90.0.0|65536|19910101|allocated|A1\n\
apnic|KR|ipv4|210.107.0.0|4096|19980101|assigned\n\
apnic|JP|ipv6|2001:240::|32|20000101|allocated\n\
apnic||ipv4|1.0.0.0|256|20110101|available\n\
apnic|JP|ipv4|bogus|256|20110101|allocated\n";

    #[test]
    fn delegated_files() {
        let (t, errors) =
            DelegatedTable::parse([("delegated-apnic-extended-latest", APNIC.as_bytes())]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 7);
        let jp = t.lookup("143.90.172.25".parse().unwrap()).unwrap();
        assert_eq!(jp.code, "JP");
        assert_eq!(jp.registry.as_deref(), Some("apnic"));
        assert_eq!(
            t.lookup("210.107.15.255".parse().unwrap()).unwrap().code,
            "KR"
        );
        assert_eq!(t.lookup("210.107.16.0".parse().unwrap()), None);
        assert_eq!(
            t.lookup("2001:240:10c:1::ca20:9d1d".parse().unwrap())
                .unwrap()
                .code,
            "JP"
        );
        assert_eq!(t.lookup("1.0.0.1".parse().unwrap()), None);
    }

    #[test]
    fn embedded() {
        assert_eq!(
            CountryDb::Embedded
                .lookup("143.90.172.25".parse().unwrap())
                .unwrap()
                .code,
            "JP"
        );
        assert_eq!(
            CountryDb::Disabled.lookup("143.90.172.25".parse().unwrap()),
            None
        );
    }
}
