//! Attribution index benchmark: build time, memory, lookups/s and latency percentiles.
//!
//!     cargo bench -p abusedesk-registry --bench lookup
//!     REGISTRY_BENCH_ROWS=1000000 cargo bench -p abusedesk-registry --bench lookup
//!
//! The data set is synthetic but shaped like an access ISP's history over one year:
//! - 62% DHCP /32 leases: addresses in 10 /16 pools, 1-8 leases each (churn), gaps
//!   between leases;
//! - 15% IPv6 /56 delegations with churn;
//! - 18% CGNAT rows: /32s in 100.64.0.0/10, 32 port blocks of 2016 ports each, two
//!   generations (a re-balancing half-way through the year);
//! - 5% static business prefixes /24-/29 and /48, open-ended; one in 50 is a /24 inside
//!   a DHCP pool (so most-specific matching and shadowing are exercised).
use abusedesk_registry::{
    Assignment, ContractId, IpOutcome, Network, PortRange, Prefix, RegistryIndex, RowId, Timestamp,
    Validity, assignments_from_csv,
};
use ipnet::IpNet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

const YEAR_START: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const YEAR: i64 = 366 * 86_400;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn ts(v: i64) -> Timestamp {
    Timestamp::from_unix(v).expect("in range")
}

fn contract(rng: &mut Rng, ids: &[ContractId]) -> ContractId {
    ids[rng.below(ids.len() as u64) as usize].clone()
}

/// Consecutive leases with gaps; the last may be open.
fn leases(rng: &mut Rng, n: u64) -> Vec<(i64, Option<i64>)> {
    let mut out = Vec::new();
    let mut t = YEAR_START + rng.below(86_400) as i64;
    let slot = YEAR / n.max(1) as i64;
    for i in 0..n {
        let len = slot / 2 + rng.below(slot as u64 / 2) as i64;
        let end = if i + 1 == n && rng.below(3) == 0 {
            None
        } else {
            Some(t + len.max(60))
        };
        out.push((t, end));
        t += slot;
    }
    out
}

