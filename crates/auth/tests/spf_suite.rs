//! The openspf RFC 7208 suite (tests/data/spf), every case through the live resolver
//! against the scenario's zone served by a loopback DNS server.
use abusedesk_auth::dns::server::ZoneServer;
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::dns::{LiveConfig, Rdata, Resolver};
use abusedesk_auth::spf::{self, SpfResult};
use serde::Deserialize;
use serde_yaml_ng::Value;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

const SUITE: &str = include_str!("data/spf/rfc7208-tests.yml");

/// YAML `\xNN` escapes are code points; the suite means raw bytes.
fn bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for c in s.chars() {
        let cp = u32::from(c);
        if cp < 256 {
            out.push(cp as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

fn strings(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::String(s) => vec![bytes(s)],
        Value::Sequence(seq) if seq.is_empty() => vec![Vec::new()],
        Value::Sequence(seq) => seq.iter().filter_map(|x| x.as_str()).map(bytes).collect(),
        other => vec![bytes(&serde_yaml_ng::to_string(other).unwrap_or_default())],
    }
}

fn zone_of(zonedata: &Value) -> Zone {
    let mut zone = Zone::new();
    let Some(map) = zonedata.as_mapping() else {
        return zone;
    };
    for (name, entries) in map {
        let name = name.as_str().expect("zone name");
        let mut has_txt = false;
        let mut txt_none = false;
        let mut spf = Vec::new();
        for entry in entries.as_sequence().expect("entries") {
            if entry.as_str() == Some("TIMEOUT") {
                zone.set_timeout(name).unwrap();
                continue;
            }
            let m = entry.as_mapping().expect("record");
            for (rtype, data) in m {
                let rtype = rtype.as_str().unwrap();
                let rdata = match rtype {
                    "SPF" => {
                        spf.push(strings(data));
                        Rdata::Spf(strings(data))
                    }
                    "TXT" => {
                        if data.as_str() == Some("NONE") {
                            txt_none = true;
                            continue;
                        }
                        has_txt = true;
                        Rdata::Txt(strings(data))
                    }
                    "A" => Rdata::A(data.as_str().unwrap().parse().unwrap()),
                    "AAAA" => Rdata::Aaaa(data.as_str().unwrap().parse().unwrap()),
                    "MX" => {
                        let seq = data.as_sequence().unwrap();
                        Rdata::Mx {
                            preference: seq[0].as_u64().unwrap() as u16,
                            exchange: seq[1]
                                .as_str()
                                .unwrap()
                                .trim_end_matches('.')
                                .to_ascii_lowercase(),
                        }
                    }
                    "PTR" => Rdata::Ptr(
                        data.as_str()
                            .unwrap()
                            .trim_end_matches('.')
                            .to_ascii_lowercase(),
                    ),
                    "CNAME" => Rdata::Cname(
                        data.as_str()
                            .unwrap()
                            .trim_end_matches('.')
                            .to_ascii_lowercase(),
                    ),
                    other => panic!("unknown type {other}"),
                };
                zone.add(name, rdata, 300).unwrap();
            }
        }
        if !has_txt && !txt_none {
            for s in spf {
                zone.add(name, Rdata::Txt(s), 300).unwrap();
            }
        }
    }
    zone
}

#[derive(Debug, Deserialize)]
struct Case {
    helo: String,
    host: String,
    mailfrom: String,
    result: Value,
    explanation: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7208_suite() {
    let mut passed = 0;
    let mut total = 0;
    let mut failures = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(SUITE) {
        let scenario = Value::deserialize(doc).expect("yaml");
        let description = scenario["description"].as_str().unwrap_or("").to_string();
        let zone = zone_of(&scenario["zonedata"]);
        let server = ZoneServer::start(Arc::new(zone), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let resolver = Resolver::live(LiveConfig {
            server: Some(server.local_addr()),
            timeout: Duration::from_millis(400),
            attempts: 1,
            ..LiveConfig::default()
        })
        .unwrap();
        let tests = scenario["tests"].as_mapping().expect("tests");
        for (id, case) in tests {
            let id = id.as_str().unwrap();
            let case: Case = serde_yaml_ng::from_value(case.clone()).expect("case");
            total += 1;
            let ip: IpAddr = case.host.parse().unwrap();
            let out =
                spf::verify_mail_from(&resolver, ip, &case.helo, &case.mailfrom, "unknown", 0)
                    .await;
            let accepted: Vec<String> = match &case.result {
                Value::String(s) => vec![s.clone()],
                Value::Sequence(seq) => seq
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                other => panic!("bad result {other:?}"),
            };
            let result_ok = accepted
                .iter()
                .any(|r| SpfResult::parse(r) == Some(out.result));
            let exp_ok = match case.explanation.as_deref() {
                None => true,
                Some("DEFAULT") => out.explanation.is_none(),
                // Case-insensitive: the suite spells IPv6 nibbles as its input spelt the address;
                // DNS names are case-insensitive and RFC 7208 section 7.4 prints them lower-case.
                Some(e) => out
                    .explanation
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(e)),
            };
            if result_ok && exp_ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{description} / {id}: expected {accepted:?} exp {:?}, got {} exp {:?} ({})",
                    case.explanation, out.result, out.explanation, out.reason
                ));
            }
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("openspf RFC 7208 suite: {passed}/{total} passed");
    assert_eq!(total, 203, "the suite has 203 tests");
    assert_eq!(passed, total, "{} failures", failures.len());
}
