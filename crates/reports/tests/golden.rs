//! Golden files: every input under tests/golden (`NAME.eml` for `parse_report`,
//! `NAME.xarf.json` for `parse_xarf_json`) beside the expected parse `NAME.report.json`.
//! Run with `UPDATE_GOLDEN=1` to rewrite the expectations after a deliberate change (and
//! review the diff).
use std::fs;
use std::path::{Path, PathBuf};

use abusedesk_reports::{Report, parse_report, parse_xarf_json};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "rfc-source-excerpts" {
                    stack.push(path);
                }
            } else if name.ends_with(".eml") || name.ends_with(".xarf.json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn expected_path(input: &Path) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name
        .strip_suffix(".eml")
        .or_else(|| name.strip_suffix(".xarf.json"))
        .unwrap();
    input.with_file_name(format!("{stem}.report.json"))
}

fn parse(input: &Path) -> Report {
    let raw = fs::read(input).unwrap();
    let result = if input.to_string_lossy().ends_with(".xarf.json") {
        parse_xarf_json(&raw)
    } else {
        parse_report(&raw)
    };
    result.unwrap_or_else(|e| panic!("{}: {e}", input.display()))
}

#[test]
fn golden_reports() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let inputs = inputs();
    assert!(
        inputs.len() >= 20,
        "golden inputs missing: {}",
        inputs.len()
    );
    let mut failures = Vec::new();
    for input in &inputs {
        let report = parse(input);
        let actual = serde_json::to_string_pretty(&report).unwrap() + "\n";
        // The serialised form must read back to the same value.
        let back: Report = serde_json::from_str(&actual).unwrap();
        assert_eq!(back, report, "{}: JSON round trip", input.display());
        let expected_file = expected_path(input);
        if update {
            fs::write(&expected_file, &actual).unwrap();
            continue;
        }
        match fs::read_to_string(&expected_file) {
            Ok(expected) if expected == actual => {}
            Ok(_) => failures.push(format!(
                "{} differs from {} (UPDATE_GOLDEN=1 rewrites it)",
                input.display(),
                expected_file.display()
            )),
            Err(e) => failures.push(format!("{}: {e}", expected_file.display())),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
