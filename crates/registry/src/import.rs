//! Import from CSV and JSON, with every problem reported by row and column.
//!
//! Formats are documented in `docs/registry.md`. Parsing never stops at the first bad
//! row: all problems are collected (up to [`MAX_ERRORS`]; the rest are counted) so an
//! operator can fix a file in one pass.
use crate::model::{Assignment, Contract, FieldError, Fields, HostedDomain, Network};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// How many problems are listed before the rest are only counted.
pub const MAX_ERRORS: usize = 1000;

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// The whole input (e.g. not JSON at all, missing header).
    Input,
    /// A CSV line (1-based; the header is line 1).
    Line { line: u64 },
    /// The element `index` (0-based) of the JSON array `section`.
    Element { section: String, index: usize },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Input => f.write_str("input"),
            Location::Line { line } => write!(f, "line {line}"),
            Location::Element { section, index } => write!(f, "{section}[{index}]"),
        }
    }
}

/// One problem: where, which column, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub location: Location,
    /// Column / member name; empty when the problem concerns the whole row.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.location, self.problem)
        } else {
            write!(
                f,
                "{}, column {}: {}",
                self.location, self.field, self.problem
            )
        }
    }
}

/// Every problem found in one input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, thiserror::Error)]
pub struct ImportErrors {
    pub errors: Vec<RowError>,
    /// Problems beyond [`MAX_ERRORS`], counted but not listed.
    pub omitted: usize,
}

impl ImportErrors {
    fn push(&mut self, e: RowError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        } else {
            self.omitted += 1;
        }
    }

    fn push_fields(&mut self, location: &Location, errs: Vec<FieldError>) {
        for e in errs {
            self.push(RowError {
                location: location.clone(),
                field: e.field,
                problem: e.problem,
            });
        }
    }

    fn input(problem: impl Into<String>) -> Self {
        let mut e = ImportErrors::default();
        e.push(RowError {
            location: Location::Input,
            field: String::new(),
            problem: problem.into(),
        });
        e
    }

    /// Number of problems, listed or not.
    pub fn count(&self) -> usize {
        self.errors.len() + self.omitted
    }

    fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the import", self.count())?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        if self.omitted > 0 {
            write!(f, "\n  ... and {} more", self.omitted)?;
        }
        Ok(())
    }
}

/// The kinds of row the registry imports, with their CSV columns.
trait RowKind: Sized {
    const SECTION: &'static str;
    const REQUIRED: &'static [&'static str];
    const OPTIONAL: &'static [&'static str];
    fn build<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>>;
}

impl RowKind for Assignment {
    const SECTION: &'static str = "assignments";
    const REQUIRED: &'static [&'static str] = &["prefix", "contract", "valid_from", "valid_to"];
    const OPTIONAL: &'static [&'static str] = &["port_from", "port_to"];
    fn build<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        Assignment::from_fields(f)
    }
}

impl RowKind for Contract {
    const SECTION: &'static str = "contracts";
    const REQUIRED: &'static [&'static str] = &["id", "name", "email"];
    const OPTIONAL: &'static [&'static str] = &["parent", "language", "notes"];
    fn build<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        Contract::from_fields(f)
    }
}

impl RowKind for HostedDomain {
    const SECTION: &'static str = "domains";
    const REQUIRED: &'static [&'static str] = &["domain", "contract"];
    const OPTIONAL: &'static [&'static str] = &["valid_from", "valid_to"];
    fn build<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        HostedDomain::from_fields(f)
    }
}

impl RowKind for Network {
    const SECTION: &'static str = "networks";
    const REQUIRED: &'static [&'static str] = &["prefix"];
    const OPTIONAL: &'static [&'static str] = &["description"];
    fn build<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        Network::from_fields(f)
    }
}

// ---------------------------------------------------------------------------------------
// CSV

struct CsvRow<'a> {
    columns: &'a BTreeMap<String, usize>,
    record: &'a csv::ByteRecord,
}

impl Fields for CsvRow<'_> {
    fn text(&self, name: &str) -> Result<Option<String>, FieldError> {
        let Some(&i) = self.columns.get(name) else {
            return Ok(None);
        };
        let Some(raw) = self.record.get(i) else {
            return Ok(None);
        };
        match std::str::from_utf8(raw) {
            Ok(t) if t.trim().is_empty() => Ok(None),
            Ok(t) => Ok(Some(t.trim().to_string())),
            Err(_) => Err(FieldError::new(name, "not valid UTF-8")),
        }
    }
}

