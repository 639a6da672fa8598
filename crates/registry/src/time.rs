//! Points in time, to the second, in UTC.
//!
//! The registry never reads a clock: every time comes in as an argument (the time our
//! trusted host stamped on the origin hop, an import file's column, ...).
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z, limited to the years 0000-9999 so that every value
/// has an RFC 3339 form. Sub-second parts of parsed times are dropped (floored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// The earliest representable time, 0000-01-01T00:00:00Z.
const MIN_UNIX: i64 = -62_167_219_200;
/// The latest representable time, 9999-12-31T23:59:59Z.
const MAX_UNIX: i64 = 253_402_300_799;

/// Why a text is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("empty time")]
    Empty,
    #[error(
        "{0:?} has no UTC offset; write it as RFC 3339 with Z or an offset, e.g. 2002-03-31T12:07:53Z or 2002-03-31T21:07:53+09:00"
    )]
    NoOffset(String),
    #[error("{0:?} is not an RFC 3339 time (expected e.g. 2002-03-31T12:07:53Z)")]
    Invalid(String),
    #[error("{0} seconds since 1970 is outside the years 0000-9999")]
    OutOfRange(i64),
}

impl Timestamp {
    /// The earliest time the registry can hold.
    pub const MIN: Timestamp = Timestamp(MIN_UNIX);
    /// The latest time the registry can hold.
    pub const MAX: Timestamp = Timestamp(MAX_UNIX);

    /// From seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Result<Self, TimeError> {
        if (MIN_UNIX..=MAX_UNIX).contains(&secs) {
            Ok(Timestamp(secs))
        } else {
            Err(TimeError::OutOfRange(secs))
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 time (`2002-03-31T12:07:53Z`, `2002-03-31 21:07:53+09:00`,
    /// fractional seconds allowed and dropped). A time without an offset is refused:
    /// guessing the zone of a RADIUS log would attribute to the wrong customer.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(TimeError::Empty);
        }
        match DateTime::parse_from_rfc3339(t) {
            Ok(dt) => Timestamp::from_unix(dt.timestamp()),
            Err(_) => {
                if chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
                    || chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").is_ok()
                {
                    Err(TimeError::NoOffset(t.to_string()))
                } else {
                    Err(TimeError::Invalid(t.to_string()))
                }
            }
        }
    }

    /// As a chrono UTC time.
    pub fn to_chrono(self) -> DateTime<Utc> {
        // In range by construction (years 0000-9999 are within chrono's range).
        DateTime::from_timestamp(self.0, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

impl TryFrom<DateTime<Utc>> for Timestamp {
    type Error = TimeError;
    fn try_from(dt: DateTime<Utc>) -> Result<Self, TimeError> {
        Timestamp::from_unix(dt.timestamp())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        Timestamp::parse_rfc3339(s)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, e.g. `2002-03-31T12:07:53Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_chrono().to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_forms() {
        let t = Timestamp::parse_rfc3339("2002-03-31T12:07:53Z").unwrap();
        assert_eq!(t.unix(), 1_017_576_473);
        assert_eq!(
            Timestamp::parse_rfc3339("2002-03-31T21:07:53+09:00").unwrap(),
            t
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2002-03-31 12:07:53.999Z").unwrap(),
            t
        );
        assert_eq!(t.to_string(), "2002-03-31T12:07:53Z");
    }

    #[test]
    fn refuses_times_without_offset() {
        assert!(matches!(
            Timestamp::parse_rfc3339("2002-03-31T12:07:53"),
            Err(TimeError::NoOffset(_))
        ));
        assert!(matches!(
            Timestamp::parse_rfc3339("31/03/2002"),
            Err(TimeError::Invalid(_))
        ));
        assert_eq!(Timestamp::parse_rfc3339("  "), Err(TimeError::Empty));
    }

    #[test]
    fn range_is_enforced() {
        assert!(Timestamp::from_unix(i64::MAX).is_err());
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00Z");
    }
}
