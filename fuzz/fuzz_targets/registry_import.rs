//! Registry CSV and JSON import from arbitrary bytes: never a panic; whatever imports
//! builds an index that answers lookups.
#![no_main]
use abusedesk_registry::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = contracts_from_csv(data);
    let _ = domains_from_csv(data);
    let _ = networks_from_csv(data);
    let _ = registry_from_json(data);
    let _ = assignments_from_json(data);
    let rows = match assignments_from_csv(data) {
        Ok(rows) => rows,
        Err(e) => {
            assert!(e.count() > 0);
            let _ = e.to_string();
            return;
        }
    };
    let index = RegistryIndex::from_rows(vec![], vec![], &rows, &[]);
    for a in rows.iter().take(16) {
        let at = a.validity.from().unwrap_or(Timestamp::MIN);
        let port = a.ports.map(|p| p.from());
        let found = index.lookup_ip(a.prefix.addr(), at, port);
        assert!(!matches!(found.outcome, IpOutcome::NotOurs), "{found}");
        let _ = found.to_string();
    }
});
