//! SPF / Sender ID record parser and macro expansion.
#![no_main]
use abusedesk_auth::spf::record::{MacroVars, parse_macro_string};
use abusedesk_auth::spf::parse_record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = parse_record(data) {
        let vars = MacroVars { sender: "a@b.example".into(), domain: "b.example".into(), ..MacroVars::default() };
        for d in &record.directives {
            let _ = d.to_string();
        }
        if let Some(r) = &record.redirect {
            let _ = r.expand(&vars);
        }
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(m) = parse_macro_string(text, true)
    {
        let _ = m.expand(&MacroVars::default());
    }
});
