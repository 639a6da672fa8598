//! The attribution index: "who held this address (and port) at this moment".
//!
//! Layout, per address family: for every prefix length that occurs, a hash table from
//! the masked network address to a span of one flat array of compact entries. A span
//! holds all rows of one prefix sorted by `valid_from`, each with the running maximum
//! of `valid_to` over the span so far. A lookup masks the address once per occurring
//! prefix length, longest first (most-specific match), binary-searches the span for the
//! last row starting at or before the time, and walks back only while the running
//! maximum says an earlier row can still be open. With DHCP churn (disjoint leases) that
//! is one or two rows; cost is independent of the total number of rows.
use crate::model::{
    Assignment, Contract, ContractId, DomainName, HostedDomain, Network, PortRange, Prefix, RowId,
    Validity,
};
use crate::time::Timestamp;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;

/// Rows of one kind listed per prefix in the reasoning before the rest are counted.
const REASONS_PER_KIND: usize = 4;

/// Top bit of [`Entry::contract`]: the row carries a port range.
const HAS_PORTS: u32 = 1 << 31;

/// Address bits of one family.
trait Bits: Copy + Eq + Hash + Ord {
    const WIDTH: u8;
    fn mask(self, len: u8) -> Self;
}

impl Bits for u32 {
    const WIDTH: u8 = 32;
    fn mask(self, len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            self & (u32::MAX << (32 - u32::from(len.min(32))))
        }
    }
}

impl Bits for u128 {
    const WIDTH: u8 = 128;
    fn mask(self, len: u8) -> u128 {
        if len == 0 {
            0
        } else {
            self & (u128::MAX << (128 - u32::from(len.min(128))))
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
    /// A shorter prefix with rows contains this one (the lookup must go on after a match
    /// here to report what it shadows).
    covered: bool,
}

/// One assignment row, compact (40 bytes).
#[derive(Debug, Clone, Copy)]
struct Entry {
    from: i64,
    to: i64,
    /// max(`to`) over the span up to and including this entry.
    max_to: i64,
    row: u64,
    /// Index into the interned contract ids; [`HAS_PORTS`] flags a port range.
    contract: u32,
    port_from: u16,
    port_to: u16,
}

impl Entry {
    fn has_ports(&self) -> bool {
        self.contract & HAS_PORTS != 0
    }
    fn contract_idx(&self) -> usize {
        (self.contract & !HAS_PORTS) as usize
    }
    fn port_ok(&self, port: u16) -> bool {
        self.port_from <= port && port <= self.port_to
    }
}

fn time_of(t: Option<Timestamp>, open: i64) -> i64 {
    t.map_or(open, Timestamp::unix)
}

fn ts(v: i64) -> Option<Timestamp> {
    if v == i64::MIN || v == i64::MAX {
        None
    } else {
        Timestamp::from_unix(v).ok()
    }
}

/// Per-family tables.
struct Family<A: Bits> {
    /// Occurring prefix lengths, longest first.
    lengths: Vec<u8>,
    /// Indexed by prefix length.
    tables: Vec<FxHashMap<A, Span>>,
    entries: Vec<Entry>,
    net_lengths: Vec<u8>,
    /// Indexed by prefix length: network address -> index into `RegistryIndex::networks`.
    nets: Vec<FxHashMap<A, u32>>,
}

struct Pending<A> {
    key: A,
    len: u8,
    entry: Entry,
}

impl<A: Bits> Family<A> {
    fn build(mut pending: Vec<Pending<A>>, networks: Vec<(A, u8, u32)>) -> Self {
        pending.sort_unstable_by(|a, b| {
            (a.len, a.key, a.entry.from, a.entry.to).cmp(&(b.len, b.key, b.entry.from, b.entry.to))
        });
        let width = usize::from(A::WIDTH) + 1;
        let mut tables: Vec<FxHashMap<A, Span>> =
            (0..width).map(|_| FxHashMap::default()).collect();
        // Pre-size each table with its number of distinct keys.
        {
            let mut counts = vec![0usize; width];
            let mut prev: Option<(u8, A)> = None;
            for p in &pending {
                if prev != Some((p.len, p.key)) {
                    counts[usize::from(p.len)] += 1;
                    prev = Some((p.len, p.key));
                }
            }
            for (t, c) in tables.iter_mut().zip(counts) {
                t.reserve(c);
            }
        }
        let mut entries = Vec::with_capacity(pending.len());
        let mut i = 0;
        while i < pending.len() {
            let (len, key) = (pending[i].len, pending[i].key);
            let start = entries.len();
            let mut max_to = i64::MIN;
            while i < pending.len() && pending[i].len == len && pending[i].key == key {
                let mut e = pending[i].entry;
                max_to = max_to.max(e.to);
                e.max_to = max_to;
                entries.push(e);
                i += 1;
            }
            tables[usize::from(len)].insert(
                key,
                Span {
                    start: start as u32,
                    len: (entries.len() - start) as u32,
                    covered: false,
                },
            );
        }
        let mut lengths: Vec<u8> = (0..=A::WIDTH)
            .filter(|&l| !tables[usize::from(l)].is_empty())
            .collect();
        lengths.reverse();
        for (li, &len) in lengths.iter().enumerate() {
            let shorter = &lengths[li + 1..];
            if shorter.is_empty() {
                continue;
            }
            let covered: Vec<A> = tables[usize::from(len)]
                .keys()
                .copied()
                .filter(|k| {
                    shorter
                        .iter()
                        .any(|&s| tables[usize::from(s)].contains_key(&k.mask(s)))
                })
                .collect();
            for k in covered {
                if let Some(sp) = tables[usize::from(len)].get_mut(&k) {
                    sp.covered = true;
                }
            }
        }

        let mut nets: Vec<FxHashMap<A, u32>> = (0..width).map(|_| FxHashMap::default()).collect();
        for (key, len, idx) in networks {
            // On duplicates the first declared network wins.
            nets[usize::from(len)].entry(key).or_insert(idx);
        }
        let mut net_lengths: Vec<u8> = (0..=A::WIDTH)
            .filter(|&l| !nets[usize::from(l)].is_empty())
            .collect();
        net_lengths.reverse();
        Family {
            lengths,
            tables,
            entries,
            net_lengths,
            nets,
        }
    }

    fn network(&self, addr: A) -> Option<u32> {
        for &len in &self.net_lengths {
            if let Some(&i) = self.nets[usize::from(len)].get(&addr.mask(len)) {
                return Some(i);
            }
        }
        None
    }

    fn heap_bytes(&self) -> usize {
        let table = |n: usize, item: usize| n * (item + 1);
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self
                .tables
                .iter()
                .map(|t| table(t.capacity(), std::mem::size_of::<(A, Span)>()))
                .sum::<usize>()
            + self
                .nets
                .iter()
                .map(|t| table(t.capacity(), std::mem::size_of::<(A, u32)>()))
                .sum::<usize>()
    }
}

/// An assignment row as the index reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub row: RowId,
    pub prefix: Prefix,
    pub contract: ContractId,
    #[serde(flatten)]
    pub validity: Validity,
    pub ports: Option<PortRange>,
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} {} -> {} {}",
            self.row, self.prefix, self.contract, self.validity
        )?;
        if let Some(p) = self.ports {
            write!(f, " ports {p}")?;
        }
        Ok(())
    }
}

