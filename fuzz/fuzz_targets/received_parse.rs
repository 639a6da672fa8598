//! The Received parser on arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = abusedesk_forensics::parse_received(&text);
    let _ = abusedesk_forensics::parse_date(&text);
});
