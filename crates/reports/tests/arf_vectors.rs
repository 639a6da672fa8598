//! Cross-check against mail-auth's own expectations for its ARF vectors
//! (tests/golden/arf/mail-auth/NNN.json is mail-auth's serialised `Feedback`).
use std::fs;
use std::path::Path;

use abusedesk_reports::{ReportFormat, parse_report};
use serde_json::Value;

#[test]
fn feedback_fields_match_mail_auth() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/arf/mail-auth");
    for n in 1..=5 {
        let eml = fs::read(dir.join(format!("{n:03}.eml"))).unwrap();
        let upstream: Value =
            serde_json::from_slice(&fs::read(dir.join(format!("{n:03}.json"))).unwrap()).unwrap();
        let report = parse_report(&eml).unwrap();
        assert_eq!(report.format, ReportFormat::Arf);
        let arf = report.arf.as_ref().unwrap();
        let name = format!("{n:03}");
        let feedback_type = match upstream["feedback_type"].as_str().unwrap() {
            "Abuse" => "abuse",
            "AuthFailure" => "auth-failure",
            "Fraud" => "fraud",
            "NotSpam" => "not-spam",
            "Virus" => "virus",
            _ => "other",
        };
        assert_eq!(arf.feedback_type.as_deref(), Some(feedback_type), "{name}");
        assert_eq!(
            arf.user_agent.as_deref(),
            upstream["user_agent"].as_str(),
            "{name}"
        );
        assert_eq!(
            arf.version,
            upstream["version"].as_u64().map(|v| v as u32),
            "{name}"
        );
        assert_eq!(
            u64::from(arf.incidents),
            upstream["incidents"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            arf.original_mail_from.as_deref(),
            upstream["original_mail_from"].as_str(),
            "{name}"
        );
        assert_eq!(
            arf.original_rcpt_to.as_deref(),
            upstream["original_rcpt_to"].as_str(),
            "{name}"
        );
        assert_eq!(
            report.source_ip.map(|ip| ip.to_string()).as_deref(),
            upstream["source_ip"].as_str(),
            "{name}"
        );
        if let Some(t) = upstream["arrival_date"].as_i64() {
            assert_eq!(report.event_time.map(|d| d.timestamp()), Some(t), "{name}");
        }
        let uris: Vec<&str> = upstream["reported_uri"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(arf.reported_uris, uris, "{name}");
        let doms: Vec<&str> = upstream["reported_domain"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(arf.reported_domains, doms, "{name}");
        if upstream["headers"].is_string() {
            assert!(
                !report.evidence.is_empty(),
                "{name}: headers part kept as evidence"
            );
        }
    }
}