/// Why one row did or did not decide the lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Valid at that time (and port): the answer.
    Matched,
    /// Valid at that time (and port), but so is another row of the same prefix.
    Conflicting,
    /// Its interval ended at or before that time.
    Ended,
    /// Its interval starts after that time.
    NotYetValid,
    /// Valid at that time but for other source ports.
    PortOutside,
    /// A CGNAT row valid at that time; the report gives no source port to choose by.
    PortUnknown,
    /// A less specific prefix, valid at that time; a more specific row decided.
    Shadowed,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Matched => "matches",
            Verdict::Conflicting => "also matches (conflicting rows)",
            Verdict::Ended => "had ended by then",
            Verdict::NotYetValid => "had not started yet",
            Verdict::PortOutside => "is for other ports",
            Verdict::PortUnknown => "is a port block, and the source port is unknown",
            Verdict::Shadowed => "is less specific (shadowed)",
        }
    }
}

/// One step of the reasoning behind an attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A row that was considered, and what became of it.
    Row { verdict: Verdict, row: Match },
    /// Further rows of `prefix` with verdict `verdict`, not listed one by one.
    MoreRows {
        prefix: Prefix,
        verdict: Verdict,
        count: u64,
    },
    /// The address lies in this network of ours.
    InNetwork { network: Network },
    /// No network of ours contains the address.
    OutsideOurNetworks,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Row { verdict, row } => write!(f, "{row} {}", verdict.text()),
            Reason::MoreRows {
                prefix,
                verdict,
                count,
            } => write!(f, "{count} more row(s) of {prefix} {}", verdict.text()),
            Reason::InNetwork { network } => {
                write!(f, "inside our network {}", network.prefix)?;
                if !network.description.is_empty() {
                    write!(f, " ({})", network.description)?;
                }
                Ok(())
            }
            Reason::OutsideOurNetworks => f.write_str("outside every network of ours"),
        }
    }
}

