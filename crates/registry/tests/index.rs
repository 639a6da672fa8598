//! Attribution index behaviour, including a randomized comparison against a plain scan.
use abusedesk_registry::*;
use std::net::IpAddr;

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const REGISTRY: &str = r#"{
  "networks": [
    {"prefix": "203.0.113.0/24", "description": "dial-up pool Tokyo"},
    {"prefix": "100.64.0.0/10", "description": "CGNAT"},
    {"prefix": "2001:db8::/32", "description": "IPv6"}
  ],
  "contracts": [
    {"id": "R-1", "name": "Reseller KK", "email": "noc@reseller.example", "language": "ja"},
    {"id": "C-1", "name": "Alice", "email": "alice@example.net", "parent": "R-1"},
    {"id": "C-2", "name": "Bob", "email": "bob@example.net"},
    {"id": "C-3", "name": "Carol", "email": "carol@example.net"},
    {"id": "C-4", "name": "Dave", "email": "dave@example.net"}
  ],
  "assignments": [
    {"prefix": "203.0.113.7", "contract": "C-1", "valid_from": "2002-03-31T00:00:00Z", "valid_to": "2002-03-31T12:00:00Z"},
    {"prefix": "203.0.113.7", "contract": "C-2", "valid_from": "2002-03-31T12:00:00Z", "valid_to": "2002-04-01T00:00:00Z"},
    {"prefix": "203.0.113.7", "contract": "C-3", "valid_from": "2002-04-02T00:00:00Z", "valid_to": null},
    {"prefix": "203.0.113.128/25", "contract": "R-1", "valid_from": "2001-01-01T00:00:00Z"},
    {"prefix": "203.0.113.200", "contract": "C-4", "valid_from": "2002-01-01T00:00:00Z"},
    {"prefix": "100.64.0.1", "contract": "C-1", "valid_from": "2024-01-01T00:00:00Z", "port_from": 1024, "port_to": 2047},
    {"prefix": "100.64.0.1", "contract": "C-2", "valid_from": "2024-01-01T00:00:00Z", "port_from": 2048, "port_to": 3071},
    {"prefix": "2001:db8:1::/48", "contract": "C-4", "valid_from": "2010-01-01T00:00:00Z"}
  ],
  "domains": [
    {"domain": "example.org", "contract": "C-1"},
    {"domain": "shop.example.org", "contract": "C-2", "valid_from": "2020-01-01T00:00:00Z", "valid_to": "2021-01-01T00:00:00Z"}
  ]
}"#;

fn index() -> RegistryIndex {
    let d = registry_from_json(REGISTRY.as_bytes()).unwrap();
    RegistryIndex::from_rows(d.networks, d.contracts, &d.assignments, &d.domains)
}

