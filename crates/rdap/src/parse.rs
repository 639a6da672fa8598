//! RDAP (RFC 9083) `ip network` responses: a lenient reading that keeps what an abuse
//! desk needs and notes every irregularity it tolerated.
use crate::bootstrap::Rir;
use crate::contact::{AbuseContact, choose_abuse_contact};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::net::{IpAddr, Ipv4Addr};

/// Entities nested deeper than this are not read (the RIRs nest two levels).
pub const MAX_ENTITY_DEPTH: usize = 8;
/// At most this many entities are read from one response.
pub const MAX_ENTITIES: usize = 500;
/// At most this many mail addresses are kept per entity.
pub const MAX_EMAILS: usize = 50;

/// Why a body is not an RDAP ip network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("the JSON is not an object")]
    NotAnObject,
    #[error("RDAP error response {code}: {title}")]
    ErrorResponse {
        code: i64,
        title: String,
        description: Vec<String>,
    },
    #[error("objectClassName is {0:?}, not \"ip network\"")]
    WrongObjectClass(String),
    #[error(
        "no objectClassName, startAddress, endAddress, cidr0_cidrs or handle: not an ip network"
    )]
    NotAnIpNetwork,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpVersion {
    V4,
    V6,
}

/// An irregularity the parser tolerated; kept so the desk can show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Quirk {
    /// The response has no `objectClassName` (RIPE, 2015).
    MissingObjectClassName,
    /// An IPv4 address written with zero-padded octets (`074.125.000.000`, ARIN 2015);
    /// read as decimal.
    ZeroPaddedAddress { field: String, value: String },
    /// An address with a prefix length appended (`62.239.237.0/32`, RIPE 2015).
    PrefixOnAddress { field: String, value: String },
    /// An address that could not be read at all.
    InvalidAddress { field: String, value: String },
    /// `endAddress` lies before `startAddress`.
    EndBeforeStart,
    /// Start and end are of different families.
    MixedFamilies,
    /// `ipVersion` disagrees with the addresses, or is not `v4`/`v6`.
    IpVersionMismatch { value: String },
    /// A `cidr0_cidrs` element that could not be read.
    InvalidCidr { value: String },
    /// `country` is not a two-letter code.
    InvalidCountry { value: String },
    /// An entity with no `roles` (AfriNIC, 2015).
    EntityWithoutRoles { handle: Option<String> },
    /// A `vcardArray` not of the form `["vcard", [[name, params, type, value], ...]]`.
    MalformedVcard { handle: Option<String> },
    /// A member of the wrong JSON type, ignored.
    WrongType { field: String },
    /// Entities beyond [`MAX_ENTITIES`] or [`MAX_ENTITY_DEPTH`] were not read.
    EntitiesTruncated,
}

/// One entity of the response (flattened; `path` says where it was nested).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub handle: Option<String>,
    /// Lower-cased roles, in the response's order.
    pub roles: Vec<String>,
    /// The vCard `fn` (formatted name).
    pub name: Option<String>,
    /// The vCard `org`.
    pub org: Option<String>,
    /// The vCard `kind` (`individual`, `group`, `org`).
    pub kind: Option<String>,
    /// Mail addresses from the vCard, de-duplicated (case-insensitively), in order.
    pub emails: Vec<String>,
    /// Handles of the entities this one is nested under, outermost first; empty for a
    /// top-level entity.
    pub path: Vec<String>,
}

impl Entity {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// A remark of the network object (`title` and `description` lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remark {
    pub title: Option<String>,
    pub description: Vec<String>,
}

/// The parts of an RDAP `ip network` object an abuse desk uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpNetwork {
    pub handle: Option<String>,
    pub name: Option<String>,
    /// The registry's `type` (`ASSIGNED PA`, `DIRECT ALLOCATION`...).
    #[serde(rename = "type")]
    pub network_type: Option<String>,
    pub ip_version: Option<IpVersion>,
    pub start_address: Option<IpAddr>,
    pub end_address: Option<IpAddr>,
    /// The network as prefixes: `cidr0_cidrs` when given, else computed from the range.
    pub cidrs: Vec<IpNet>,
    /// ISO 3166 alpha-2, upper case.
    pub country: Option<String>,
    pub parent_handle: Option<String>,
    pub status: Vec<String>,
    pub port43: Option<String>,
    /// The registry that published the record, from `port43` or the links.
    pub registry: Option<Rir>,
    pub remarks: Vec<Remark>,
    pub entities: Vec<Entity>,
    /// Who to send abuse reports to, and the rule that chose it.
    pub abuse_contact: Option<AbuseContact>,
    pub quirks: Vec<Quirk>,
}

