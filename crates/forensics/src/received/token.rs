//! Tokenizer for `Received:` field values.
//!
//! The grammar of RFC 5321 §4.4 is followed loosely: real MTAs put comments, address
//! literals and bare words almost anywhere, so the tokenizer only knows the delimiters
//! that every format agrees on and leaves meaning to the parser. It works on `&str` and
//! only ever splits at ASCII delimiters, so slices are always on character boundaries.

/// One token of a Received value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    /// A run of characters up to white space or a delimiter.
    Word(&'a str),
    /// The inside of a parenthesised comment (nested comments kept verbatim).
    Comment(&'a str),
    /// The inside of `[...]`, with a `:port` suffix when one follows the bracket.
    Literal {
        inner: &'a str,
        port: Option<&'a str>,
    },
    /// The inside of `<...>`.
    Angle(&'a str),
    /// `;`, which separates the clauses from the date.
    Semi,
}

/// Tokens of a line or comment; most fit inline.
pub(crate) type Tokens<'a> = smallvec::SmallVec<[Spanned<'a>; 16]>;

/// A token with the byte offset where it starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spanned<'a> {
    pub tok: Tok<'a>,
    pub start: usize,
}

/// Splits `s` into tokens. Never fails: unbalanced brackets run to the end of the input.
/// `max_tokens` bounds the work on hostile input.
pub(crate) fn tokenize(s: &str, max_tokens: usize) -> Tokens<'_> {
    let b = s.as_bytes();
    let mut out = Tokens::new();
    let mut i = 0;
    while i < b.len() && out.len() < max_tokens {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            b'(' => {
                let mut depth = 1usize;
                let mut j = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let end = j.min(b.len());
                out.push(Spanned {
                    tok: Tok::Comment(&s[i + 1..end]),
                    start,
                });
                i = (j + 1).min(b.len());
            }
            b'[' => {
                let end = find_byte(b, i + 1, b']').unwrap_or(b.len());
                let inner = &s[i + 1..end];
                i = (end + 1).min(b.len());
                let mut port = None;
                if i < b.len() && b[i] == b':' {
                    let mut j = i + 1;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    if j > i + 1 {
                        port = Some(&s[i + 1..j]);
                        i = j;
                    }
                }
                out.push(Spanned {
                    tok: Tok::Literal { inner, port },
                    start,
                });
            }
            b'<' => {
                let end = find_byte(b, i + 1, b'>').unwrap_or(b.len());
                out.push(Spanned {
                    tok: Tok::Angle(&s[i + 1..end]),
                    start,
                });
                i = (end + 1).min(b.len());
            }
            b';' => {
                out.push(Spanned {
                    tok: Tok::Semi,
                    start,
                });
                i += 1;
            }
            b')' | b']' | b'>' => {
                // Stray closing delimiter: skip it.
                i += 1;
            }
            _ => {
                let mut j = i;
                while j < b.len() && !ENDS_WORD[usize::from(b[j])] {
                    j += 1;
                }
                // A word such as `host,` keeps no trailing comma.
                let mut end = j;
                while end > i && b[end - 1] == b',' {
                    end -= 1;
                }
                let word = &s[i..end];
                if !word.is_empty() {
                    out.push(Spanned {
                        tok: Tok::Word(word),
                        start,
                    });
                }
                i = j;
            }
        }
    }
    out
}

/// Bytes that end a word: ASCII white space and the delimiters.
static ENDS_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let ends = b" \t\n\r\x0c([<;)";
    let mut k = 0;
    while k < ends.len() {
        t[ends[k] as usize] = true;
        k += 1;
    }
    t
};

fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    memchr::memchr(needle, b.get(from..)?).map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        tokenize(s, 1000).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn basic() {
        assert_eq!(
            toks("from a (b [1.2.3.4]:25) by c; date"),
            vec![
                Tok::Word("from"),
                Tok::Word("a"),
                Tok::Comment("b [1.2.3.4]:25"),
                Tok::Word("by"),
                Tok::Word("c"),
                Tok::Semi,
                Tok::Word("date"),
            ]
        );
        assert_eq!(
            toks("x [1.2.3.4]:587 <a@b> (n (m) o"),
            vec![
                Tok::Word("x"),
                Tok::Literal {
                    inner: "1.2.3.4",
                    port: Some("587")
                },
                Tok::Angle("a@b"),
                Tok::Comment("n (m) o"),
            ]
        );
    }

    #[test]
    fn unbalanced_and_bounded() {
        assert_eq!(toks("(abc"), vec![Tok::Comment("abc")]);
        assert_eq!(
            toks("[abc"),
            vec![Tok::Literal {
                inner: "abc",
                port: None
            }]
        );
        assert_eq!(toks("<abc"), vec![Tok::Angle("abc")]);
        assert_eq!(tokenize("a b c d e", 2).len(), 2);
        assert_eq!(toks("(\\)"), vec![Tok::Comment("\\)")]);
    }
}