/// What an IP lookup found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IpOutcome {
    /// Exactly one row held the address (and port) at that moment.
    Assigned {
        #[serde(rename = "match")]
        found: Match,
        network: Option<Network>,
    },
    /// Several rows of the same, most specific, prefix held it: a CGNAT address with no
    /// source port in the report, or conflicting registry data. The desk must not guess.
    Ambiguous {
        candidates: Vec<Match>,
        network: Option<Network>,
    },
    /// Our address space, but nobody held the address (and port) at that moment.
    Unassigned { network: Network },
    /// Not our address space.
    NotOurs,
}

/// The answer to "who held `ip` (port `port`) at `at`", with its reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpAttribution {
    pub ip: IpAddr,
    pub at: Timestamp,
    pub port: Option<u16>,
    #[serde(flatten)]
    pub outcome: IpOutcome,
    pub reasoning: Vec<Reason>,
}

impl IpAttribution {
    /// The contract the address is attributed to, when exactly one.
    pub fn contract(&self) -> Option<&ContractId> {
        match &self.outcome {
            IpOutcome::Assigned { found, .. } => Some(&found.contract),
            _ => None,
        }
    }

    /// A one-line summary, e.g. for a case's `reason` field.
    pub fn summary(&self) -> String {
        let subject = match self.port {
            Some(p) => format!("{} port {p} at {}", self.ip, self.at),
            None => format!("{} at {}", self.ip, self.at),
        };
        match &self.outcome {
            IpOutcome::Assigned { found, .. } => {
                format!("{subject}: held by {} ({found})", found.contract)
            }
            IpOutcome::Ambiguous { candidates, .. } => {
                let ids: Vec<&str> = candidates.iter().map(|m| m.contract.as_str()).collect();
                if self.port.is_none() && candidates.iter().any(|m| m.ports.is_some()) {
                    format!(
                        "{subject}: shared address (CGNAT) held by {} - the report gives no source port",
                        ids.join(", ")
                    )
                } else {
                    format!(
                        "{subject}: conflicting registry rows for {}",
                        ids.join(", ")
                    )
                }
            }
            IpOutcome::Unassigned { network } => format!(
                "{subject}: our address space ({}), assigned to nobody at that time",
                network.prefix
            ),
            IpOutcome::NotOurs => format!("{subject}: not our address space"),
        }
    }
}

impl fmt::Display for IpAttribution {
    /// The summary, then one reasoning step per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for r in &self.reasoning {
            write!(f, "\n  - {r}")?;
        }
        Ok(())
    }
}

/// A hosted-domain row as the index reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainMatch {
    pub row: RowId,
    pub domain: DomainName,
    pub contract: ContractId,
    #[serde(flatten)]
    pub validity: Validity,
}

impl fmt::Display for DomainMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} {} -> {} {}",
            self.row, self.domain, self.contract, self.validity
        )
    }
}

/// One step of a host lookup's reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HostReason {
    Row {
        verdict: Verdict,
        row: DomainMatch,
    },
    MoreRows {
        domain: DomainName,
        verdict: Verdict,
        count: u64,
    },
}

impl fmt::Display for HostReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostReason::Row { verdict, row } => write!(f, "{row} {}", verdict.text()),
            HostReason::MoreRows {
                domain,
                verdict,
                count,
            } => write!(f, "{count} more row(s) of {domain} {}", verdict.text()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum HostOutcome {
    /// The longest hosted suffix of the name, held by exactly one contract then.
    Hosted {
        #[serde(rename = "match")]
        found: DomainMatch,
    },
    /// Several rows of the same domain were valid then (conflicting data).
    Ambiguous { candidates: Vec<DomainMatch> },
    /// No suffix of the name was hosted by us at that time.
    NotHosted,
}

/// The answer to "whose is `host` at `at`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostAttribution {
    pub host: DomainName,
    pub at: Timestamp,
    #[serde(flatten)]
    pub outcome: HostOutcome,
    pub reasoning: Vec<HostReason>,
}

impl HostAttribution {
    pub fn contract(&self) -> Option<&ContractId> {
        match &self.outcome {
            HostOutcome::Hosted { found } => Some(&found.contract),
            _ => None,
        }
    }

    pub fn summary(&self) -> String {
        match &self.outcome {
            HostOutcome::Hosted { found } => format!(
                "{} at {}: hosted for {} ({found})",
                self.host, self.at, found.contract
            ),
            HostOutcome::Ambiguous { candidates } => {
                let ids: Vec<&str> = candidates.iter().map(|m| m.contract.as_str()).collect();
                format!(
                    "{} at {}: conflicting hosted-domain rows for {}",
                    self.host,
                    self.at,
                    ids.join(", ")
                )
            }
            HostOutcome::NotHosted => format!("{} at {}: not hosted by us", self.host, self.at),
        }
    }
}

impl fmt::Display for HostAttribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for r in &self.reasoning {
            write!(f, "\n  - {r}")?;
        }
        Ok(())
    }
}