impl IpNetwork {
    /// Whether the network's range contains `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if !self.cidrs.is_empty() {
            return self.cidrs.iter().any(|c| c.contains(&ip));
        }
        match (self.start_address, self.end_address) {
            (Some(IpAddr::V4(s)), Some(IpAddr::V4(e))) => {
                matches!(ip, IpAddr::V4(a) if s <= a && a <= e)
            }
            (Some(IpAddr::V6(s)), Some(IpAddr::V6(e))) => {
                matches!(ip, IpAddr::V6(a) if s <= a && a <= e)
            }
            _ => false,
        }
    }
}

fn string(obj: &Map<String, Value>, key: &str, quirks: &mut Vec<Quirk>) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            quirks.push(Quirk::WrongType {
                field: key.to_string(),
            });
            None
        }
    }
}

fn strings(obj: &Map<String, Value>, key: &str, quirks: &mut Vec<Quirk>) -> Vec<String> {
    match obj.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(_) => {
            quirks.push(Quirk::WrongType {
                field: key.to_string(),
            });
            Vec::new()
        }
    }
}

/// Reads an address the way the RIRs have written them.
fn address(field: &str, text: &str, quirks: &mut Vec<Quirk>) -> Option<(IpAddr, Option<u8>)> {
    let t = text.trim();
    let (addr, len) = match t.split_once('/') {
        Some((a, l)) => {
            quirks.push(Quirk::PrefixOnAddress {
                field: field.to_string(),
                value: t.to_string(),
            });
            (a.trim(), l.trim().parse::<u8>().ok())
        }
        None => (t, None),
    };
    if let Ok(ip) = addr.parse::<IpAddr>() {
        return Some((ip, len));
    }
    // Zero-padded dotted quad: decimal octets of up to three digits.
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let mut oct = [0u8; 4];
        let mut ok = true;
        for (o, p) in oct.iter_mut().zip(&parts) {
            match p.parse::<u8>() {
                Ok(v) => *o = v,
                Err(_) => ok = false,
            }
        }
        if ok {
            quirks.push(Quirk::ZeroPaddedAddress {
                field: field.to_string(),
                value: t.to_string(),
            });
            return Some((IpAddr::V4(Ipv4Addr::from(oct)), len));
        }
    }
    quirks.push(Quirk::InvalidAddress {
        field: field.to_string(),
        value: t.to_string(),
    });
    None
}

/// The last address of `ip/len`.
fn prefix_end(ip: IpAddr, len: u8) -> Option<IpAddr> {
    IpNet::new(ip, len).ok().map(|n| n.broadcast())
}

fn cover(start: IpAddr, end: IpAddr) -> Vec<IpNet> {
    match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => ipnet::Ipv4Subnets::new(s, e, 0)
            .map(IpNet::V4)
            .take(64)
            .collect(),
        (IpAddr::V6(s), IpAddr::V6(e)) => ipnet::Ipv6Subnets::new(s, e, 0)
            .map(IpNet::V6)
            .take(256)
            .collect(),
        _ => Vec::new(),
    }
}

fn cidr0(v: &Value, quirks: &mut Vec<Quirk>) -> Vec<IpNet> {
    let Some(arr) = v.as_array() else {
        quirks.push(Quirk::WrongType {
            field: "cidr0_cidrs".into(),
        });
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in arr.iter().take(256) {
        let prefix = item
            .get("v4prefix")
            .or_else(|| item.get("v6prefix"))
            .and_then(Value::as_str);
        let len = item.get("length").and_then(Value::as_u64);
        let net = match (prefix, len) {
            (Some(p), Some(l)) => p
                .trim()
                .parse::<IpAddr>()
                .ok()
                .and_then(|ip| u8::try_from(l).ok().and_then(|l| IpNet::new(ip, l).ok())),
            _ => None,
        };
        match net {
            Some(n) => out.push(n.trunc()),
            None => quirks.push(Quirk::InvalidCidr {
                value: item.to_string().chars().take(200).collect(),
            }),
        }
    }
    out
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn push_email(emails: &mut Vec<String>, raw: &str) {
    let t = raw.trim();
    let t = t
        .strip_prefix("mailto:")
        .or_else(|| t.strip_prefix("MAILTO:"))
        .unwrap_or(t);
    if looks_like_email(t)
        && emails.len() < MAX_EMAILS
        && !emails.iter().any(|e| e.eq_ignore_ascii_case(t))
    {
        emails.push(t.to_string());
    }
}

/// Mail addresses written in free text (`please send abuse reports to abuse@x.example.`).
pub(crate) fn emails_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || "<>()[],;:\"'".contains(c)) {
        let t = token.trim_matches(|c: char| c == '.' || c == '!' || c == '?');
        push_email(&mut out, t);
    }
    out
}

