//! DomainKey-Signature tags and the simple/nofws canonicalizations over a message.
#![no_main]
use abusedesk_auth::domainkeys::{Canon, sending_address, signed_data};
use abusedesk_auth::tags::TagList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = TagList::parse(data);
    if let Some(msg) = abusedesk_auth::parse_message(data) {
        let _ = sending_address(&msg.headers);
        for canon in [Canon::Simple, Canon::Nofws] {
            let _ = signed_data(&msg.headers, Some(&["from".to_string(), "subject".to_string()]), msg.raw_body(), canon);
            let _ = signed_data(&msg.headers, None, msg.raw_body(), canon);
        }
    }
});
