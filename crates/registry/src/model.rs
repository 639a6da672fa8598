//! The registry's domain types. Each has a parsing constructor that refuses bad values, so
//! a value of one of these types is always valid.
use crate::time::Timestamp;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A problem with one field of one row, as import and deserialisation report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The column or JSON member, e.g. `valid_from`; empty when the problem spans the row.
    pub field: String,
    /// What is wrong, for a person to read.
    pub problem: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, problem: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

/// The caller's identifier of a stored row (the store's primary key, or a line number
/// when an index is built straight from a file). The index reports matches by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowId(pub u64);

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An IPv4 or IPv6 prefix with no bits set past its length (`203.0.113.0/24`, not
/// `203.0.113.7/24`). A bare address parses as a host prefix (/32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix(IpNet);

impl Prefix {
    /// Parses `203.0.113.0/24`, `2001:db8::/48` or a bare address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty prefix".into());
        }
        if let Ok(net) = t.parse::<IpNet>() {
            let trunc = net.trunc();
            if trunc != net {
                return Err(format!(
                    "{t} has host bits set past /{}; did you mean {trunc}?",
                    net.prefix_len()
                ));
            }
            return Ok(Prefix(net));
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Ok(Prefix(IpNet::from(ip)));
        }
        Err(format!(
            "{t:?} is not an IP prefix (expected e.g. 203.0.113.0/24, 2001:db8::/48 or 203.0.113.7)"
        ))
    }

    /// A prefix from a network; host bits are cleared.
    pub fn from_net(net: IpNet) -> Self {
        Prefix(net.trunc())
    }

    /// The host prefix of one address.
    pub fn host(ip: IpAddr) -> Self {
        Prefix(IpNet::from(ip))
    }

    pub fn net(&self) -> IpNet {
        self.0
    }

    pub fn addr(&self) -> IpAddr {
        self.0.network()
    }

    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Prefix::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Longest identifier we accept for contracts.
pub const MAX_ID_LEN: usize = 128;

/// A contract's identifier as the operator's billing system names it (`C-10023`).
/// Non-empty, at most 128 characters, no control characters, no surrounding spaces.
/// Cheap to clone (shared).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContractId(std::sync::Arc<str>);