fn parse_csv<T: RowKind>(input: &[u8]) -> Result<Vec<T>, ImportErrors> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(input);
    let mut errors = ImportErrors::default();
    let mut records = reader.byte_records();

    // The header: first non-comment record.
    let header = match records.next() {
        None => {
            return Err(ImportErrors::input(format!(
                "empty input: expected a header line naming the columns ({})",
                T::REQUIRED.join(",")
            )));
        }
        Some(Err(e)) => return Err(ImportErrors::input(format!("unreadable header: {e}"))),
        Some(Ok(h)) => h,
    };
    let header_line = header.position().map_or(1, |p| p.line());
    let mut columns = BTreeMap::new();
    let known = |n: &str| T::REQUIRED.contains(&n) || T::OPTIONAL.contains(&n);
    let hloc = Location::Line { line: header_line };
    for (i, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw).trim().to_ascii_lowercase();
        if !known(&name) {
            errors.push(RowError {
                location: hloc.clone(),
                field: name.clone(),
                problem: format!(
                    "unknown column {name:?}; the {} columns are {}",
                    T::SECTION,
                    T::REQUIRED
                        .iter()
                        .chain(T::OPTIONAL)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            });
        } else if columns.insert(name.clone(), i).is_some() {
            errors.push(RowError {
                location: hloc.clone(),
                field: name.clone(),
                problem: "column named twice".into(),
            });
        }
    }
    for req in T::REQUIRED {
        if !columns.contains_key(*req) {
            errors.push(RowError {
                location: hloc.clone(),
                field: (*req).to_string(),
                problem: "required column missing from the header".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let width = header.len();

    let mut out = Vec::new();
    for rec in records {
        let record = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    location: Location::Line { line },
                    field: String::new(),
                    problem: format!("unreadable CSV: {e}"),
                });
                // The csv reader cannot resynchronise after an I/O-level error.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let loc = Location::Line { line };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue; // blank line
        }
        if record.len() != width {
            errors.push(RowError {
                location: loc,
                field: String::new(),
                problem: format!(
                    "{} fields, but the header has {width} columns",
                    record.len()
                ),
            });
            continue;
        }
        match T::build(&CsvRow {
            columns: &columns,
            record: &record,
        }) {
            Ok(v) => {
                if errors.is_empty() {
                    out.push(v);
                }
            }
            Err(errs) => errors.push_fields(&loc, errs),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Assignments CSV: `prefix,contract,valid_from,valid_to[,port_from,port_to]`.
pub fn assignments_from_csv(input: &[u8]) -> Result<Vec<Assignment>, ImportErrors> {
    parse_csv(input)
}

/// Contracts CSV: `id,name,email[,parent,language,notes]`.
pub fn contracts_from_csv(input: &[u8]) -> Result<Vec<Contract>, ImportErrors> {
    parse_csv(input)
}

/// Hosted domains CSV: `domain,contract[,valid_from,valid_to]`.
pub fn domains_from_csv(input: &[u8]) -> Result<Vec<HostedDomain>, ImportErrors> {
    parse_csv(input)
}

/// Our networks CSV: `prefix[,description]`.
pub fn networks_from_csv(input: &[u8]) -> Result<Vec<Network>, ImportErrors> {
    parse_csv(input)
}

// ---------------------------------------------------------------------------------------
// JSON

struct JsonRow<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Fields for JsonRow<'_> {
    fn text(&self, name: &str) -> Result<Option<String>, FieldError> {
        use serde_json::Value;
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(FieldError::new(
                name,
                format!(
                    "expected a string or number, found {}",
                    match other {
                        Value::Bool(_) => "a boolean",
                        Value::Array(_) => "an array",
                        _ => "an object",
                    }
                ),
            )),
        }
    }
}

fn parse_json_array<T: RowKind>(
    section: &str,
    value: &serde_json::Value,
    errors: &mut ImportErrors,
) -> Vec<T> {
    let Some(items) = value.as_array() else {
        errors.push(RowError {
            location: Location::Input,
            field: section.to_string(),
            problem: "expected an array of objects".into(),
        });
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let loc = Location::Element {
            section: section.to_string(),
            index,
        };
        let Some(obj) = item.as_object() else {
            errors.push(RowError {
                location: loc,
                field: String::new(),
                problem: "expected an object".into(),
            });
            continue;
        };
        let mut unknown = false;
        for key in obj.keys() {
            if !T::REQUIRED.contains(&key.as_str()) && !T::OPTIONAL.contains(&key.as_str()) {
                unknown = true;
                errors.push(RowError {
                    location: loc.clone(),
                    field: key.clone(),
                    problem: format!(
                        "unknown member; {} have {}",
                        T::SECTION,
                        T::REQUIRED
                            .iter()
                            .chain(T::OPTIONAL)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        match T::build(&JsonRow(obj)) {
            Ok(v) if !unknown => out.push(v),
            Ok(_) => {}
            Err(errs) => errors.push_fields(&loc, errs),
        }
    }
    out
}

fn parse_json_value(input: &[u8]) -> Result<serde_json::Value, ImportErrors> {
    serde_json::from_slice(input).map_err(|e| {
        ImportErrors::input(format!(
            "not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })
}

fn json_section<T: RowKind>(input: &[u8]) -> Result<Vec<T>, ImportErrors> {
    let v = parse_json_value(input)?;
    let mut errors = ImportErrors::default();
    // Accept both a bare array and `{ "<section>": [...] }`.
    let arr = match &v {
        serde_json::Value::Object(o) => match o.get(T::SECTION) {
            Some(a) => a,
            None => {
                return Err(ImportErrors::input(format!(
                    "expected an array or an object with a {:?} array",
                    T::SECTION
                )));
            }
        },
        other => other,
    };
    let rows = parse_json_array::<T>(T::SECTION, arr, &mut errors);
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Assignments JSON: an array of objects with the CSV column names as members (or
/// `{"assignments": [...]}`). Ports may be numbers or strings.
pub fn assignments_from_json(input: &[u8]) -> Result<Vec<Assignment>, ImportErrors> {
    json_section(input)
}

/// Contracts JSON: an array (or `{"contracts": [...]}`).
pub fn contracts_from_json(input: &[u8]) -> Result<Vec<Contract>, ImportErrors> {
    json_section(input)
}

/// Hosted domains JSON: an array (or `{"domains": [...]}`).
pub fn domains_from_json(input: &[u8]) -> Result<Vec<HostedDomain>, ImportErrors> {
    json_section(input)
}

/// Networks JSON: an array (or `{"networks": [...]}`).
pub fn networks_from_json(input: &[u8]) -> Result<Vec<Network>, ImportErrors> {
    json_section(input)
}

/// A whole registry in one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryData {
    pub networks: Vec<Network>,
    pub contracts: Vec<Contract>,
    pub assignments: Vec<Assignment>,
    pub domains: Vec<HostedDomain>,
}

/// A whole registry as JSON: `{"networks": [...], "contracts": [...], "assignments":
/// [...], "domains": [...]}`, every member optional, no others allowed.
pub fn registry_from_json(input: &[u8]) -> Result<RegistryData, ImportErrors> {
    let v = parse_json_value(input)?;
    let Some(obj) = v.as_object() else {
        return Err(ImportErrors::input(
            "expected an object with networks, contracts, assignments and/or domains arrays",
        ));
    };
    let mut errors = ImportErrors::default();
    for key in obj.keys() {
        if !["networks", "contracts", "assignments", "domains"].contains(&key.as_str()) {
            errors.push(RowError {
                location: Location::Input,
                field: key.clone(),
                problem: "unknown member; expected networks, contracts, assignments, domains"
                    .into(),
            });
        }
    }
    let mut data = RegistryData::default();
    if let Some(a) = obj.get("networks") {
        data.networks = parse_json_array("networks", a, &mut errors);
    }
    if let Some(a) = obj.get("contracts") {
        data.contracts = parse_json_array("contracts", a, &mut errors);
    }
    if let Some(a) = obj.get("assignments") {
        data.assignments = parse_json_array("assignments", a, &mut errors);
    }
    if let Some(a) = obj.get("domains") {
        data.domains = parse_json_array("domains", a, &mut errors);
    }
    if errors.is_empty() {
        Ok(data)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_assignments_ok() {
        let csv = b"\xEF\xBB\xBFprefix,contract,valid_from,valid_to,port_from,port_to\n\
# a comment\n\
203.0.113.7,C-1,2002-03-31T00:00:00Z,2002-04-01T00:00:00Z,,\n\
\n\
100.64.0.1/32,C-2,2024-01-01T00:00:00+09:00,,1024,2047\n\
2001:db8::/48,C-3,,,,\n";
        let rows = assignments_from_csv(csv).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].ports.unwrap().to(), 2047);
        assert_eq!(rows[2].validity, crate::model::Validity::ALWAYS);
    }

    #[test]
    fn csv_errors_are_all_collected_with_line_and_column() {
        let csv = "prefix,contract,valid_from,valid_to\n\
203.0.113.7/24,C-1,2002-03-31T00:00:00Z,\n\
203.0.113.8,,2002-03-31T00:00:00,\n\
203.0.113.9,C-1,2002-04-01T00:00:00Z,2002-03-01T00:00:00Z\n\
203.0.113.10,C-1\n";
        let e = assignments_from_csv(csv.as_bytes()).unwrap_err();
        let text: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "line 2, column prefix: 203.0.113.7/24 has host bits set past /24; did you mean 203.0.113.0/24?",
                "line 3, column contract: required but empty or missing",
                "line 3, column valid_from: \"2002-03-31T00:00:00\" has no UTC offset; write it as RFC 3339 with Z or an offset, e.g. 2002-03-31T12:07:53Z or 2002-03-31T21:07:53+09:00",
                "line 4, column valid_to: valid_to 2002-03-01T00:00:00Z is not after valid_from 2002-04-01T00:00:00Z (intervals are [valid_from, valid_to))",
                "line 5: 2 fields, but the header has 4 columns",
            ]
        );
    }

    #[test]
    fn csv_header_problems() {
        let e = assignments_from_csv(b"prefix,contrat,valid_from\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("unknown column \"contrat\""), "{text}");
        assert!(
            text.contains("column contract: required column missing"),
            "{text}"
        );
        assert!(
            text.contains("column valid_to: required column missing"),
            "{text}"
        );
        assert!(assignments_from_csv(b"").is_err());
    }

    #[test]
    fn csv_ports_need_both() {
        let e = assignments_from_csv(
            b"prefix,contract,valid_from,valid_to,port_from,port_to\n100.64.0.1,C,,,1024,\n",
        )
        .unwrap_err();
        assert_eq!(e.errors[0].field, "port_to");
        let e = assignments_from_csv(
            b"prefix,contract,valid_from,valid_to,port_from,port_to\n100.64.0.1,C,,,70000,80000\n",
        )
        .unwrap_err();
        assert_eq!(e.count(), 2);
    }

    #[test]
    fn csv_non_utf8_is_an_error_not_a_panic() {
        let e = assignments_from_csv(b"prefix,contract,valid_from,valid_to\n\xff\xfe,C,,\n")
            .unwrap_err();
        assert_eq!(e.errors[0].location, Location::Line { line: 2 });
    }

    #[test]
    fn csv_error_cap() {
        let mut s = String::from("prefix,contract,valid_from,valid_to\n");
        for _ in 0..(MAX_ERRORS + 10) {
            s.push_str("x,C,,\n");
        }
        let e = assignments_from_csv(s.as_bytes()).unwrap_err();
        assert_eq!(e.errors.len(), MAX_ERRORS);
        assert_eq!(e.omitted, 10);
        assert!(e.to_string().ends_with("... and 10 more"));
    }

    #[test]
    fn contracts_and_domains_csv() {
        let c = contracts_from_csv(
            "id,name,parent,email,language,notes\nR-1,Reseller KK,,noc@reseller.example,ja,\nC-9,\"Shop, Inc.\",R-1,abuse@shop.example,,\"multi\nline\"\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(c[1].name, "Shop, Inc.");
        assert_eq!(c[1].parent.as_ref().unwrap().as_str(), "R-1");
        assert_eq!(c[1].notes.as_deref(), Some("multi\nline"));
        let d = domains_from_csv(
            b"domain,contract,valid_from,valid_to\nshop.example,C-9,,\nWWW.Blog.Example.,C-9,2020-01-01T00:00:00Z,\n",
        )
        .unwrap();
        assert_eq!(d[1].domain.as_str(), "www.blog.example");
        let e = contracts_from_csv(b"id,name,email,parent\nC-1,X,bad,C-1\n").unwrap_err();
        assert_eq!(e.count(), 2);
    }

    #[test]
    fn json_registry_with_per_element_errors() {
        let doc = br#"{
          "networks": [{"prefix": "203.0.113.0/24", "description": "dial-up pool"}],
          "contracts": [{"id": "C-1", "name": "A", "email": "a@a.example"}, {"id": 5, "name": "B"}],
          "assignments": [
            {"prefix": "203.0.113.7", "contract": "C-1", "valid_from": "2002-03-31T00:00:00Z", "valid_to": null},
            {"prefix": "203.0.113.8", "contract": "C-1", "port_from": [1]},
            {"prefix": "203.0.113.9", "contract": "C-1", "vaild_to": "2002-03-31T00:00:00Z"}
          ],
          "extra": 1
        }"#;
        let e = registry_from_json(doc).unwrap_err();
        let text: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "input, column extra: unknown member; expected networks, contracts, assignments, domains",
                "contracts[1], column email: required but empty or missing",
                "assignments[1], column port_from: expected a string or number, found an array",
                "assignments[2], column vaild_to: unknown member; assignments have prefix, contract, valid_from, valid_to, port_from, port_to",
            ]
        );
        let ok =
            registry_from_json(br#"{"assignments":[{"prefix":"203.0.113.7","contract":"C-1"}]}"#)
                .unwrap();
        assert_eq!(ok.assignments.len(), 1);
        assert!(
            registry_from_json(b"{")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
        assert_eq!(
            assignments_from_json(
                br#"[{"prefix":"203.0.113.7","contract":"C-1","port_from":"1","port_to":2}]"#
            )
            .unwrap()[0]
                .ports
                .unwrap()
                .from(),
            1
        );
    }
}
