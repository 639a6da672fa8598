//! The DATA block reader: end-of-data detection, dot-unstuffing (RFC 5321 4.5.2), bare CR
//! and bare LF tracking, and the size limit.
//!
//! **Only `<CR><LF>.<CR><LF>` ends the data** (the first `<CR><LF>` may be the one that
//! ended the DATA command itself, for an empty message). A "line" for the purposes of
//! end-of-data and dot-unstuffing begins only after `<CR><LF>`: `<LF>.<LF>`,
//! `<LF>.<CR><LF>`, `<CR><LF>.<LF>`, `<CR>.<CR>` and every other variant are ordinary
//! bytes. Whether a message holding a bare CR or bare LF is then refused or kept is the
//! session's [`BareLineEndings`](crate::BareLineEndings) policy; this reader only tells.

use memchr::memchr2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Just after `<CR><LF>` (or at the start of the data).
    LineStart,
    /// Inside a line; the previous byte was not CR.
    Mid,
    /// The previous byte was a CR (already stored).
    Cr,
    /// A '.' at the start of a line (not stored yet).
    Dot,
    /// `.<CR>` at the start of a line (neither stored yet).
    DotCr,
}

/// What the reader saw, available once the data is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DataFlags {
    pub bare_lf: bool,
    pub bare_cr: bool,
    /// The unstuffed message grew past the limit; its bytes were not kept.
    pub oversize: bool,
}

#[derive(Debug)]
pub(crate) struct DataReader {
    state: State,
    message: Vec<u8>,
    /// Size of the unstuffed message so far (counted even when not kept).
    size: u64,
    limit: u64,
    /// Stop keeping bytes after the first bare CR/LF (the message will be refused).
    drop_on_bare: bool,
    keep: bool,
    flags: DataFlags,
}