/// What a URL's host led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "host_kind", rename_all = "snake_case")]
pub enum UrlAttribution {
    Domain(HostAttribution),
    Ip(IpAttribution),
}

/// A host name or URL that cannot be looked up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("invalid host name: {0}")]
    InvalidHost(String),
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("URL {0:?} has no host")]
    NoHost(String),
}

/// Something in the registry data worth an operator's attention; the index still works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Rows name a contract that was not given to the builder.
    UnknownContract {
        contract: ContractId,
        rows: u64,
        first_row: RowId,
    },
    /// A contract's parent was not given to the builder.
    UnknownParent {
        contract: ContractId,
        parent: ContractId,
    },
    /// Following parents from this contract comes back to it.
    ParentCycle { contract: ContractId },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownContract {
                contract,
                rows,
                first_row,
            } => write!(
                f,
                "{rows} row(s) (first: row {first_row}) name unknown contract {contract}"
            ),
            Problem::UnknownParent { contract, parent } => {
                write!(f, "contract {contract} names unknown parent {parent}")
            }
            Problem::ParentCycle { contract } => {
                write!(f, "contract {contract} is its own ancestor")
            }
        }
    }
}

/// Sizes of a built index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    pub assignments: usize,
    pub v4_prefixes: usize,
    pub v6_prefixes: usize,
    /// Occurring prefix lengths, longest first (each costs one hash probe per lookup).
    pub v4_lengths: Vec<u8>,
    pub v6_lengths: Vec<u8>,
    pub networks: usize,
    pub contracts: usize,
    pub domains: usize,
    /// Approximate heap use of the index structures, in bytes.
    pub heap_bytes: usize,
}

#[derive(Debug, Clone, Copy)]
struct DomEntry {
    from: i64,
    to: i64,
    max_to: i64,
    row: u64,
    contract: u32,
}

/// Collects rows, then builds a [`RegistryIndex`]. Rows may come in any order.
#[derive(Default)]
pub struct IndexBuilder {
    contract_ids: FxHashMap<ContractId, u32>,
    ids: Vec<ContractId>,
    usage: Vec<(u64, RowId)>,
    contracts: Vec<Contract>,
    networks: Vec<Network>,
    v4: Vec<Pending<u32>>,
    v6: Vec<Pending<u128>>,
    domains: Vec<(DomainName, DomEntry)>,
}