fn generate(rows: usize, seed: u64) -> (Vec<Assignment>, Vec<Network>) {
    let mut rng = Rng(seed);
    let ids: Vec<ContractId> = (0..rows / 3 + 1)
        .map(|i| ContractId::parse(&format!("C-{i:07}")).expect("valid id"))
        .collect();
    let mut out = Vec::with_capacity(rows + 64);
    let dhcp = rows * 62 / 100;
    let v6 = rows * 15 / 100;
    let cgnat = rows * 18 / 100;

    // DHCP pools: 10.{0..9}.x.y style but public-looking: 198.18.0.0/15 + 203.0.0.0/16 ...
    let pools: Vec<u32> = (0..10u32).map(|i| 0x3C00_0000 + (i << 16)).collect(); // 60.0-9.0.0/16
    let mut addr_i = 0u64;
    while out.len() < dhcp {
        let pool = pools[(addr_i % 10) as usize];
        let host = (addr_i / 10) as u32 & 0xFFFF;
        addr_i += 1;
        let ip = Ipv4Addr::from(pool | host);
        let n = 1 + rng.below(8);
        for (from, to) in leases(&mut rng, n) {
            if out.len() >= dhcp {
                break;
            }
            out.push(Assignment {
                prefix: Prefix::host(IpAddr::V4(ip)),
                contract: contract(&mut rng, &ids),
                validity: Validity::new(Some(ts(from)), to.map(ts)).expect("ordered"),
                ports: None,
            });
        }
    }
    // IPv6 /56 delegations from 2001:db8::/32-like space (2400:4000::/24 here).
    let mut p6 = 0u128;
    while out.len() < dhcp + v6 {
        let base: u128 = 0x2400_4000u128 << 96;
        let net = base | (p6 << 72);
        p6 += 1;
        let prefix =
            Prefix::from_net(IpNet::new(IpAddr::V6(Ipv6Addr::from(net)), 56).expect("len"));
        let n = 1 + rng.below(4);
        for (from, to) in leases(&mut rng, n) {
            if out.len() >= dhcp + v6 {
                break;
            }
            out.push(Assignment {
                prefix,
                contract: contract(&mut rng, &ids),
                validity: Validity::new(Some(ts(from)), to.map(ts)).expect("ordered"),
                ports: None,
            });
        }
    }
    // CGNAT: 32 blocks of 2016 ports per address, two generations.
    let mut c = 0u32;
    let half = YEAR_START + YEAR / 2;
    while out.len() < dhcp + v6 + cgnat {
        let ip = Ipv4Addr::from(0x6440_0000u32 + c); // 100.64.0.0 + c
        c += 1;
        for generation in 0..2 {
            for b in 0..32u16 {
                if out.len() >= dhcp + v6 + cgnat {
                    break;
                }
                let from = 1024 + b * 2016;
                let validity = if generation == 0 {
                    Validity::new(Some(ts(YEAR_START)), Some(ts(half)))
                } else {
                    Validity::new(Some(ts(half)), None)
                }
                .expect("ordered");
                out.push(Assignment {
                    prefix: Prefix::host(IpAddr::V4(ip)),
                    contract: contract(&mut rng, &ids),
                    validity,
                    ports: Some(PortRange::new(from, from + 2015).expect("ordered")),
                });
            }
        }
    }
    // Static business prefixes: /24-/29 in their own space (61.0.0.0/8, 62.0.0.0/8),
    // one in 50 inside a DHCP pool (shadowing part of it), and IPv6 /48s.
    let mut s = 0u32;
    while out.len() < rows {
        let prefix = if s % 4 == 3 {
            let net = (0x2a00_1000u128 << 96) | (u128::from(s) << 80);
            Prefix::from_net(IpNet::new(IpAddr::V6(Ipv6Addr::from(net)), 48).expect("len"))
        } else if s % 50 == 1 {
            // Inside a pool: distinct /24s (10 pools x 256).
            let k = (s / 50) % 2560;
            let base = pools[(k % 10) as usize] | ((k / 10) << 8);
            Prefix::from_net(IpNet::new(IpAddr::V4(Ipv4Addr::from(base)), 24).expect("len"))
        } else {
            let len = 24 + (s % 6) as u8;
            let base = 0x3D00_0000u32.wrapping_add(s.wrapping_mul(256));
            Prefix::from_net(IpNet::new(IpAddr::V4(Ipv4Addr::from(base)), len).expect("len"))
        };
        s += 1;
        out.push(Assignment {
            prefix,
            contract: contract(&mut rng, &ids),
            validity: Validity::new(Some(ts(YEAR_START - 5 * YEAR)), None).expect("ordered"),
            ports: None,
        });
    }
    let mut networks: Vec<Network> = pools
        .iter()
        .map(|&p| Network {
            prefix: Prefix::from_net(IpNet::new(IpAddr::V4(Ipv4Addr::from(p)), 16).expect("len")),
            description: "DHCP pool".into(),
        })
        .collect();
    networks.push(Network {
        prefix: Prefix::parse("60.0.0.0/6").expect("valid"),
        description: "our IPv4 space".into(),
    });
    networks.push(Network {
        prefix: Prefix::parse("100.64.0.0/10").expect("valid"),
        description: "CGNAT".into(),
    });
    networks.push(Network {
        prefix: Prefix::parse("2400:4000::/24").expect("valid"),
        description: "IPv6 delegations".into(),
    });
    (out, networks)
}

