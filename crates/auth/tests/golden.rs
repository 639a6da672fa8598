//! Golden files: message + zone + session in, report JSON and Authentication-Results out.
use abusedesk_auth::dns::Resolver;
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::{Authenticator, Session};
use std::path::Path;

#[derive(serde::Deserialize)]
struct SessionFile {
    ip: String,
    helo: String,
    mail_from: String,
    at: u64,
}

fn crlf(b: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(b)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    s.into_bytes()
}

#[tokio::test]
async fn golden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 3);
    let mut failures = Vec::new();
    for eml in cases {
        let raw = crlf(&std::fs::read(&eml).unwrap());
        let (zone, _) =
            Zone::parse(&std::fs::read(eml.with_extension("zone")).unwrap(), None).unwrap();
        let s: SessionFile =
            serde_json::from_slice(&std::fs::read(eml.with_extension("session")).unwrap()).unwrap();
        let auth = Authenticator::new(Resolver::from_zone(zone), "mx.golden.test").unwrap();
        let session = Session {
            ip: Some(s.ip.parse().unwrap()),
            helo: Some(s.helo),
            mail_from: Some(s.mail_from),
            at: s.at,
        };
        let report = auth.authenticate(&raw, &session).await;
        let json = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let text = report.authentication_results("\n\t") + "\n";
        for (ext, got) in [("json", &json), ("txt", &text)] {
            let path = eml.with_extension(ext);
            if update {
                std::fs::write(&path, got).unwrap();
            } else {
                let want = std::fs::read_to_string(&path).unwrap_or_default();
                if &want != got {
                    failures.push(format!(
                        "{}:\n--- expected\n{want}\n--- got\n{got}",
                        path.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