impl IndexBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Pre-allocates for about `assignments` rows.
    pub fn with_capacity(assignments: usize) -> Self {
        let mut b = Self::default();
        b.v4.reserve(assignments);
        b
    }

    fn intern(&mut self, id: &ContractId, row: RowId) -> u32 {
        let idx = if let Some(&i) = self.contract_ids.get(id) {
            i
        } else {
            let i = self.ids.len() as u32;
            self.ids.push(id.clone());
            self.usage.push((0, row));
            self.contract_ids.insert(id.clone(), i);
            i
        };
        if let Some(u) = self.usage.get_mut(idx as usize) {
            u.0 += 1;
        }
        idx
    }

    /// Adds a contract (for [`RegistryIndex::contract`] and the integrity check). A second
    /// contract with the same id replaces the first.
    pub fn contract(&mut self, c: Contract) -> &mut Self {
        self.contracts.push(c);
        self
    }

    /// Adds a network of ours.
    pub fn network(&mut self, n: Network) -> &mut Self {
        self.networks.push(n);
        self
    }

    /// Adds an assignment row under the caller's id for it.
    pub fn assignment(&mut self, row: RowId, a: &Assignment) -> &mut Self {
        let mut contract = self.intern(&a.contract, row);
        let (port_from, port_to) = match a.ports {
            Some(p) => {
                contract |= HAS_PORTS;
                (p.from(), p.to())
            }
            None => (0, u16::MAX),
        };
        let entry = Entry {
            from: time_of(a.validity.from(), i64::MIN),
            to: time_of(a.validity.to(), i64::MAX),
            max_to: 0,
            row: row.0,
            contract,
            port_from,
            port_to,
        };
        let len = a.prefix.prefix_len();
        match a.prefix.addr() {
            IpAddr::V4(v4) => self.v4.push(Pending {
                key: u32::from(v4),
                len,
                entry,
            }),
            IpAddr::V6(v6) => self.v6.push(Pending {
                key: u128::from(v6),
                len,
                entry,
            }),
        }
        self
    }

    /// Adds a hosted-domain row under the caller's id for it.
    pub fn domain(&mut self, row: RowId, d: &HostedDomain) -> &mut Self {
        let contract = self.intern(&d.contract, row);
        self.domains.push((
            d.domain.clone(),
            DomEntry {
                from: time_of(d.validity.from(), i64::MIN),
                to: time_of(d.validity.to(), i64::MAX),
                max_to: 0,
                row: row.0,
                contract,
            },
        ));
        self
    }

    pub fn build(self) -> RegistryIndex {
        let IndexBuilder {
            contract_ids: _,
            ids,
            usage,
            contracts,
            networks,
            v4,
            v6,
            mut domains,
        } = self;

        let mut nets4 = Vec::new();
        let mut nets6 = Vec::new();
        for (i, n) in networks.iter().enumerate() {
            match n.prefix.addr() {
                IpAddr::V4(a) => nets4.push((u32::from(a), n.prefix.prefix_len(), i as u32)),
                IpAddr::V6(a) => nets6.push((u128::from(a), n.prefix.prefix_len(), i as u32)),
            }
        }
        let assignments = v4.len() + v6.len();
        let v4 = Family::build(v4, nets4);
        let v6 = Family::build(v6, nets6);

        domains.sort_unstable_by(|a, b| (&a.0, a.1.from).cmp(&(&b.0, b.1.from)));
        let mut dom_map: FxHashMap<Box<str>, Span> = FxHashMap::default();
        let mut dom_entries = Vec::with_capacity(domains.len());
        let mut i = 0;
        while i < domains.len() {
            let start = dom_entries.len();
            let name = domains[i].0.clone();
            let mut max_to = i64::MIN;
            while i < domains.len() && domains[i].0 == name {
                let mut e = domains[i].1;
                max_to = max_to.max(e.to);
                e.max_to = max_to;
                dom_entries.push(e);
                i += 1;
            }
            dom_map.insert(
                name.as_str().into(),
                Span {
                    start: start as u32,
                    len: (dom_entries.len() - start) as u32,
                    covered: true,
                },
            );
        }

        let mut by_id: FxHashMap<ContractId, Contract> = FxHashMap::default();
        for c in contracts {
            by_id.insert(c.id.clone(), c);
        }
        let mut problems = Vec::new();
        for (id, (rows, first_row)) in ids.iter().zip(&usage) {
            if !by_id.contains_key(id) {
                problems.push(Problem::UnknownContract {
                    contract: id.clone(),
                    rows: *rows,
                    first_row: *first_row,
                });
            }
        }
        let mut sorted: Vec<&Contract> = by_id.values().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        for c in sorted {
            if let Some(p) = &c.parent {
                if !by_id.contains_key(p) {
                    problems.push(Problem::UnknownParent {
                        contract: c.id.clone(),
                        parent: p.clone(),
                    });
                } else {
                    let mut cur = Some(p);
                    let mut steps = 0;
                    while let Some(id) = cur {
                        if id == &c.id {
                            problems.push(Problem::ParentCycle {
                                contract: c.id.clone(),
                            });
                            break;
                        }
                        steps += 1;
                        if steps > by_id.len() {
                            break;
                        }
                        cur = by_id.get(id).and_then(|x| x.parent.as_ref());
                    }
                }
            }
        }

        RegistryIndex {
            v4,
            v6,
            assignments,
            ids,
            contracts: by_id,
            networks,
            dom_map,
            dom_entries,
            problems,
        }
    }
}

/// An immutable, shareable (`Send + Sync`) attribution index over networks,
/// assignments, hosted domains and contracts. Rebuild it to change it.
pub struct RegistryIndex {
    v4: Family<u32>,
    v6: Family<u128>,
    assignments: usize,
    ids: Vec<ContractId>,
    contracts: FxHashMap<ContractId, Contract>,
    networks: Vec<Network>,
    dom_map: FxHashMap<Box<str>, Span>,
    dom_entries: Vec<DomEntry>,
    problems: Vec<Problem>,
}

/// Counts rows per verdict and lists the first few.
struct Collector<'a, R> {
    out: &'a mut Vec<R>,
    counts: [(Verdict, u64); 7],
}

impl<'a, R> Collector<'a, R> {
    fn new(out: &'a mut Vec<R>) -> Self {
        use Verdict::*;
        Collector {
            out,
            counts: [
                (Matched, 0),
                (Conflicting, 0),
                (Ended, 0),
                (NotYetValid, 0),
                (PortOutside, 0),
                (PortUnknown, 0),
                (Shadowed, 0),
            ],
        }
    }

    fn add(&mut self, verdict: Verdict, make: impl FnOnce() -> R) {
        if let Some(c) = self.counts.iter_mut().find(|(v, _)| *v == verdict) {
            c.1 += 1;
            if c.1 <= REASONS_PER_KIND as u64 {
                self.out.push(make());
            }
        }
    }

