//! Splitting an mbox into messages (mboxo/mboxrd: a `From ` line at the start of the
//! file or after a blank line starts a message).

/// Returns the byte ranges of the messages in `data`, each starting at its `From ` line.
/// Data that does not start with `From ` is one message.
pub fn split_mbox(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    if !data.starts_with(b"From ") {
        let mut one = Vec::new();
        if !data.is_empty() {
            one.push(0..data.len());
        }
        return one;
    }
    let mut starts = vec![0];
    let finder = memchr::memmem::Finder::new(b"\nFrom ");
    for pos in finder.find_iter(data) {
        // A separator follows an empty line (`\n\nFrom ` or `\r\n\r\nFrom `).
        let before = &data[..pos];
        if before.ends_with(b"\n") || before.ends_with(b"\n\r") {
            starts.push(pos + 1);
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(data.len());
        out.push(s..e);
    }
    out
}

/// Whether `data` looks like an mbox (starts with a `From ` line).
pub fn is_mbox(data: &[u8]) -> bool {
    data.starts_with(b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        let d = b"From a Thu Aug 22 13:17:22 2002\nX: 1\n\nbody\nFrom here is body text\n\nFrom b Thu Aug 22 13:17:23 2002\nX: 2\n\nb\n";
        let r = split_mbox(d);
        assert_eq!(r.len(), 2);
        assert!(d[r[1].clone()].starts_with(b"From b"));
        assert_eq!(split_mbox(b"X: 1\n\nFrom x\n").len(), 1);
        assert!(split_mbox(b"").is_empty());
    }
}