#[test]
fn dhcp_history_is_time_aware_and_half_open() {
    let idx = index();
    let a = idx.lookup_ip(ip("203.0.113.7"), t("2002-03-31T11:59:59Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "C-1");
    // valid_to is exclusive: at 12:00:00 the address is Bob's.
    let a = idx.lookup_ip(ip("203.0.113.7"), t("2002-03-31T12:00:00Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "C-2");
    assert_eq!(
        a.to_string(),
        "203.0.113.7 at 2002-03-31T12:00:00Z: held by C-2 (row 1 203.0.113.7/32 -> C-2 [2002-03-31T12:00:00Z, 2002-04-01T00:00:00Z))\n  \
         - row 1 203.0.113.7/32 -> C-2 [2002-03-31T12:00:00Z, 2002-04-01T00:00:00Z) matches\n  \
         - inside our network 203.0.113.0/24 (dial-up pool Tokyo)"
    );
    // Between leases: ours, unassigned, with the neighbouring rows as the reasoning.
    let a = idx.lookup_ip(ip("203.0.113.7"), t("2002-04-01T08:00:00Z"), None);
    assert!(matches!(a.outcome, IpOutcome::Unassigned { .. }), "{a}");
    assert_eq!(
        a.to_string(),
        "203.0.113.7 at 2002-04-01T08:00:00Z: our address space (203.0.113.0/24), assigned to nobody at that time\n  \
         - row 1 203.0.113.7/32 -> C-2 [2002-03-31T12:00:00Z, 2002-04-01T00:00:00Z) had ended by then\n  \
         - row 2 203.0.113.7/32 -> C-3 [2002-04-02T00:00:00Z, open) had not started yet\n  \
         - inside our network 203.0.113.0/24 (dial-up pool Tokyo)"
    );
    let a = idx.lookup_ip(ip("203.0.113.7"), t("2030-01-01T00:00:00Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "C-3");
}

#[test]
fn most_specific_prefix_wins_and_shadows() {
    let idx = index();
    let a = idx.lookup_ip(ip("203.0.113.200"), t("2002-06-01T00:00:00Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "C-4");
    assert!(a.reasoning.iter().any(|r| matches!(r,
        Reason::Row { verdict: Verdict::Shadowed, row } if row.contract.as_str() == "R-1")));
    // Before C-4's assignment the /25 answers.
    let a = idx.lookup_ip(ip("203.0.113.200"), t("2001-06-01T00:00:00Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "R-1");
    let a = idx.lookup_ip(ip("203.0.113.129"), t("2001-06-01T00:00:00Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "R-1");
    let a = idx.lookup_ip(ip("203.0.113.1"), t("2001-06-01T00:00:00Z"), None);
    assert!(matches!(a.outcome, IpOutcome::Unassigned { .. }));
    let a = idx.lookup_ip(ip("198.51.100.1"), t("2001-06-01T00:00:00Z"), None);
    assert_eq!(a.outcome, IpOutcome::NotOurs);
    assert_eq!(a.reasoning, vec![Reason::OutsideOurNetworks]);
}

#[test]
fn cgnat_port_ranges() {
    let idx = index();
    let at = t("2024-05-01T00:00:00Z");
    let a = idx.lookup_ip(ip("100.64.0.1"), at, Some(2047));
    assert_eq!(a.contract().unwrap().as_str(), "C-1");
    let a = idx.lookup_ip(ip("100.64.0.1"), at, Some(2048));
    assert_eq!(a.contract().unwrap().as_str(), "C-2");
    assert!(a.reasoning.iter().any(|r| matches!(r,
        Reason::Row { verdict: Verdict::PortOutside, row } if row.contract.as_str() == "C-1")));
    let a = idx.lookup_ip(ip("100.64.0.1"), at, Some(80));
    assert!(matches!(a.outcome, IpOutcome::Unassigned { .. }), "{a}");
    let a = idx.lookup_ip(ip("100.64.0.1"), at, None);
    let IpOutcome::Ambiguous { candidates, .. } = &a.outcome else {
        panic!("{a}")
    };
    assert_eq!(candidates.len(), 2);
    assert!(a.summary().contains("no source port"), "{}", a.summary());
}

#[test]
fn ipv6_and_mapped_addresses() {
    let idx = index();
    let at = t("2020-01-01T00:00:00Z");
    let a = idx.lookup_ip(ip("2001:db8:1:2::5"), at, None);
    assert_eq!(a.contract().unwrap().as_str(), "C-4");
    assert_eq!(
        a.reasoning[0].to_string(),
        "row 7 2001:db8:1::/48 -> C-4 [2010-01-01T00:00:00Z, open) matches"
    );
    let a = idx.lookup_ip(ip("2001:db8:2::5"), at, None);
    assert!(matches!(a.outcome, IpOutcome::Unassigned { .. }));
    let a = idx.lookup_ip(ip("::ffff:203.0.113.200"), at, None);
    assert_eq!(a.ip, ip("203.0.113.200"));
    assert_eq!(a.contract().unwrap().as_str(), "C-4");
}

#[test]
fn overlapping_rows_are_ambiguous_not_guessed() {
    let rows = assignments_from_csv(
        b"prefix,contract,valid_from,valid_to\n\
          192.0.2.1,A,2020-01-01T00:00:00Z,2020-02-01T00:00:00Z\n\
          192.0.2.1,B,2020-01-15T00:00:00Z,\n",
    )
    .unwrap();
    let idx = RegistryIndex::from_rows(vec![], vec![], &rows, &[]);
    let a = idx.lookup_ip(ip("192.0.2.1"), t("2020-01-20T00:00:00Z"), None);
    assert!(matches!(a.outcome, IpOutcome::Ambiguous { .. }));
    assert!(a.summary().contains("conflicting"), "{}", a.summary());
    let a = idx.lookup_ip(ip("192.0.2.1"), t("2020-02-20T00:00:00Z"), None);
    assert_eq!(a.contract().unwrap().as_str(), "B");
    // No networks declared: an assignment still makes the address ours.
    let IpOutcome::Assigned { network, .. } = &a.outcome else {
        panic!()
    };
    assert!(network.is_none());
}

#[test]
fn hosts_and_urls() {
    let idx = index();
    let h = idx
        .lookup_host("WWW.Example.ORG.", t("2020-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(h.contract().unwrap().as_str(), "C-1");
    let h = idx
        .lookup_host("a.shop.example.org", t("2020-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(h.contract().unwrap().as_str(), "C-2");
    assert!(h.reasoning.iter().any(|r| matches!(r,
        HostReason::Row { verdict: Verdict::Shadowed, row } if row.contract.as_str() == "C-1")));
    // After shop.example.org left, the parent domain's contract answers.
    let h = idx
        .lookup_host("a.shop.example.org", t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(h.contract().unwrap().as_str(), "C-1");
    assert!(h.reasoning.iter().any(|r| matches!(
        r,
        HostReason::Row {
            verdict: Verdict::Ended,
            ..
        }
    )));
    let h = idx
        .lookup_host("example.com", t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(h.outcome, HostOutcome::NotHosted);
    assert!(
        idx.lookup_host("bad host", t("2022-06-01T00:00:00Z"))
            .is_err()
    );

    let u = idx
        .lookup_url(
            "https://Shop.Example.org:8443/login?x=1",
            t("2020-06-01T00:00:00Z"),
        )
        .unwrap();
    let UrlAttribution::Domain(h) = u else {
        panic!()
    };
    assert_eq!(h.contract().unwrap().as_str(), "C-2");
    let u = idx
        .lookup_url("shop.example.org/path", t("2020-06-01T00:00:00Z"))
        .unwrap();
    assert!(matches!(u, UrlAttribution::Domain(_)));
    let u = idx
        .lookup_url("http://203.0.113.200/x", t("2020-06-01T00:00:00Z"))
        .unwrap();
    let UrlAttribution::Ip(a) = u else { panic!() };
    assert_eq!(a.contract().unwrap().as_str(), "C-4");
    let u = idx
        .lookup_url("http://[2001:db8:1::1]/", t("2020-06-01T00:00:00Z"))
        .unwrap();
    assert!(matches!(u, UrlAttribution::Ip(_)));
    assert!(
        idx.lookup_url("http://", t("2020-06-01T00:00:00Z"))
            .is_err()
    );
}

#[test]
fn contracts_parents_and_problems() {
    let idx = index();
    let chain: Vec<&str> = idx
        .contract_chain(&ContractId::parse("C-1").unwrap())
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(chain, ["C-1", "R-1"]);
    assert!(idx.problems().is_empty(), "{:?}", idx.problems());

    let contracts = contracts_from_csv(
        b"id,name,email,parent\nA,A,a@x.example,B\nB,B,b@x.example,A\nC,C,c@x.example,Z\n",
    )
    .unwrap();
    let rows = assignments_from_csv(
        b"prefix,contract,valid_from,valid_to\n192.0.2.1,Q,,\n192.0.2.2,Q,,\n",
    )
    .unwrap();
    let idx = RegistryIndex::from_rows(vec![], contracts, &rows, &[]);
    let p: Vec<String> = idx.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        p,
        [
            "2 row(s) (first: row 0) name unknown contract Q",
            "contract A is its own ancestor",
            "contract B is its own ancestor",
            "contract C names unknown parent Z",
        ]
    );
    assert_eq!(
        idx.contract_chain(&ContractId::parse("A").unwrap()).len(),
        2
    );
}

#[test]
fn reasoning_is_bounded_for_busy_prefixes() {
    // 500 past leases of one address: the reasoning lists the neighbours, not 500 rows.
    let mut csv = String::from("prefix,contract,valid_from,valid_to,port_from,port_to\n");
    for i in 0..500u32 {
        let from = 1_000_000 + i64::from(i) * 100;
        csv.push_str(&format!(
            "192.0.2.1,C{i},{},{},,\n",
            Timestamp::from_unix(from).unwrap(),
            Timestamp::from_unix(from + 50).unwrap()
        ));
    }
    for i in 0..64u16 {
        csv.push_str(&format!(
            "192.0.2.2,P{i},,,{},{}\n",
            1024 + i * 1000,
            1024 + i * 1000 + 999
        ));
    }
    let rows = assignments_from_csv(csv.as_bytes()).unwrap();
    let idx = RegistryIndex::from_rows(vec![], vec![], &rows, &[]);
    let a = idx.lookup_ip(
        ip("192.0.2.1"),
        Timestamp::from_unix(1_000_000 + 250 * 100 + 75).unwrap(),
        None,
    );
    assert!(matches!(a.outcome, IpOutcome::NotOurs));
    assert_eq!(a.reasoning.len(), 3, "{a}");
    let a = idx.lookup_ip(
        ip("192.0.2.2"),
        Timestamp::from_unix(5).unwrap(),
        Some(1024 + 63 * 1000),
    );
    assert_eq!(a.contract().unwrap().as_str(), "P63");
    assert!(
        a.reasoning.iter().any(|r| matches!(
            r,
            Reason::MoreRows {
                verdict: Verdict::PortOutside,
                count: 59,
                ..
            }
        )),
        "{a}"
    );
    let a = idx.lookup_ip(ip("192.0.2.2"), Timestamp::from_unix(5).unwrap(), None);
    let IpOutcome::Ambiguous { candidates, .. } = &a.outcome else {
        panic!()
    };
    assert_eq!(candidates.len(), 64);
}

#[test]
fn attribution_serialises_for_the_store() {
    let idx = index();
    let a = idx.lookup_ip(ip("100.64.0.1"), t("2024-05-01T00:00:00Z"), Some(1500));
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["outcome"], "assigned");
    assert_eq!(json["match"]["contract"], "C-1");
    assert_eq!(json["match"]["port_from"], serde_json::Value::Null);
    assert_eq!(json["match"]["ports"]["from"], 1024);
    assert_eq!(json["match"]["valid_from"], "2024-01-01T00:00:00Z");
    assert_eq!(json["reasoning"][0]["kind"], "row");
    assert_eq!(json["reasoning"][0]["verdict"], "matched");
    assert_eq!(json["network"]["prefix"], "100.64.0.0/10");
}

// ---------------------------------------------------------------------------------------
// Randomized comparison with a plain scan (deterministic seed).

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The specification, as a scan over all rows.
fn oracle(rows: &[Assignment], ip: IpAddr, at: Timestamp, port: Option<u16>) -> Option<Vec<usize>> {
    let mut lens: Vec<u8> = rows.iter().map(|r| r.prefix.prefix_len()).collect();
    lens.sort_unstable();
    lens.dedup();
    for &len in lens.iter().rev() {
        let valid: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                let r = &rows[i];
                r.prefix.prefix_len() == len && r.prefix.contains(ip) && r.validity.contains(at)
            })
            .collect();
        let chosen: Vec<usize> = match port {
            Some(p) => {
                let inr: Vec<usize> = valid
                    .iter()
                    .copied()
                    .filter(|&i| rows[i].ports.is_some_and(|r| r.contains(p)))
                    .collect();
                if inr.is_empty() {
                    valid
                        .iter()
                        .copied()
                        .filter(|&i| rows[i].ports.is_none())
                        .collect()
                } else {
                    inr
                }
            }
            None => valid,
        };
        if !chosen.is_empty() {
            return Some(chosen);
        }
    }
    None
}

#[test]
fn index_agrees_with_a_plain_scan() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut rows = Vec::new();
    let lens = [32u8, 32, 32, 31, 30, 29, 28, 24, 16];
    for _ in 0..3000 {
        let len = lens[rng.below(lens.len() as u64) as usize];
        let addr = 0xC000_0200u32 | (rng.below(64) as u32); // 192.0.2.0/26 neighbourhood
        let prefix =
            Prefix::from_net(ipnet::IpNet::new(IpAddr::from(addr.to_be_bytes()), len).unwrap());
        let from = if rng.below(10) == 0 {
            None
        } else {
            Some(rng.below(10_000) as i64)
        };
        let to = match (from, rng.below(4)) {
            (_, 0) => None,
            (Some(f), _) => Some(f + 1 + rng.below(500) as i64),
            (None, _) => Some(rng.below(10_000) as i64 + 1),
        };
        let ports = if rng.below(5) == 0 {
            let a = rng.below(60_000) as u16;
            Some(PortRange::new(a, a + rng.below(5000) as u16).unwrap())
        } else {
            None
        };
        rows.push(Assignment {
            prefix,
            contract: ContractId::parse(&format!("C{}", rng.below(50))).unwrap(),
            validity: Validity::new(
                from.map(|x| Timestamp::from_unix(x).unwrap()),
                to.map(|x| Timestamp::from_unix(x).unwrap()),
            )
            .unwrap(),
            ports,
        });
    }
    let idx = RegistryIndex::from_rows(vec![], vec![], &rows, &[]);
    for _ in 0..5000 {
        let addr = 0xC000_0200u32 | (rng.below(80) as u32);
        let ip = IpAddr::from(addr.to_be_bytes());
        let at = Timestamp::from_unix(rng.below(11_000) as i64).unwrap();
        let port = if rng.below(2) == 0 {
            None
        } else {
            Some(rng.below(65_536) as u16)
        };
        let want = oracle(&rows, ip, at, port);
        let got = idx.lookup_ip(ip, at, port);
        let got_rows: Option<Vec<usize>> = match &got.outcome {
            IpOutcome::Assigned { found, .. } => Some(vec![found.row.0 as usize]),
            IpOutcome::Ambiguous { candidates, .. } => {
                Some(candidates.iter().map(|m| m.row.0 as usize).collect())
            }
            _ => None,
        };
        let mut got_sorted = got_rows.clone();
        if let Some(g) = got_sorted.as_mut() {
            g.sort_unstable();
        }
        assert_eq!(got_sorted, want, "{ip} at {at} port {port:?}:\n{got}");
    }
}

#[test]
fn attribution_json_round_trips() {
    let idx = index();
    for (addr, at, port) in [
        ("100.64.0.1", "2024-05-01T00:00:00Z", Some(1500)),
        ("100.64.0.1", "2024-05-01T00:00:00Z", None),
        ("203.0.113.7", "2002-04-01T08:00:00Z", None),
        ("203.0.113.200", "2002-06-01T00:00:00Z", None),
        ("198.51.100.1", "2002-06-01T00:00:00Z", None),
    ] {
        let a = idx.lookup_ip(ip(addr), t(at), port);
        let json = serde_json::to_string(&a).unwrap();
        let back: IpAttribution = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a, "{json}");
    }
    let h = idx
        .lookup_host("a.shop.example.org", t("2020-06-01T00:00:00Z"))
        .unwrap();
    let back: HostAttribution = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
    assert_eq!(back, h);
}