impl DataReader {
    /// `limit` is the largest message kept (0 = no limit).
    pub fn new(limit: u64, drop_on_bare: bool) -> Self {
        DataReader {
            state: State::LineStart,
            message: Vec::new(),
            size: 0,
            limit,
            drop_on_bare,
            keep: true,
            flags: DataFlags::default(),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn flags(&self) -> DataFlags {
        self.flags
    }

    pub fn into_message(self) -> Vec<u8> {
        self.message
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.limit > 0 && self.size > self.limit && !self.flags.oversize {
            self.flags.oversize = true;
            self.keep = false;
            self.message = Vec::new();
        }
        if self.keep {
            self.message.extend_from_slice(bytes);
        }
    }

    fn bare_lf(&mut self) {
        self.flags.bare_lf = true;
        self.on_bare();
    }

    fn bare_cr(&mut self) {
        self.flags.bare_cr = true;
        self.on_bare();
    }

    fn on_bare(&mut self) {
        if self.drop_on_bare && self.keep {
            self.keep = false;
            self.message = Vec::new();
        }
    }

    /// Consumes input; returns how many bytes were used and whether the end-of-data
    /// sequence was reached (bytes after it are left for the command reader).
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Mid => {
                    // Fast path: copy up to the next CR or LF.
                    match memchr2(b'\r', b'\n', &input[i..]) {
                        None => {
                            self.emit(&input[i..]);
                            return (input.len(), false);
                        }
                        Some(off) => {
                            if off > 0 {
                                self.emit(&input[i..i + off]);
                            }
                            i += off;
                            let b = input[i];
                            i += 1;
                            self.mid_special(b);
                        }
                    }
                }
                State::LineStart => {
                    let b = input[i];
                    i += 1;
                    match b {
                        b'.' => self.state = State::Dot,
                        b'\r' | b'\n' => self.mid_special(b),
                        _ => {
                            self.emit(&[b]);
                            self.state = State::Mid;
                        }
                    }
                }
                State::Cr => {
                    let b = input[i];
                    if b == b'\n' {
                        i += 1;
                        self.emit(b"\n");
                        self.state = State::LineStart;
                    } else {
                        // The stored CR was bare; `b` is handled as inside a line.
                        self.bare_cr();
                        self.state = State::Mid;
                    }
                }
                State::Dot => {
                    let b = input[i];
                    if b == b'\r' {
                        i += 1;
                        self.state = State::DotCr;
                    } else {
                        // A line starting with '.' and holding more: drop the stuffed dot;
                        // `b` is handled as inside a line.
                        self.state = State::Mid;
                    }
                }
                State::DotCr => {
                    let b = input[i];
                    if b == b'\n' {
                        return (i + 1, true);
                    }
                    // ".<CR>x": a stuffed dot followed by a bare CR.
                    self.emit(b"\r");
                    self.bare_cr();
                    self.state = State::Mid;
                }
            }
        }
        (i, false)
    }

    /// Handles a CR or LF met inside a line.
    fn mid_special(&mut self, b: u8) {
        if b == b'\r' {
            self.emit(b"\r");
            self.state = State::Cr;
        } else {
            self.emit(b"\n");
            self.bare_lf();
            self.state = State::Mid;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` whole and byte by byte; both must agree. Returns
    /// (message, flags, bytes consumed) or None when the end was not reached.
    fn run(input: &[u8]) -> Option<(Vec<u8>, DataFlags, usize)> {
        let mut whole = DataReader::new(0, false);
        let (used, done) = whole.feed(input);
        let mut split = DataReader::new(0, false);
        let mut used2 = 0;
        let mut done2 = false;
        for b in input {
            let (u, d) = split.feed(std::slice::from_ref(b));
            used2 += u;
            if d {
                done2 = true;
                break;
            }
        }
        assert_eq!(done, done2);
        assert_eq!(used, used2);
        assert_eq!(whole.flags(), split.flags());
        let flags = whole.flags();
        let m1 = whole.into_message();
        assert_eq!(m1, split.into_message());
        done.then_some((m1, flags, used))
    }

    #[test]
    fn ordinary_message() {
        let (m, f, used) = run(b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n").unwrap();
        assert_eq!(m, b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(f, DataFlags::default());
        assert_eq!(used, 23);
    }

    #[test]
    fn empty_message() {
        let (m, _, used) = run(b".\r\n").unwrap();
        assert!(m.is_empty());
        assert_eq!(used, 3);
    }

    #[test]
    fn dot_unstuffing() {
        let (m, _, _) = run(b"..\r\n...x\r\na.b\r\n.x\r\n.\r\n").unwrap();
        assert_eq!(m, b".\r\n..x\r\na.b\r\nx\r\n");
    }

    #[test]
    fn smuggling_variants_are_not_end_of_data() {
        // Each of these ends data on some server somewhere; none may end it here.
        for variant in [
            &b"a\n.\nMAIL"[..],
            b"a\n.\r\nMAIL",
            b"a\r\n.\nMAIL",
            b"a\r.\rMAIL",
            b"a\r.\r\nMAIL",
            b"a\r\n.\rMAIL",
            b"a\r\n\x00.\r\nMAIL",
            b"a\r\n .\r\nMAIL",
        ] {
            let mut input = variant.to_vec();
            assert!(
                run(&input).is_none(),
                "{:?}",
                String::from_utf8_lossy(variant)
            );
            input.extend_from_slice(b"\r\n.\r\n");
            let (_, _, used) = run(&input).unwrap();
            assert_eq!(used, input.len());
        }
    }

    #[test]
    fn bare_line_endings_are_flagged_and_kept_verbatim() {
        let (m, f, _) = run(b"a\nb\r\n.\r\n").unwrap();
        assert!(f.bare_lf && !f.bare_cr);
        assert_eq!(m, b"a\nb\r\n");
        let (m, f, _) = run(b"a\rb\r\n.\r\n").unwrap();
        assert!(f.bare_cr && !f.bare_lf);
        assert_eq!(m, b"a\rb\r\n");
        // After a bare LF no line starts, so the dot is data, not stuffing.
        let (m, f, _) = run(b"a\n.\n..\r\n.\r\n").unwrap();
        assert!(f.bare_lf);
        assert_eq!(m, b"a\n.\n..\r\n");
        // ".<CR>x" at line start: stuffed dot dropped, bare CR kept.
        let (m, f, _) = run(b".\rx\r\n.\r\n").unwrap();
        assert!(f.bare_cr);
        assert_eq!(m, b"\rx\r\n");
        // "<CR><CR><LF>": the first CR is bare.
        let (m, f, _) = run(b"a\r\r\n.\r\n").unwrap();
        assert!(f.bare_cr);
        assert_eq!(m, b"a\r\r\n");
    }

    #[test]
    fn size_limit_counts_unstuffed_bytes_and_drops_content() {
        let mut r = DataReader::new(5, false);
        assert_eq!(r.feed(b"..\r\n"), (4, false)); // 3 bytes after unstuffing
        assert!(!r.flags().oversize);
        assert_eq!(r.feed(b"abc\r\n.\r\n"), (8, true));
        assert!(r.flags().oversize);
        assert_eq!(r.size(), 8);
        assert!(r.into_message().is_empty());
    }

    #[test]
    fn drop_on_bare_discards_content_but_reads_to_the_end() {
        let mut r = DataReader::new(0, true);
        assert_eq!(r.feed(b"a\n.\nb\r\n.\r\n"), (10, true));
        assert!(r.flags().bare_lf);
        assert!(r.into_message().is_empty());
    }
}
