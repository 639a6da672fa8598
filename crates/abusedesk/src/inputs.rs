//! Reading messages from the command line's PATH arguments: `.eml` files, mboxes,
//! Maildirs, directories of those, and `-` for standard input.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One source named on the command line, resolved to files.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".into(),
        }
    }
}

/// A path that could not be read, with the reason.
#[derive(Debug)]
pub struct Unreadable {
    pub path: String,
    pub error: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.error)
    }
}

/// Expands the arguments to a list of sources: directories are walked (sorted, so output
/// order is stable); a Maildir contributes the files in `cur/` and `new/`; hidden files
/// and Maildir's `tmp/` are skipped.
pub fn expand(paths: &[PathBuf]) -> (Vec<Source>, Vec<Unreadable>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Source::Stdin);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk_dir(p, &mut out, &mut errors, 0),
            Ok(_) => out.push(Source::File(p.clone())),
            Err(e) => errors.push(Unreadable {
                path: p.display().to_string(),
                error: e.to_string(),
            }),
        }
    }
    (out, errors)
}

fn walk_dir(dir: &Path, out: &mut Vec<Source>, errors: &mut Vec<Unreadable>, depth: usize) {
    if depth > 32 {
        errors.push(Unreadable {
            path: dir.display().to_string(),
            error: "directories nested too deeply".into(),
        });
        return;
    }
    let is_maildir = dir.join("cur").is_dir() && dir.join("new").is_dir();
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            errors.push(Unreadable {
                path: dir.display().to_string(),
                error: e.to_string(),
            });
            return;
        }
    };
    entries.sort();
    for e in entries {
        let name = e
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || (is_maildir && name == "tmp") {
            continue;
        }
        match std::fs::metadata(&e) {
            Ok(m) if m.is_dir() => walk_dir(&e, out, errors, depth + 1),
            Ok(m) if m.is_file() => out.push(Source::File(e)),
            Ok(_) => {}
            Err(err) => errors.push(Unreadable {
                path: e.display().to_string(),
                error: err.to_string(),
            }),
        }
    }
}

/// Reads a source's bytes.
pub fn read(source: &Source) -> Result<Vec<u8>, Unreadable> {
    match source {
        Source::File(p) => std::fs::read(p).map_err(|e| Unreadable {
            path: p.display().to_string(),
            error: e.to_string(),
        }),
        Source::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Unreadable {
                    path: "-".into(),
                    error: e.to_string(),
                })?;
            Ok(buf)
        }
    }
}

/// Splits a source's bytes into messages with their labels: a file holding one message is
/// labelled by its path; an mbox with several messages by `path#N` (1-based).
pub fn messages<'a>(label: &str, data: &'a [u8]) -> Vec<(String, &'a [u8])> {
    let ranges = abusedesk_forensics::mbox::split_mbox(data);
    if ranges.is_empty() {
        return vec![(label.to_string(), data)];
    }
    if ranges.len() == 1 {
        return ranges
            .into_iter()
            .map(|r| (label.to_string(), &data[r]))
            .collect();
    }
    ranges
        .into_iter()
        .enumerate()
        .map(|(i, r)| (format!("{label}#{}", i + 1), &data[r]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_and_dirs() {
        let d = std::env::temp_dir().join(format!("abusedesk-inputs-{}", std::process::id()));
        let md = d.join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(md.join(sub)).unwrap();
        }
        std::fs::write(md.join("cur/1"), b"X: 1\n\n").unwrap();
        std::fs::write(md.join("new/2"), b"X: 2\n\n").unwrap();
        std::fs::write(md.join("tmp/3"), b"X: 3\n\n").unwrap();
        std::fs::write(d.join(".hidden"), b"").unwrap();
        let (srcs, errs) = expand(&[d.clone(), d.join("missing")]);
        assert_eq!(srcs.len(), 2, "{srcs:?}");
        assert_eq!(errs.len(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn mbox_labels() {
        let data = b"From a x\nX: 1\n\n\nFrom b y\nX: 2\n\n";
        let m = messages("box", data);
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].0, "box#2");
        assert_eq!(messages("one.eml", b"X: 1\n\n")[0].0, "one.eml");
    }
}
