//! Mail forensics: parse a message, read its Received chain, find the origin.
