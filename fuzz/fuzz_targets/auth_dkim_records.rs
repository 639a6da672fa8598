//! DKIM-Signature tag lists and DKIM key records.
#![no_main]
use abusedesk_auth::dkim::{check_signature_tags, parse_key_record};
use abusedesk_auth::tags::{TagList, strip_b_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tags) = TagList::parse(data) {
        let _ = check_signature_tags(&tags, 1_700_000_000);
        let _ = tags.list("h");
    }
    let _ = parse_key_record(data);
    let _ = strip_b_value(data);
});