fn queries(rows: &[Assignment], n: usize, seed: u64) -> Vec<(IpAddr, Timestamp, Option<u16>)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            if rng.below(10) < 7 {
                // A row's address at a time inside its interval.
                let r = &rows[rng.below(rows.len() as u64) as usize];
                let from = r.validity.from().map_or(YEAR_START, Timestamp::unix);
                let to = r.validity.to().map_or(YEAR_START + YEAR, Timestamp::unix);
                let at = from + rng.below((to - from).max(1) as u64) as i64;
                let ip = match r.prefix.addr() {
                    IpAddr::V4(a) => {
                        let span = 1u64 << (32 - u32::from(r.prefix.prefix_len()));
                        IpAddr::V4(Ipv4Addr::from(u32::from(a) + rng.below(span) as u32))
                    }
                    IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) | 0x1234)),
                };
                let port = r
                    .ports
                    .map(|p| p.from() + rng.below(u64::from(p.to() - p.from())) as u16);
                (ip, ts(at), port)
            } else {
                // Anywhere in the pools or outside, any time: mostly misses.
                let ip = IpAddr::V4(Ipv4Addr::from(
                    0x3C00_0000u32 + rng.below(0x000C_0000) as u32,
                ));
                (ip, ts(YEAR_START + rng.below(YEAR as u64) as i64), None)
            }
        })
        .collect()
}

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn run(rows: usize) {
    println!("== {rows} assignment rows");
    let t0 = Instant::now();
    let (data, networks) = generate(rows, 0x5EED_0000 ^ rows as u64);
    println!("generated in {:.2} s", t0.elapsed().as_secs_f64());

    let rss_before = rss_kib();
    let t0 = Instant::now();
    let mut b = RegistryIndex::builder();
    for n in networks {
        b.network(n);
    }
    for (i, a) in data.iter().enumerate() {
        b.assignment(RowId(i as u64), a);
    }
    let index = b.build();
    let build = t0.elapsed();
    let rss_after = rss_kib();
    let stats = index.stats();
    println!(
        "build: {:.3} s ({:.2} M rows/s); {} v4 + {} v6 prefixes; lengths v4 {:?} v6 {:?}",
        build.as_secs_f64(),
        rows as f64 / build.as_secs_f64() / 1e6,
        stats.v4_prefixes,
        stats.v6_prefixes,
        stats.v4_lengths,
        stats.v6_lengths
    );
    println!(
        "memory: index structures ~{:.0} MiB ({:.0} B/row); RSS grew {} MiB during build",
        stats.heap_bytes as f64 / 1_048_576.0,
        stats.heap_bytes as f64 / rows as f64,
        match (rss_before, rss_after) {
            (Some(a), Some(b)) => format!("{}", (b.saturating_sub(a)) / 1024),
            _ => "?".into(),
        }
    );

    let qs = queries(&data, 1_000_000, 0xABCD ^ rows as u64);
    // Warm up.
    for q in qs.iter().take(100_000) {
        black_box(index.lookup_ip(q.0, q.1, q.2));
    }
    // Throughput.
    let t0 = Instant::now();
    let mut assigned = 0usize;
    for q in &qs {
        let a = index.lookup_ip(q.0, q.1, q.2);
        if matches!(a.outcome, IpOutcome::Assigned { .. }) {
            assigned += 1;
        }
        black_box(a);
    }
    let el = t0.elapsed();
    println!(
        "lookups: {:.0} /s single-threaded ({} of {} assigned)",
        qs.len() as f64 / el.as_secs_f64(),
        assigned,
        qs.len()
    );
    // Latency per lookup.
    let mut lat: Vec<u64> = Vec::with_capacity(200_000);
    for q in qs.iter().take(200_000) {
        let t = Instant::now();
        black_box(index.lookup_ip(q.0, q.1, q.2));
        lat.push(t.elapsed().as_nanos() as u64);
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    println!(
        "latency: p50 {:.2} us, p99 {:.2} us, p99.9 {:.2} us, max {:.2} us",
        pct(0.50),
        pct(0.99),
        pct(0.999),
        *lat.last().unwrap_or(&0) as f64 / 1000.0
    );
    drop(index);
}

fn csv_import(rows: usize) {
    let (data, _) = generate(rows, 7);
    let mut csv = String::from("prefix,contract,valid_from,valid_to,port_from,port_to\n");
    for a in &data {
        let (pf, pt) = a.ports.map_or((String::new(), String::new()), |p| {
            (p.from().to_string(), p.to().to_string())
        });
        csv.push_str(&format!(
            "{},{},{},{},{pf},{pt}\n",
            a.prefix,
            a.contract,
            a.validity.from().map(|t| t.to_string()).unwrap_or_default(),
            a.validity.to().map(|t| t.to_string()).unwrap_or_default()
        ));
    }
    let t0 = Instant::now();
    let parsed = assignments_from_csv(csv.as_bytes()).expect("generated CSV is valid");
    let el = t0.elapsed();
    assert_eq!(parsed.len(), data.len());
    println!(
        "== CSV import: {} rows ({:.0} MiB) parsed in {:.2} s ({:.0} rows/s)",
        rows,
        csv.len() as f64 / 1_048_576.0,
        el.as_secs_f64(),
        rows as f64 / el.as_secs_f64()
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::var("REGISTRY_BENCH_ROWS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000_000, 3_000_000]);
    for rows in sizes {
        run(rows);
    }
    csv_import(1_000_000);
}