impl ContractId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty contract id".into());
        }
        if t.chars().count() > MAX_ID_LEN {
            return Err(format!("contract id longer than {MAX_ID_LEN} characters"));
        }
        if t.chars().any(char::is_control) {
            return Err("contract id contains a control character".into());
        }
        Ok(ContractId(t.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ContractId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ContractId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ContractId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A contact mailbox (`abuse@customer.example`): one `@`, a non-empty local part, a
/// domain with a dot, no spaces or control characters, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty email address".into());
        }
        if t.len() > 254 {
            return Err("email address longer than 254 characters".into());
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{t:?} contains a space or control character"));
        }
        let Some((local, domain)) = t.rsplit_once('@') else {
            return Err(format!("{t:?} has no @"));
        };
        if local.is_empty() || local.contains('@') {
            return Err(format!(
                "{t:?} is not one mailbox (local part empty or two @)"
            ));
        }
        if domain.is_empty()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(format!("{t:?} has no valid domain after the @"));
        }
        Ok(Email(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The language notices to a contract are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ja,
    #[default]
    En,
}

impl Language {
    /// `ja` or `en` (case-insensitive; `jp` is taken as Japanese).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ja" | "jp" | "ja-jp" => Ok(Language::Ja),
            "en" | "en-us" | "en-gb" => Ok(Language::En),
            other => Err(format!("{other:?} is not a notice language (ja or en)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

/// A customer contract. `parent` names the contract of the reseller whose end customer
/// this is: notices go to the end customer, escalations to the parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ContractRecord", into = "ContractRecord")]
pub struct Contract {
    pub id: ContractId,
    pub name: String,
    pub parent: Option<ContractId>,
    pub email: Email,
    pub language: Language,
    pub notes: Option<String>,
}

/// A half-open validity interval `[from, to)`: `from` inclusive, `to` exclusive; `None`
/// is unbounded on that side (no `to` = still assigned). Never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Validity {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

impl Validity {
    /// Always valid.
    pub const ALWAYS: Validity = Validity {
        from: None,
        to: None,
    };

    pub fn new(from: Option<Timestamp>, to: Option<Timestamp>) -> Result<Self, String> {
        if let (Some(f), Some(t)) = (from, to)
            && t <= f
        {
            return Err(format!(
                "valid_to {t} is not after valid_from {f} (intervals are [valid_from, valid_to))"
            ));
        }
        Ok(Validity { from, to })
    }

    pub fn from(&self) -> Option<Timestamp> {
        self.from
    }

    pub fn to(&self) -> Option<Timestamp> {
        self.to
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        self.from.is_none_or(|f| f <= at) && self.to.is_none_or(|t| at < t)
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.from {
            Some(t) => write!(f, "[{t}, ")?,
            None => f.write_str("(always, ")?,
        }
        match self.to {
            Some(t) => write!(f, "{t})"),
            None => f.write_str("open)"),
        }
    }
}

/// An inclusive range of source ports `from..=to` (CGNAT port blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PortRangeRecord")]
pub struct PortRange {
    from: u16,
    to: u16,
}

#[derive(Deserialize)]
struct PortRangeRecord {
    from: u16,
    to: u16,
}

impl TryFrom<PortRangeRecord> for PortRange {
    type Error = String;
    fn try_from(r: PortRangeRecord) -> Result<Self, String> {
        PortRange::new(r.from, r.to)
    }
}

impl PortRange {
    pub fn new(from: u16, to: u16) -> Result<Self, String> {
        if from > to {
            return Err(format!("port_from {from} is greater than port_to {to}"));
        }
        Ok(PortRange { from, to })
    }

    pub fn from(&self) -> u16 {
        self.from
    }

    pub fn to(&self) -> u16 {
        self.to
    }

    pub fn contains(&self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.from, self.to)
    }
}

/// An address assignment: `prefix` was held by `contract` during `validity` (one DHCP
/// lease / RADIUS session, or a static assignment with an open end), optionally only for
/// the source ports in `ports` (CGNAT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AssignmentRecord", into = "AssignmentRecord")]
pub struct Assignment {
    pub prefix: Prefix,
    pub contract: ContractId,
    pub validity: Validity,
    pub ports: Option<PortRange>,
}

/// A DNS name, normalised: lower case, IDNA (punycode) ASCII form, no trailing dot, a
/// leading `*.` removed (every entry already covers its subdomains).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut t = text.trim();
        if let Some(rest) = t.strip_prefix("*.") {
            t = rest;
        }
        let t = t.strip_suffix('.').unwrap_or(t);
        if t.is_empty() {
            return Err("empty domain name".into());
        }
        if t.parse::<IpAddr>().is_ok() {
            return Err(format!(
                "{t} is an IP address, not a domain name (put it in assignments)"
            ));
        }
        let ascii = idna::domain_to_ascii(t)
            .map_err(|_| format!("{t:?} is not a valid domain name (IDNA conversion failed)"))?;
        if ascii.is_empty() || ascii.len() > 253 {
            return Err(format!("{t:?} is not 1-253 characters long"));
        }
        for label in ascii.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(format!(
                    "{t:?} has an empty label or one over 63 characters"
                ));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!(
                    "{t:?} has a label with characters other than letters, digits, - and _"
                ));
            }
        }
        Ok(DomainName(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for DomainName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DomainName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DomainName::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A domain or virtual host we host for `contract` (covers its subdomains; a more
/// specific entry wins), optionally only during `validity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HostedDomainRecord", into = "HostedDomainRecord")]
pub struct HostedDomain {
    pub domain: DomainName,
    pub contract: ContractId,
    pub validity: Validity,
}

/// A block of our own address space. A lookup inside one with no assignment at that
/// time answers "ours, unassigned" rather than "not ours".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub prefix: Prefix,
    #[serde(default)]
    pub description: String,
}

// ---------------------------------------------------------------------------------------
// Building values from named text fields: shared by CSV import, JSON import and serde.

/// A row as named text fields (`None` = absent or empty).
pub(crate) trait Fields {
    fn text(&self, name: &str) -> Result<Option<String>, FieldError>;
}

fn required<F: Fields, T>(
    f: &F,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
    errs: &mut Vec<FieldError>,
) -> Option<T> {
    match f.text(name) {
        Ok(Some(t)) => match parse(&t) {
            Ok(v) => Some(v),
            Err(p) => {
                errs.push(FieldError::new(name, p));
                None
            }
        },
        Ok(None) => {
            errs.push(FieldError::new(name, "required but empty or missing"));
            None
        }
        Err(e) => {
            errs.push(e);
            None
        }
    }
}

/// `Some(None)` = absent (fine), `Some(Some(v))` = parsed, `None` = error recorded.
fn optional<F: Fields, T>(
    f: &F,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
    errs: &mut Vec<FieldError>,
) -> Option<Option<T>> {
    match f.text(name) {
        Ok(Some(t)) => match parse(&t) {
            Ok(v) => Some(Some(v)),
            Err(p) => {
                errs.push(FieldError::new(name, p));
                None
            }
        },
        Ok(None) => Some(None),
        Err(e) => {
            errs.push(e);
            None
        }
    }
}

fn parse_time(t: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(t).map_err(|e| e.to_string())
}

fn parse_port(t: &str) -> Result<u16, String> {
    t.trim()
        .parse::<u16>()
        .map_err(|_| format!("{t:?} is not a port number 0-65535"))
}

fn parse_text(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |t: &str| {
        let t = t.trim();
        if t.chars().count() > max {
            Err(format!("longer than {max} characters"))
        } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            Err("contains a control character".into())
        } else {
            Ok(t.to_string())
        }
    }
}

fn validity_from<F: Fields>(f: &F, errs: &mut Vec<FieldError>) -> Option<Validity> {
    let from = optional(f, "valid_from", parse_time, errs);
    let to = optional(f, "valid_to", parse_time, errs);
    let (from, to) = (from?, to?);
    match Validity::new(from, to) {
        Ok(v) => Some(v),
        Err(p) => {
            errs.push(FieldError::new("valid_to", p));
            None
        }
    }
}

impl Assignment {
    pub(crate) fn from_fields<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let prefix = required(f, "prefix", Prefix::parse, &mut errs);
        let contract = required(f, "contract", ContractId::parse, &mut errs);
        let validity = validity_from(f, &mut errs);
        let pf = optional(f, "port_from", parse_port, &mut errs);
        let pt = optional(f, "port_to", parse_port, &mut errs);
        let ports = match (pf, pt) {
            (Some(Some(a)), Some(Some(b))) => match PortRange::new(a, b) {
                Ok(r) => Some(Some(r)),
                Err(p) => {
                    errs.push(FieldError::new("port_to", p));
                    None
                }
            },
            (Some(None), Some(None)) => Some(None),
            (Some(Some(_)), Some(None)) => {
                errs.push(FieldError::new(
                    "port_to",
                    "port_from is set but port_to is empty (give both or neither)",
                ));
                None
            }
            (Some(None), Some(Some(_))) => {
                errs.push(FieldError::new(
                    "port_from",
                    "port_to is set but port_from is empty (give both or neither)",
                ));
                None
            }
            _ => None,
        };
        match (prefix, contract, validity, ports, errs.is_empty()) {
            (Some(prefix), Some(contract), Some(validity), Some(ports), true) => Ok(Assignment {
                prefix,
                contract,
                validity,
                ports,
            }),
            _ => Err(errs),
        }
    }
}

