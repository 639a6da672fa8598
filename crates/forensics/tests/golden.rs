//! Golden files: every `tests/golden/NAME.eml` is traced with the trust configuration in
//! `NAME.toml` (or `default.toml`), and the result must equal `NAME.json` (the JSON
//! Lines object of `abusedesk trace --format json`, pretty-printed, without `file`) and
//! `NAME.txt` (the text report). Run with `UPDATE_GOLDEN=1` to rewrite the expectations
//! after an intended change, then review the diff.
//!
//! The set must cover every MTA format the parser knows, every HELO class and every
//! indicator; the coverage tests below fail when one is missing.

use abusedesk_forensics::{
    HeloClass, IndicatorName, Mta, Trace, TraceConfig, TrustConfig, render_text, trace,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize, Default)]
struct Sidecar {
    #[serde(default)]
    trust: TrustConfig,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v
}

fn config_for(eml: &Path) -> TraceConfig {
    let own = eml.with_extension("toml");
    let path = if own.exists() {
        own
    } else {
        dir().join("default.toml")
    };
    let sidecar: Sidecar = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    TraceConfig::new(sidecar.trust)
}

fn traced() -> Vec<(PathBuf, Trace)> {
    cases()
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).unwrap();
            let t = trace(&raw, &config_for(&p));
            (p, t)
        })
        .collect()
}

fn compare(path: &Path, got: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, got).unwrap();
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(want) if want == got => {}
        Ok(want) => failures.push(format!(
            "{} differs:\n--- want\n{want}\n--- got\n{got}",
            path.display()
        )),
        Err(_) => failures.push(format!(
            "{} is missing (run with UPDATE_GOLDEN=1)",
            path.display()
        )),
    }
}

#[test]
fn golden_json_and_text() {
    let mut failures = Vec::new();
    let all = traced();
    assert!(all.len() >= 35, "golden set shrank to {}", all.len());
    for (p, t) in &all {
        let json = serde_json::to_string_pretty(t).unwrap() + "\n";
        compare(&p.with_extension("json"), &json, &mut failures);
        let name = p.file_name().unwrap().to_string_lossy();
        compare(
            &p.with_extension("txt"),
            &(render_text(t, &name) + "\n"),
            &mut failures,
        );
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn covers_every_helo_class() {
    let seen: HashSet<HeloClass> = traced()
        .iter()
        .filter_map(|(_, t)| t.origin.as_ref().map(|o| o.helo_class))
        .collect();
    let missing: Vec<_> = HeloClass::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "no golden message has the HELO class(es) {missing:?}"
    );
}

#[test]
fn covers_every_indicator() {
    let mut seen: HashSet<IndicatorName> = HashSet::new();
    for (_, t) in traced() {
        seen.extend(t.indicators.iter().map(|i| i.name));
    }
    let missing: Vec<_> = IndicatorName::ALL
        .iter()
        .filter(|n| !seen.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "no golden message raises the indicator(s) {missing:?}"
    );
}

#[test]
fn covers_every_mta_format() {
    let mut seen: HashSet<Mta> = HashSet::new();
    for (_, t) in traced() {
        seen.extend(t.hops.iter().filter_map(|h| h.received.mta));
    }
    for m in [
        Mta::Postfix,
        Mta::Sendmail,
        Mta::Exim,
        Mta::Qmail,
        Mta::Exchange,
        Mta::Gmail,
        Mta::Yahoo,
        Mta::Haraka,
        Mta::Stalwart,
        Mta::CommuniGate,
        Mta::Fetchmail,
    ] {
        assert!(seen.contains(&m), "no golden hop is recognised as {m:?}");
    }
}

/// The forum thread of domain source 002: with the receiving host 211.129.14.73 trusted,
/// the origin is the ODN dial-up customer, and the headers show a mass-mailing worm.
#[test]
fn forum_thread_002() {
    let p = dir().join("forum-002.eml");
    let t = trace(&std::fs::read(&p).unwrap(), &config_for(&p));
    let o = t.origin.as_ref().expect("an origin");
    assert_eq!(o.ip.to_string(), "143.90.172.25");
    assert_eq!(o.rdns.as_deref(), Some("TKYca-0315p25.ppp.odn.ad.jp"));
    assert_eq!(o.helo.as_deref(), Some("aak48900"));
    assert_eq!(o.helo_class, HeloClass::NoDot);
    assert_eq!(o.by.as_deref(), Some("smtp.estate.ocn.ne.jp"));
    assert_eq!(o.country.as_deref(), Some("JP"));
    assert_eq!(
        o.date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2002-03-31T21:07:53+09:00")
    );
    assert_eq!(
        t.envelope_from.class,
        abusedesk_forensics::EnvelopeClass::Null
    );
    for n in [
        IndicatorName::NullReturnPath,
        IndicatorName::EmptyFrom,
        IndicatorName::UndisclosedRecipients,
        IndicatorName::WormPattern,
    ] {
        assert!(t.has(n), "missing {n:?}");
    }
}