struct VcardFields {
    name: Option<String>,
    org: Option<String>,
    kind: Option<String>,
    emails: Vec<String>,
}

fn vcard(v: &Value) -> Option<VcardFields> {
    let arr = v.as_array()?;
    if arr.first().and_then(Value::as_str) != Some("vcard") {
        return None;
    }
    let props = arr.get(1)?.as_array()?;
    let mut out = VcardFields {
        name: None,
        org: None,
        kind: None,
        emails: Vec::new(),
    };
    for p in props {
        let Some(p) = p.as_array() else { continue };
        let Some(name) = p.first().and_then(Value::as_str) else {
            continue;
        };
        let value = p.get(3);
        let text = || -> Option<String> {
            match value? {
                Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
                Value::Array(a) => {
                    let parts: Vec<&str> = a
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .collect();
                    (!parts.is_empty()).then(|| parts.join(" "))
                }
                _ => None,
            }
        };
        match name.to_ascii_lowercase().as_str() {
            "fn" => out.name = out.name.take().or_else(text),
            "org" => out.org = out.org.take().or_else(text),
            "kind" => out.kind = out.kind.take().or_else(|| text().map(|k| k.to_lowercase())),
            "email" => match value {
                Some(Value::String(s)) => push_email(&mut out.emails, s),
                Some(Value::Array(a)) => {
                    for s in a.iter().filter_map(Value::as_str) {
                        push_email(&mut out.emails, s);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    Some(out)
}

fn entities(
    v: &Value,
    path: &[String],
    out: &mut Vec<Entity>,
    quirks: &mut Vec<Quirk>,
    truncated: &mut bool,
) {
    let Some(arr) = v.as_array() else {
        quirks.push(Quirk::WrongType {
            field: "entities".into(),
        });
        return;
    };
    for item in arr {
        if out.len() >= MAX_ENTITIES {
            *truncated = true;
            return;
        }
        let Some(obj) = item.as_object() else {
            quirks.push(Quirk::WrongType {
                field: "entities[]".into(),
            });
            continue;
        };
        let mut q = Vec::new();
        let handle = string(obj, "handle", &mut q);
        let roles: Vec<String> = strings(obj, "roles", &mut q)
            .into_iter()
            .map(|r| r.to_ascii_lowercase())
            .collect();
        quirks.append(&mut q);
        if roles.is_empty() {
            quirks.push(Quirk::EntityWithoutRoles {
                handle: handle.clone(),
            });
        }
        let card = match obj.get("vcardArray") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let c = vcard(v);
                if c.is_none() {
                    quirks.push(Quirk::MalformedVcard {
                        handle: handle.clone(),
                    });
                }
                c
            }
        };
        let (name, org, kind, emails) = match card {
            Some(c) => (c.name, c.org, c.kind, c.emails),
            None => (None, None, None, Vec::new()),
        };
        out.push(Entity {
            handle: handle.clone(),
            roles,
            name,
            org,
            kind,
            emails,
            path: path.to_vec(),
        });
        if let Some(children) = obj.get("entities").filter(|c| !c.is_null()) {
            if path.len() + 1 >= MAX_ENTITY_DEPTH {
                *truncated = true;
                continue;
            }
            let mut p = path.to_vec();
            p.push(handle.unwrap_or_else(|| "(no handle)".to_string()));
            entities(children, &p, out, quirks, truncated);
        }
    }
}

fn registry_of(obj: &Map<String, Value>, port43: Option<&str>) -> Option<Rir> {
    if let Some(r) = port43.and_then(Rir::from_host) {
        return Some(r);
    }
    let links = obj.get("links")?.as_array()?;
    links.iter().find_map(|l| {
        let href = l.get("href")?.as_str()?;
        let host = url::Url::parse(href).ok()?.host_str()?.to_string();
        Rir::from_host(&host)
    })
}

/// Parses an RDAP `ip network` response body.
pub fn parse_ip_network(body: &[u8]) -> Result<IpNetwork, ParseError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
    from_value(&v)
}

/// As [`parse_ip_network`]; `asked` names the registry whose server answered, used when
/// the record does not say who published it (for the `registry` contact rule).
pub fn parse_ip_network_from(body: &[u8], asked: Option<Rir>) -> Result<IpNetwork, ParseError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
    from_value_hint(&v, asked)
}

/// As [`parse_ip_network`], for an already decoded JSON value.
pub fn from_value(v: &Value) -> Result<IpNetwork, ParseError> {
    from_value_hint(v, None)
}

fn from_value_hint(v: &Value, hint: Option<Rir>) -> Result<IpNetwork, ParseError> {
    let obj = v.as_object().ok_or(ParseError::NotAnObject)?;
    let mut quirks = Vec::new();

    if let Some(code) = obj.get("errorCode") {
        return Err(ParseError::ErrorResponse {
            code: code
                .as_i64()
                .or_else(|| code.as_str().and_then(|s| s.trim().parse().ok()))
                .unwrap_or(0),
            title: string(obj, "title", &mut quirks).unwrap_or_default(),
            description: strings(obj, "description", &mut quirks),
        });
    }
    match obj.get("objectClassName") {
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("ip network") => {}
        Some(Value::String(s)) => return Err(ParseError::WrongObjectClass(s.clone())),
        Some(_) => return Err(ParseError::WrongObjectClass("(not a string)".into())),
        None => {
            if !["startAddress", "endAddress", "cidr0_cidrs", "handle"]
                .iter()
                .any(|k| obj.contains_key(*k))
            {
                return Err(ParseError::NotAnIpNetwork);
            }
            quirks.push(Quirk::MissingObjectClassName);
        }
    }

    let handle = string(obj, "handle", &mut quirks);
    let name = string(obj, "name", &mut quirks);
    let network_type = string(obj, "type", &mut quirks);
    let parent_handle = string(obj, "parentHandle", &mut quirks);
    let status = strings(obj, "status", &mut quirks);
    let port43 = string(obj, "port43", &mut quirks);

    let start = string(obj, "startAddress", &mut quirks)
        .and_then(|s| address("startAddress", &s, &mut quirks));
    let end =
        string(obj, "endAddress", &mut quirks).and_then(|s| address("endAddress", &s, &mut quirks));
    let start_address = start.map(|(a, _)| a);
    let mut end_address = end.map(|(a, _)| a);
    // A start given as a real prefix (`/24`) with no end: the prefix's last address.
    if end_address.is_none()
        && let Some((a, Some(len))) = start
    {
        end_address = prefix_end(a, len);
    }

    let ip_version_text = string(obj, "ipVersion", &mut quirks);
    let family = start_address.or(end_address).map(|a| match a {
        IpAddr::V4(_) => IpVersion::V4,
        IpAddr::V6(_) => IpVersion::V6,
    });
    let ip_version = match ip_version_text.as_deref().map(str::to_ascii_lowercase) {
        Some(v) if v == "v4" || v == "v6" => {
            let stated = if v == "v4" {
                IpVersion::V4
            } else {
                IpVersion::V6
            };
            if family.is_some_and(|f| f != stated) {
                quirks.push(Quirk::IpVersionMismatch { value: v });
                family
            } else {
                Some(stated)
            }
        }
        Some(v) => {
            quirks.push(Quirk::IpVersionMismatch { value: v });
            family
        }
        None => family,
    };

    let mut cidrs = match obj.get("cidr0_cidrs") {
        Some(c) if !c.is_null() => cidr0(c, &mut quirks),
        _ => Vec::new(),
    };
    if let (Some(s), Some(e)) = (start_address, end_address) {
        if s.is_ipv4() != e.is_ipv4() {
            quirks.push(Quirk::MixedFamilies);
        } else if e < s {
            quirks.push(Quirk::EndBeforeStart);
        } else if cidrs.is_empty() {
            cidrs = cover(s, e);
        }
    }

    let country = match string(obj, "country", &mut quirks) {
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(c) => {
            quirks.push(Quirk::InvalidCountry { value: c });
            None
        }
        None => None,
    };

    let mut remarks = Vec::new();
    if let Some(Value::Array(rs)) = obj.get("remarks") {
        for r in rs.iter().take(100) {
            if let Some(ro) = r.as_object() {
                let mut q = Vec::new();
                remarks.push(Remark {
                    title: string(ro, "title", &mut q),
                    description: strings(ro, "description", &mut q),
                });
                quirks.append(&mut q);
            }
        }
    }

    let mut ents = Vec::new();
    let mut truncated = false;
    if let Some(e) = obj.get("entities").filter(|e| !e.is_null()) {
        entities(e, &[], &mut ents, &mut quirks, &mut truncated);
    }
    if truncated {
        quirks.push(Quirk::EntitiesTruncated);
    }

    let registry = registry_of(obj, port43.as_deref()).or(hint);
    let abuse_contact = choose_abuse_contact(&ents, &remarks, registry);

    Ok(IpNetwork {
        handle,
        name,
        network_type,
        ip_version,
        start_address,
        end_address,
        cidrs,
        country,
        parent_handle,
        status,
        port43,
        registry,
        remarks,
        entities: ents,
        abuse_contact,
        quirks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_quirks() {
        let mut q = Vec::new();
        assert_eq!(
            address("startAddress", "074.125.000.000", &mut q),
            Some(("74.125.0.0".parse().unwrap(), None))
        );
        assert_eq!(
            address("startAddress", "62.239.237.0/32", &mut q),
            Some(("62.239.237.0".parse().unwrap(), Some(32)))
        );
        assert_eq!(
            address(
                "endAddress",
                "2001:4860:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
                &mut q
            ),
            Some((
                "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
                None
            ))
        );
        assert_eq!(address("endAddress", "1.2.3.256", &mut q), None);
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn error_and_wrong_class() {
        assert!(matches!(
            parse_ip_network(br#"{"errorCode":404,"title":"Not Found"}"#),
            Err(ParseError::ErrorResponse { code: 404, .. })
        ));
        assert!(matches!(
            parse_ip_network(br#"{"objectClassName":"entity"}"#),
            Err(ParseError::WrongObjectClass(_))
        ));
        assert_eq!(parse_ip_network(b"{}"), Err(ParseError::NotAnIpNetwork));
        assert_eq!(parse_ip_network(b"[]"), Err(ParseError::NotAnObject));
        assert!(matches!(
            parse_ip_network(b"\xff"),
            Err(ParseError::NotJson(_))
        ));
    }

    #[test]
    fn prefix_start_without_end_and_hostile_shapes() {
        let n = parse_ip_network(
            br#"{"objectClassName":"ip network","startAddress":"192.0.2.0/24","country":"jp",
                "entities":[1, {"roles":"abuse","vcardArray":["vcard",[["email",{},"text","mailto:Abuse@x.example"]]]}],
                "cidr0_cidrs":[{"v4prefix":"x","length":99}]}"#,
        )
        .unwrap();
        assert_eq!(n.end_address, Some("192.0.2.255".parse().unwrap()));
        assert_eq!(n.country.as_deref(), Some("JP"));
        assert_eq!(n.cidrs, vec!["192.0.2.0/24".parse::<IpNet>().unwrap()]);
        assert_eq!(n.abuse_contact.unwrap().emails, vec!["Abuse@x.example"]);
        assert!(
            n.quirks
                .iter()
                .any(|q| matches!(q, Quirk::InvalidCidr { .. }))
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut s = String::from(r#"{"objectClassName":"ip network","handle":"X","entities":"#);
        for _ in 0..60 {
            s.push_str(r#"[{"handle":"E","roles":["technical"],"entities":"#);
        }
        s.push_str("[]");
        for _ in 0..60 {
            s.push_str("}]");
        }
        s.push('}');
        let n = parse_ip_network(s.as_bytes()).unwrap();
        assert_eq!(n.entities.len(), MAX_ENTITY_DEPTH);
        assert!(n.quirks.contains(&Quirk::EntitiesTruncated));
    }

    #[test]
    fn text_emails() {
        assert_eq!(
            emails_in_text("please send abuse reports to abuse@mtnbusiness.co.za."),
            vec!["abuse@mtnbusiness.co.za"]
        );
        assert_eq!(emails_in_text("<a@b.example>, (c@d.example)").len(), 2);
        assert!(emails_in_text("user@localhost or @x.example").is_empty());
    }
}