impl Contract {
    pub(crate) fn from_fields<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let id = required(f, "id", ContractId::parse, &mut errs);
        let name = required(
            f,
            "name",
            |t| {
                let v = parse_text(512)(t)?;
                if v.is_empty() {
                    Err("empty name".to_string())
                } else {
                    Ok(v)
                }
            },
            &mut errs,
        );
        let parent = optional(f, "parent", ContractId::parse, &mut errs);
        let email = required(f, "email", Email::parse, &mut errs);
        let language = optional(f, "language", Language::parse, &mut errs);
        let notes = optional(f, "notes", parse_text(10_000), &mut errs);
        if let (Some(id), Some(Some(parent))) = (&id, &parent)
            && id == parent
        {
            errs.push(FieldError::new(
                "parent",
                "a contract cannot be its own parent",
            ));
        }
        match (id, name, parent, email, language, notes, errs.is_empty()) {
            (
                Some(id),
                Some(name),
                Some(parent),
                Some(email),
                Some(language),
                Some(notes),
                true,
            ) => Ok(Contract {
                id,
                name,
                parent,
                email,
                language: language.unwrap_or_default(),
                notes: notes.filter(|n| !n.is_empty()),
            }),
            _ => Err(errs),
        }
    }
}

impl HostedDomain {
    pub(crate) fn from_fields<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let domain = required(f, "domain", DomainName::parse, &mut errs);
        let contract = required(f, "contract", ContractId::parse, &mut errs);
        let validity = validity_from(f, &mut errs);
        match (domain, contract, validity, errs.is_empty()) {
            (Some(domain), Some(contract), Some(validity), true) => Ok(HostedDomain {
                domain,
                contract,
                validity,
            }),
            _ => Err(errs),
        }
    }
}

