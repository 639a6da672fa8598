//! The Purported Responsible Address (RFC 4407) of any message.
#![no_main]
use abusedesk_auth::sender_id::purported_responsible_address;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(msg) = abusedesk_auth::parse_message(data) {
        let _ = purported_responsible_address(&msg.headers);
    }
});
