//! RDAP ip network responses (and IANA bootstrap files) from arbitrary bytes: never a
//! panic; a parsed network serialises and answers `contains`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(net) = abusedesk_rdap::parse_ip_network(data) {
        let _ = serde_json::to_vec(&net);
        if let Some(start) = net.start_address {
            let _ = net.contains(start);
        }
        if let Some(c) = &net.abuse_contact {
            assert!(!c.emails.is_empty() || c.rule == abusedesk_rdap::ContactRule::Registry);
        }
    }
    let _ = abusedesk_rdap::Bootstrap::from_iana_files(&[data]);
});
