//! RFC 1035 master files (`--dns-zone`), then lookups in what loaded.
#![no_main]
use abusedesk_auth::dns::RecordType;
use abusedesk_auth::dns::zone::Zone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((zone, _)) = Zone::parse(data, Some("example.test")) {
        let names: Vec<String> = zone.names().map(str::to_string).take(16).collect();
        for n in names {
            for t in [RecordType::A, RecordType::Txt, RecordType::Mx, RecordType::Cname] {
                let _ = zone.resolve(&n, t);
            }
        }
    }
});