    fn finish(self, more: impl Fn(Verdict, u64) -> R) {
        for (v, n) in self.counts {
            if n > REASONS_PER_KIND as u64 {
                self.out.push(more(v, n - REASONS_PER_KIND as u64));
            }
        }
    }
}

impl RegistryIndex {
    pub fn builder() -> IndexBuilder {
        IndexBuilder::new()
    }

    /// Builds an index straight from imported rows; row ids are positions (0-based) in
    /// `assignments` and `domains`.
    pub fn from_rows(
        networks: Vec<Network>,
        contracts: Vec<Contract>,
        assignments: &[Assignment],
        domains: &[HostedDomain],
    ) -> Self {
        let mut b = IndexBuilder::with_capacity(assignments.len());
        for n in networks {
            b.network(n);
        }
        for c in contracts {
            b.contract(c);
        }
        for (i, a) in assignments.iter().enumerate() {
            b.assignment(RowId(i as u64), a);
        }
        for (i, d) in domains.iter().enumerate() {
            b.domain(RowId(i as u64), d);
        }
        b.build()
    }

    /// Data problems found while building (unknown contracts, parent cycles).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub fn contract(&self, id: &ContractId) -> Option<&Contract> {
        self.contracts.get(id)
    }

    /// The contract and its parents, nearest first (cycle-safe).
    pub fn contract_chain(&self, id: &ContractId) -> Vec<&Contract> {
        let mut out: Vec<&Contract> = Vec::new();
        let mut cur = self.contracts.get(id);
        while let Some(c) = cur {
            if out.iter().any(|x| x.id == c.id) {
                break;
            }
            out.push(c);
            cur = c.parent.as_ref().and_then(|p| self.contracts.get(p));
        }
        out
    }

    /// The most specific network of ours containing `ip`.
    pub fn network_of(&self, ip: IpAddr) -> Option<&Network> {
        let idx = match ip.to_canonical() {
            IpAddr::V4(a) => self.v4.network(u32::from(a)),
            IpAddr::V6(a) => self.v6.network(u128::from(a)),
        }?;
        self.networks.get(idx as usize)
    }

    pub fn stats(&self) -> IndexStats {
        let prefixes4: usize = self.v4.tables.iter().map(|t| t.len()).sum();
        let prefixes6: usize = self.v6.tables.iter().map(|t| t.len()).sum();
        IndexStats {
            assignments: self.assignments,
            v4_prefixes: prefixes4,
            v6_prefixes: prefixes6,
            v4_lengths: self.v4.lengths.clone(),
            v6_lengths: self.v6.lengths.clone(),
            networks: self.networks.len(),
            contracts: self.contracts.len(),
            domains: self.dom_entries.len(),
            heap_bytes: self.v4.heap_bytes()
                + self.v6.heap_bytes()
                + self.dom_entries.capacity() * std::mem::size_of::<DomEntry>()
                + self.dom_map.keys().map(|k| k.len() + 32).sum::<usize>()
                + self
                    .ids
                    .iter()
                    .map(|i| i.as_str().len() + 24)
                    .sum::<usize>(),
        }
    }

    fn make_match(&self, prefix: Prefix, e: &Entry) -> Match {
        Match {
            row: RowId(e.row),
            prefix,
            contract: self.ids[e.contract_idx()].clone(),
            validity: Validity::new(ts(e.from), ts(e.to)).unwrap_or_default(),
            ports: if e.has_ports() {
                PortRange::new(e.port_from, e.port_to).ok()
            } else {
                None
            },
        }
    }

    /// Who held `ip` (and `port`, for CGNAT rows) at `at`. IPv4-mapped IPv6 addresses are
    /// looked up as IPv4.
    pub fn lookup_ip(&self, ip: IpAddr, at: Timestamp, port: Option<u16>) -> IpAttribution {
        let ip = ip.to_canonical();
        let (found, reasoning) = match ip {
            IpAddr::V4(a) => self.lookup_family(&self.v4, u32::from(a), ip, at, port),
            IpAddr::V6(a) => self.lookup_family(&self.v6, u128::from(a), ip, at, port),
        };
        let mut reasoning = reasoning;
        let network = self.network_of(ip).cloned();
        match &network {
            Some(n) => reasoning.push(Reason::InNetwork { network: n.clone() }),
            None => reasoning.push(Reason::OutsideOurNetworks),
        }
        let outcome = match found {
            Some(mut c) if c.len() == 1 => IpOutcome::Assigned {
                found: c.remove(0),
                network,
            },
            Some(c) if !c.is_empty() => IpOutcome::Ambiguous {
                candidates: c,
                network,
            },
            _ => match network {
                Some(network) => IpOutcome::Unassigned { network },
                None => IpOutcome::NotOurs,
            },
        };
        IpAttribution {
            ip,
            at,
            port,
            outcome,
            reasoning,
        }
    }

    fn lookup_family<A: Bits>(
        &self,
        fam: &Family<A>,
        addr: A,
        ip: IpAddr,
        at: Timestamp,
        port: Option<u16>,
    ) -> (Option<Vec<Match>>, Vec<Reason>) {
        let t = at.unix();
        let mut reasons = Vec::new();
        let mut decided: Option<Vec<Match>> = None;
        for &len in &fam.lengths {
            let key = addr.mask(len);
            let Some(span) = fam.tables[usize::from(len)].get(&key) else {
                continue;
            };
            let start = span.start as usize;
            let es = &fam.entries[start..start + span.len as usize];
            let prefix = Prefix::from_net(
                ipnet::IpNet::new(ip, len).unwrap_or_else(|_| ipnet::IpNet::from(ip)),
            );
            let p = es.partition_point(|e| e.from <= t);
            // Rows valid at `t`: only those before `p` whose interval is still open; walk
            // back while the running maximum of `to` says one may be.
            let mut valid: Vec<&Entry> = Vec::new();
            let mut ended: Option<&Entry> = None;
            let mut j = p;
            while j > 0 {
                j -= 1;
                let e = &es[j];
                if e.max_to <= t {
                    if ended.is_none_or(|x| e.to > x.to) {
                        ended = Some(e);
                    }
                    break;
                }
                if e.to > t {
                    valid.push(e);
                } else if ended.is_none_or(|x| e.to > x.to) {
                    ended = Some(e);
                }
            }
            valid.reverse();
            let mut col = Collector::new(&mut reasons);
            if decided.is_some() {
                // A more specific prefix decided; note what it shadows.
                for e in valid
                    .iter()
                    .filter(|e| port.is_none_or(|p| !e.has_ports() || e.port_ok(p)))
                {
                    col.add(Verdict::Shadowed, || Reason::Row {
                        verdict: Verdict::Shadowed,
                        row: self.make_match(prefix, e),
                    });
                }
                col.finish(|verdict, count| Reason::MoreRows {
                    prefix,
                    verdict,
                    count,
                });
                if !span.covered {
                    break;
                }
                continue;
            }
            let outside: Vec<&Entry> = match port {
                Some(pt) => valid
                    .iter()
                    .copied()
                    .filter(|e| e.has_ports() && !e.port_ok(pt))
                    .collect(),
                None => Vec::new(),
            };
            let add_outside = |col: &mut Collector<'_, Reason>| {
                for e in &outside {
                    col.add(Verdict::PortOutside, || Reason::Row {
                        verdict: Verdict::PortOutside,
                        row: self.make_match(prefix, e),
                    });
                }
            };
            let chosen: Vec<&Entry> = match port {
                Some(pt) => {
                    let in_range: Vec<&Entry> = valid
                        .iter()
                        .copied()
                        .filter(|e| e.has_ports() && e.port_ok(pt))
                        .collect();
                    if in_range.is_empty() {
                        valid.iter().copied().filter(|e| !e.has_ports()).collect()
                    } else {
                        in_range
                    }
                }
                None => valid.clone(),
            };
            if chosen.is_empty() {
                add_outside(&mut col);
                if let Some(e) = ended {
                    col.add(Verdict::Ended, || Reason::Row {
                        verdict: Verdict::Ended,
                        row: self.make_match(prefix, e),
                    });
                }
                if let Some(e) = es.get(p) {
                    col.add(Verdict::NotYetValid, || Reason::Row {
                        verdict: Verdict::NotYetValid,
                        row: self.make_match(prefix, e),
                    });
                }
                col.finish(|verdict, count| Reason::MoreRows {
                    prefix,
                    verdict,
                    count,
                });
                continue;
            }
            let verdict = if chosen.len() == 1 {
                Verdict::Matched
            } else if port.is_none() && chosen.iter().any(|e| e.has_ports()) {
                Verdict::PortUnknown
            } else {
                Verdict::Conflicting
            };
            let matches: Vec<Match> = chosen.iter().map(|e| self.make_match(prefix, e)).collect();
            for m in &matches {
                col.add(verdict, || Reason::Row {
                    verdict,
                    row: m.clone(),
                });
            }
            add_outside(&mut col);
            col.finish(|verdict, count| Reason::MoreRows {
                prefix,
                verdict,
                count,
            });
            decided = Some(matches);
            if !span.covered {
                break;
            }
        }
        (decided, reasons)
    }

    /// Whose is host name `host` at `at`: the longest hosted suffix of the name (a row
    /// for `example.com` covers `www.example.com`; a row for `www.example.com` wins over
    /// it) that was valid then.
    pub fn lookup_host(&self, host: &str, at: Timestamp) -> Result<HostAttribution, HostError> {
        let name = DomainName::parse(host).map_err(HostError::InvalidHost)?;
        Ok(self.lookup_domain(&name, at))
    }

    /// As [`Self::lookup_host`], for an already parsed name.
    pub fn lookup_domain(&self, name: &DomainName, at: Timestamp) -> HostAttribution {
        let t = at.unix();
        let mut reasoning = Vec::new();
        let mut outcome = HostOutcome::NotHosted;
        let s = name.as_str();
        let mut suffixes = vec![s];
        suffixes.extend(s.match_indices('.').filter_map(|(i, _)| s.get(i + 1..)));
        for suffix in suffixes {
            let Some(span) = self.dom_map.get(suffix) else {
                continue;
            };
            let Ok(dn) = DomainName::parse(suffix) else {
                continue;
            };
            let start = span.start as usize;
            let es = &self.dom_entries[start..start + span.len as usize];
            let p = es.partition_point(|e| e.from <= t);
            let mut valid = Vec::new();
            let mut ended: Option<&DomEntry> = None;
            let mut j = p;
            while j > 0 {
                j -= 1;
                let e = &es[j];
                if e.max_to <= t {
                    if ended.is_none_or(|x| e.to > x.to) {
                        ended = Some(e);
                    }
                    break;
                }
                if e.to > t {
                    valid.push(e);
                } else if ended.is_none_or(|x| e.to > x.to) {
                    ended = Some(e);
                }
            }
            valid.reverse();
            let mk = |e: &DomEntry| DomainMatch {
                row: RowId(e.row),
                domain: dn.clone(),
                contract: self.ids[e.contract as usize].clone(),
                validity: Validity::new(ts(e.from), ts(e.to)).unwrap_or_default(),
            };
            let mut col = Collector::new(&mut reasoning);
            if !matches!(outcome, HostOutcome::NotHosted) {
                for e in &valid {
                    col.add(Verdict::Shadowed, || HostReason::Row {
                        verdict: Verdict::Shadowed,
                        row: mk(e),
                    });
                }
            } else if valid.is_empty() {
                if let Some(e) = ended {
                    col.add(Verdict::Ended, || HostReason::Row {
                        verdict: Verdict::Ended,
                        row: mk(e),
                    });
                }
                if let Some(e) = es.get(p) {
                    col.add(Verdict::NotYetValid, || HostReason::Row {
                        verdict: Verdict::NotYetValid,
                        row: mk(e),
                    });
                }
            } else {
                let verdict = if valid.len() == 1 {
                    Verdict::Matched
                } else {
                    Verdict::Conflicting
                };
                let ms: Vec<DomainMatch> = valid.iter().map(|e| mk(e)).collect();
                for m in &ms {
                    col.add(verdict, || HostReason::Row {
                        verdict,
                        row: m.clone(),
                    });
                }
                outcome = match <[DomainMatch; 1]>::try_from(ms) {
                    Ok([one]) => HostOutcome::Hosted { found: one },
                    Err(ms) => HostOutcome::Ambiguous { candidates: ms },
                };
            }
            col.finish(|verdict, count| HostReason::MoreRows {
                domain: dn.clone(),
                verdict,
                count,
            });
        }
        HostAttribution {
            host: name.clone(),
            at,
            outcome,
            reasoning,
        }
    }

    /// Attributes the host of a URL (`http://www.example.com/x`, or `www.example.com/x`
    /// without a scheme): a name through the hosted domains, an address through the
    /// assignments (without a port: a URL's port is the server's, not a CGNAT source).
    pub fn lookup_url(&self, url: &str, at: Timestamp) -> Result<UrlAttribution, HostError> {
        let text = url.trim();
        let parsed = match url::Url::parse(text) {
            Ok(u) if u.has_host() => u,
            Ok(_) | Err(url::ParseError::RelativeUrlWithoutBase) => {
                url::Url::parse(&format!("http://{text}")).map_err(|e| HostError::InvalidUrl {
                    url: text.to_string(),
                    reason: e.to_string(),
                })?
            }
            Err(e) => {
                return Err(HostError::InvalidUrl {
                    url: text.to_string(),
                    reason: e.to_string(),
                });
            }
        };
        match parsed.host() {
            Some(url::Host::Domain(d)) => {
                let name = DomainName::parse(d).map_err(HostError::InvalidHost)?;
                Ok(UrlAttribution::Domain(self.lookup_domain(&name, at)))
            }
            Some(url::Host::Ipv4(a)) => Ok(UrlAttribution::Ip(self.lookup_ip(a.into(), at, None))),
            Some(url::Host::Ipv6(a)) => Ok(UrlAttribution::Ip(self.lookup_ip(a.into(), at, None))),
            None => Err(HostError::NoHost(text.to_string())),
        }
    }
}
