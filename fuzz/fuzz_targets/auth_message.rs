//! Every check on an arbitrary message, with DNS answered from a small fixed zone.
#![no_main]
use abusedesk_auth::dns::Resolver;
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::{Authenticator, Session};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const ZONE: &str = "$ORIGIN example.com.\n@ TXT \"v=spf1 a mx include:_spf.example.com -all\"\n_spf TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"\n_dmarc TXT \"v=DMARC1; p=reject\"\nsel._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n@ MX 10 mail\nmail A 192.0.2.1\n";

fn setup() -> &'static (Authenticator, tokio::runtime::Runtime) {
    static S: OnceLock<(Authenticator, tokio::runtime::Runtime)> = OnceLock::new();
    S.get_or_init(|| {
        let (zone, _) = Zone::parse(ZONE.as_bytes(), None).expect("zone");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        (Authenticator::new(Resolver::from_zone(zone), "fuzz.test").expect("auth"), rt)
    })
}

fuzz_target!(|data: &[u8]| {
    let (auth, rt) = setup();
    let session = Session {
        ip: Some("192.0.2.1".parse().unwrap()),
        helo: Some("mail.example.com".into()),
        mail_from: Some("joe@example.com".into()),
        at: 1_700_000_000,
    };
    let report = rt.block_on(auth.authenticate(data, &session));
    let _ = report.authentication_results("\r\n\t");
});