impl Network {
    pub(crate) fn from_fields<F: Fields>(f: &F) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let prefix = required(f, "prefix", Prefix::parse, &mut errs);
        let description = optional(f, "description", parse_text(512), &mut errs);
        match (prefix, description, errs.is_empty()) {
            (Some(prefix), Some(description), true) => Ok(Network {
                prefix,
                description: description.unwrap_or_default(),
            }),
            _ => Err(errs),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Serde records: the flat JSON shapes (the same names as the CSV columns).

fn join(errs: Vec<FieldError>) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A JSON scalar as a field's text: strings as they are, numbers in decimal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Text(String),
    Number(serde_json::Number),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Number(n) => n.to_string(),
        }
    }
}

fn opt_text(v: &Option<Scalar>) -> Option<String> {
    v.as_ref()
        .map(Scalar::text)
        .filter(|t| !t.trim().is_empty())
}

fn ts_opt(t: Option<Timestamp>) -> Option<Scalar> {
    t.map(|t| Scalar::Text(t.to_string()))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignmentRecord {
    prefix: Option<Scalar>,
    contract: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_from: Option<Scalar>,
    #[serde(default)]
    valid_to: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port_from: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port_to: Option<Scalar>,
}

impl Fields for AssignmentRecord {
    fn text(&self, name: &str) -> Result<Option<String>, FieldError> {
        Ok(opt_text(match name {
            "prefix" => &self.prefix,
            "contract" => &self.contract,
            "valid_from" => &self.valid_from,
            "valid_to" => &self.valid_to,
            "port_from" => &self.port_from,
            "port_to" => &self.port_to,
            _ => return Ok(None),
        }))
    }
}

impl TryFrom<AssignmentRecord> for Assignment {
    type Error = String;
    fn try_from(r: AssignmentRecord) -> Result<Self, String> {
        Assignment::from_fields(&r).map_err(join)
    }
}

impl From<Assignment> for AssignmentRecord {
    fn from(a: Assignment) -> Self {
        AssignmentRecord {
            prefix: Some(Scalar::Text(a.prefix.to_string())),
            contract: Some(Scalar::Text(a.contract.0.to_string())),
            valid_from: ts_opt(a.validity.from),
            valid_to: ts_opt(a.validity.to),
            port_from: a.ports.map(|p| Scalar::Number(p.from.into())),
            port_to: a.ports.map(|p| Scalar::Number(p.to.into())),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContractRecord {
    id: Option<Scalar>,
    name: Option<Scalar>,
    #[serde(default)]
    parent: Option<Scalar>,
    email: Option<Scalar>,
    #[serde(default)]
    language: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<Scalar>,
}

impl Fields for ContractRecord {
    fn text(&self, name: &str) -> Result<Option<String>, FieldError> {
        Ok(opt_text(match name {
            "id" => &self.id,
            "name" => &self.name,
            "parent" => &self.parent,
            "email" => &self.email,
            "language" => &self.language,
            "notes" => &self.notes,
            _ => return Ok(None),
        }))
    }
}

impl TryFrom<ContractRecord> for Contract {
    type Error = String;
    fn try_from(r: ContractRecord) -> Result<Self, String> {
        Contract::from_fields(&r).map_err(join)
    }
}

impl From<Contract> for ContractRecord {
    fn from(c: Contract) -> Self {
        ContractRecord {
            id: Some(Scalar::Text(c.id.0.to_string())),
            name: Some(Scalar::Text(c.name)),
            parent: c.parent.map(|p| Scalar::Text(p.0.to_string())),
            email: Some(Scalar::Text(c.email.0)),
            language: Some(Scalar::Text(c.language.as_str().to_string())),
            notes: c.notes.map(Scalar::Text),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostedDomainRecord {
    domain: Option<Scalar>,
    contract: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_from: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_to: Option<Scalar>,
}

impl Fields for HostedDomainRecord {
    fn text(&self, name: &str) -> Result<Option<String>, FieldError> {
        Ok(opt_text(match name {
            "domain" => &self.domain,
            "contract" => &self.contract,
            "valid_from" => &self.valid_from,
            "valid_to" => &self.valid_to,
            _ => return Ok(None),
        }))
    }
}

impl TryFrom<HostedDomainRecord> for HostedDomain {
    type Error = String;
    fn try_from(r: HostedDomainRecord) -> Result<Self, String> {
        HostedDomain::from_fields(&r).map_err(join)
    }
}

impl From<HostedDomain> for HostedDomainRecord {
    fn from(d: HostedDomain) -> Self {
        HostedDomainRecord {
            domain: Some(Scalar::Text(d.domain.0)),
            contract: Some(Scalar::Text(d.contract.0.to_string())),
            valid_from: ts_opt(d.validity.from),
            valid_to: ts_opt(d.validity.to),
        }
    }
}

impl Serialize for Validity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Validity", 2)?;
        st.serialize_field("valid_from", &self.from)?;
        st.serialize_field("valid_to", &self.to)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Validity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct V {
            #[serde(default)]
            valid_from: Option<Timestamp>,
            #[serde(default)]
            valid_to: Option<Timestamp>,
        }
        let v = V::deserialize(d)?;
        Validity::new(v.valid_from, v.valid_to).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_refuses_host_bits_and_suggests() {
        let e = Prefix::parse("203.0.113.7/24").unwrap_err();
        assert!(e.contains("did you mean 203.0.113.0/24"), "{e}");
        assert_eq!(Prefix::parse("203.0.113.7").unwrap().prefix_len(), 32);
        assert_eq!(Prefix::parse("2001:db8::1").unwrap().prefix_len(), 128);
        assert!(Prefix::parse("203.0.113.0/33").is_err());
        assert!(Prefix::parse("example.com").is_err());
    }

    #[test]
    fn domain_names_are_normalised() {
        assert_eq!(
            DomainName::parse("WWW.Example.COM.").unwrap().as_str(),
            "www.example.com"
        );
        assert_eq!(
            DomainName::parse("*.example.com").unwrap().as_str(),
            "example.com"
        );
        assert_eq!(
            DomainName::parse("例え.jp").unwrap().as_str(),
            "xn--r8jz45g.jp"
        );
        assert!(DomainName::parse("203.0.113.7").is_err());
        assert!(DomainName::parse("a..b").is_err());
        assert!(DomainName::parse("exa mple.com").is_err());
    }

    #[test]
    fn email_checks() {
        assert!(Email::parse("abuse@example.net").is_ok());
        assert!(Email::parse("abuse@localhost").is_err());
        assert!(Email::parse("a b@example.net").is_err());
        assert!(Email::parse("@example.net").is_err());
    }

    #[test]
    fn validity_is_half_open() {
        let a = Timestamp::from_unix(100).unwrap();
        let b = Timestamp::from_unix(200).unwrap();
        let v = Validity::new(Some(a), Some(b)).unwrap();
        assert!(v.contains(a));
        assert!(!v.contains(b));
        assert!(Validity::new(Some(b), Some(a)).is_err());
        assert!(Validity::new(Some(a), Some(a)).is_err());
        assert!(
            Validity::new(Some(a), None)
                .unwrap()
                .contains(Timestamp::MAX)
        );
    }

    #[test]
    fn assignment_serde_round_trip() {
        let json = r#"{"prefix":"100.64.0.1","contract":"C-1","valid_from":"2024-01-01T00:00:00Z","valid_to":null,"port_from":1024,"port_to":2047}"#;
        let a: Assignment = serde_json::from_str(json).unwrap();
        assert_eq!(a.ports, Some(PortRange::new(1024, 2047).unwrap()));
        let back = serde_json::to_string(&a).unwrap();
        assert_eq!(
            back,
            r#"{"prefix":"100.64.0.1/32","contract":"C-1","valid_from":"2024-01-01T00:00:00Z","valid_to":null,"port_from":1024,"port_to":2047}"#
        );
        let bad = r#"{"prefix":"100.64.0.1/24","contract":"","valid_to":"x"}"#;
        let e = serde_json::from_str::<Assignment>(bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("prefix:") && e.contains("contract:") && e.contains("valid_to:"),
            "{e}"
        );
    }

    #[test]
    fn contract_serde_round_trip() {
        let json = r#"{"id":"C-2","name":"Shop","parent":"R-1","email":"abuse@shop.example","language":"ja"}"#;
        let c: Contract = serde_json::from_str(json).unwrap();
        assert_eq!(c.language, Language::Ja);
        let back: Contract = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
