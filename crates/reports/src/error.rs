//! The one error type of this crate's boundary.
//!
//! An error means "nothing usable": the desk stores the raw bytes anyway, marks the report
//! `unparseable` and shows this message to the operator, so each one says what was
//! received and what was expected.
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportError {
    #[error("empty report: no bytes were received")]
    Empty,
    #[error(
        "not an RFC 5322 message: the first line ({first_line:?}) is not a header field \
         (`Name: value`); a complaint needs its header before the body"
    )]
    NotAMessage {
        /// The first line, cut to 60 characters.
        first_line: String,
    },
    #[error("not a JSON document: {0}")]
    NotJson(String),
    #[error("not an X-ARF report: the JSON document is {0}, an X-ARF report is an object")]
    NotAnObject(&'static str),
}
