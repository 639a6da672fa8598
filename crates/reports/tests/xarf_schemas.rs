//! The embedded X-ARF schemas against upstream's samples (copied into tests/data/xarf with
//! their licenses): every v4 sample and every v3 positive must validate, every v3 negative
//! must not.
use std::fs;
use std::path::{Path, PathBuf};

use abusedesk_reports::{XarfGeneration, parse_xarf_json};

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/xarf")
        .join(rel)
}

#[test]
fn all_v4_samples_validate() {
    let files = json_files(&data("v4"));
    assert_eq!(files.len(), 32);
    for f in files {
        let report = parse_xarf_json(&fs::read(&f).unwrap()).unwrap();
        let xarf = report.xarf.as_ref().unwrap();
        assert_eq!(xarf.generation, XarfGeneration::V4, "{}", f.display());
        assert!(
            report.validation.is_empty(),
            "{}: {:#?}",
            f.display(),
            report.validation
        );
        assert!(xarf.valid);
    }
}

#[test]
fn all_v3_positives_validate() {
    let files = json_files(&data("v3/positive"));
    assert_eq!(files.len(), 102);
    for f in files {
        let report = parse_xarf_json(&fs::read(&f).unwrap()).unwrap();
        assert_eq!(
            report.xarf.as_ref().unwrap().generation,
            XarfGeneration::V3,
            "{}",
            f.display()
        );
        assert!(
            report.validation.is_empty(),
            "{}: {:#?}",
            f.display(),
            report.validation
        );
    }
}

#[test]
fn all_v3_negatives_are_rejected_with_reasons() {
    let files = json_files(&data("v3/negative"));
    assert_eq!(files.len(), 206);
    let mut accepted = Vec::new();
    for f in &files {
        match parse_xarf_json(&fs::read(f).unwrap()) {
            // `invalid_empty.json` may not even be an object: then it is not X-ARF at all.
            Err(_) => {}
            Ok(report) => {
                if report.validation.is_empty() {
                    accepted.push(f.display().to_string());
                } else {
                    assert!(!report.xarf.as_ref().unwrap().valid);
                    for p in &report.validation {
                        assert!(!p.message.is_empty(), "{}", f.display());
                    }
                }
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "{} of 206 negatives validated: {accepted:#?}",
        accepted.len()
    );
}

#[test]
fn format_assertions_are_on() {
    // The negatives upstream says need format checking.
    for (rel, location) in [
        ("v3/negative/3/invalid_date.json", "/Report/Date"),
        ("v3/negative/3/invalid_first_seen.json", "/Report/FirstSeen"),
        ("v3/negative/3/invalid_host_name.json", "/Report/RpzDomain"),
    ] {
        let report = parse_xarf_json(&fs::read(data(rel)).unwrap()).unwrap();
        assert!(
            report.validation.iter().any(|p| p.location == location),
            "{rel}: {:#?}",
            report.validation
        );
    }
}
