//! Golden tests: every RDAP response in tests/data/corpus (copied, with licenses, from
//! the shared corpus) parses to the `.expected.json` beside it.
//!
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p abusedesk-rdap
//! --test golden`, then review the diff.
use abusedesk_rdap::{ContactRule, Quirk, Rir, parse_ip_network};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus")
}

fn inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            inputs(&p, out);
        } else {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".json") && !name.ends_with(".expected.json") && name != "rdap.json" {
                out.push(p);
            }
        }
    }
}

fn expected_path(input: &Path) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    input.with_file_name(format!(
        "{}.expected.json",
        name.strip_suffix(".json").unwrap()
    ))
}

fn rendered(body: &[u8]) -> String {
    let value = match parse_ip_network(body) {
        Ok(n) => serde_json::to_value(n).unwrap(),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

#[test]
fn every_corpus_response_matches_its_golden_file() {
    let mut files = Vec::new();
    inputs(&corpus(), &mut files);
    assert_eq!(files.len(), 13, "{files:?}");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for input in &files {
        let got = rendered(&std::fs::read(input).unwrap());
        let exp = expected_path(input);
        if update {
            std::fs::write(&exp, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&exp) {
            Ok(want) if want == got => {}
            Ok(_) => failures.push(format!(
                "{} differs from {}",
                input.display(),
                exp.display()
            )),
            Err(_) => failures.push(format!("{} is missing", exp.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn combined_ipwhois_file_matches_the_split_responses() {
    let all: serde_json::Value =
        serde_json::from_slice(&std::fs::read(corpus().join("ipwhois/rdap.json")).unwrap())
            .unwrap();
    let obj = all.as_object().unwrap();
    assert_eq!(obj.len(), 10);
    for (ip, entry) in obj {
        let body = serde_json::to_vec(&entry["response"]).unwrap();
        let split = corpus()
            .join("ipwhois/responses")
            .join(format!("{}.json", ip.replace(':', "_")));
        let from_split = parse_ip_network(&std::fs::read(&split).unwrap()).unwrap();
        let from_combined = parse_ip_network(&body).unwrap();
        assert_eq!(from_combined, from_split, "{ip}");
        // The parsed form round-trips through JSON (the store keeps it).
        let json = serde_json::to_string(&from_split).unwrap();
        let back: abusedesk_rdap::IpNetwork = serde_json::from_str(&json).unwrap();
        assert_eq!(back, from_split, "{ip}");
        assert!(
            from_split.contains(ip.parse().unwrap()),
            "{ip} not in its network"
        );
    }
}

fn parse(rel: &str) -> abusedesk_rdap::IpNetwork {
    parse_ip_network(&std::fs::read(corpus().join(rel)).unwrap()).unwrap()
}

/// The README's table of abuse contacts, rule by rule (the goldens hold the rest).
#[test]
fn abuse_contacts_as_the_corpus_readme_lists_them() {
    let cases: &[(&str, ContactRule, Option<&str>, &[&str])] = &[
        (
            "ipwhois/responses/74.125.225.229.json",
            ContactRule::NestedAbuseRole,
            Some("ZG39-ARIN"),
            &["arin-contact@google.com"],
        ),
        (
            "ipwhois/responses/2001_4860_4860__8888.json",
            ContactRule::AbuseRole,
            Some("ZG39-ARIN"),
            &["arin-contact@google.com"],
        ),
        (
            "ipwhois/responses/62.239.237.1.json",
            ContactRule::AbuseRole,
            Some("BTCR3-RIPE"),
            &[
                "zzdnsr@bt.com",
                "steve.a.marshall@bt.com",
                "lee.bailey-hague@bt.com",
            ],
        ),
        (
            "ipwhois/responses/210.107.73.73.json",
            ContactRule::AbuseRole,
            Some("IRT-KRNIC-KR"),
            &["hostmaster@nic.or.kr"],
        ),
        (
            "ipwhois/responses/2001_240_10c_1__ca20_9d1d.json",
            ContactRule::NetworkContact,
            Some("JNIC1-AP"),
            &["hostmaster@nic.ad.jp"],
        ),
        (
            "ipwhois/responses/200.57.141.161.json",
            ContactRule::AbuseRole,
            Some("RYT2"),
            &["operacion.redes@TRIARA.COM"],
        ),
        (
            "ipwhois/responses/196.11.240.215.json",
            ContactRule::AbuseRemark,
            None,
            &["abuse@mtnbusiness.co.za"],
        ),
        (
            "ipwhois/responses/2001_43f8_7b0__.json",
            ContactRule::EntityWithoutRoles,
            Some("TT8-AFRINIC"),
            &["jpmuga@tespok.co.ke"],
        ),
        (
            "icann-rdap-conformance-tool/ipNetwork-valid.json",
            ContactRule::AbuseRole,
            Some("IRT-CHINANET-CN"),
            &["anti-spam@chinatelecom.cn"],
        ),
        (
            "icann-rdap/network_192_198_0_0.json",
            ContactRule::AbuseRole,
            Some("PETSI-ARIN"),
            &["daniel.petsinger@radiolinkinternet.com"],
        ),
        (
            "icann-rdap/2001_db8__.json",
            ContactRule::NetworkContact,
            Some("XXXX"),
            &["joe.user@example.com"],
        ),
    ];
    for (file, rule, handle, emails) in cases {
        let c = parse(file)
            .abuse_contact
            .unwrap_or_else(|| panic!("{file}: none"));
        assert_eq!(c.rule, *rule, "{file}: {}", c.explanation);
        assert_eq!(c.handle.as_deref(), *handle, "{file}");
        assert_eq!(c.emails, *emails, "{file}");
    }
}

#[test]
fn quirks_of_2015_are_tolerated_and_reported() {
    let arin = parse("ipwhois/responses/74.125.225.229.json");
    assert_eq!(arin.start_address, Some("74.125.0.0".parse().unwrap()));
    assert_eq!(arin.cidrs, vec!["74.125.0.0/16".parse().unwrap()]);
    assert!(
        arin.quirks
            .iter()
            .any(|q| matches!(q, Quirk::ZeroPaddedAddress { .. }))
    );
    assert_eq!(arin.registry, Some(Rir::Arin));

    let ripe = parse("ipwhois/responses/62.239.237.1.json");
    assert!(ripe.quirks.contains(&Quirk::MissingObjectClassName));
    assert!(
        ripe.quirks
            .iter()
            .any(|q| matches!(q, Quirk::PrefixOnAddress { .. }))
    );
    assert_eq!(ripe.cidrs, vec!["62.239.237.0/24".parse().unwrap()]);
    assert_eq!(ripe.country.as_deref(), Some("GB"));

    let v6 = parse("ipwhois/responses/2001_4860_4860__8888.json");
    assert_eq!(v6.cidrs, vec!["2001:4860::/32".parse().unwrap()]);

    let afrinic = parse("ipwhois/responses/196.11.240.215.json");
    assert!(
        afrinic
            .quirks
            .iter()
            .any(|q| matches!(q, Quirk::EntityWithoutRoles { .. }))
    );
    assert_eq!(
        afrinic.parent_handle.as_deref(),
        Some("196.0.0.0 - 196.255.255.255")
    );
    // 196.11.239.0 - 196.11.246.255 is not one prefix.
    assert_eq!(afrinic.cidrs.len(), 4);

    let lacnic = parse("ipwhois/responses/2801_10_c000__.json");
    assert_eq!(
        lacnic.start_address,
        Some("2801:10:c000::".parse().unwrap())
    );
    assert_eq!(lacnic.registry, Some(Rir::Lacnic));
}

/// When the shared corpus is beside the repository, check our copy is complete.
#[test]
fn copied_corpus_is_complete() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/rdap");
    if !shared.is_dir() {
        println!(
            "shared corpus not found at {}; skipping the completeness check",
            shared.display()
        );
        return;
    }
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut files = Vec::new();
    walk(&shared, &shared, &mut files);
    assert!(!files.is_empty());
    for rel in files {
        let ours = std::fs::read(corpus().join(&rel))
            .unwrap_or_else(|_| panic!("{} not copied into tests/data/corpus", rel.display()));
        assert_eq!(
            ours,
            std::fs::read(shared.join(&rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
}
