//! A TTL cache of DNS answers (positive and negative), and the clock it reads.
use super::{DnsFailure, Rdata, RecordType};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time in milliseconds since the Unix epoch. Tests pass a fixed clock.
pub trait Clock: Send + Sync {
    fn now_millis(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicU64);

impl ManualClock {
    pub fn new(millis: u64) -> ManualClock {
        ManualClock(std::sync::atomic::AtomicU64::new(millis))
    }
    pub fn advance_secs(&self, secs: u64) {
        self.0
            .fetch_add(secs * 1000, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A cached outcome: records (possibly none: NODATA) or NXDOMAIN. Temporary failures are
/// never cached.
pub type Cached = Result<Arc<[Rdata]>, DnsFailure>;

/// Bounds on how long answers stay: `max` caps long TTLs, negative answers use the SOA
/// minimum when given, else `negative_default`.
#[derive(Debug, Clone, Copy)]
pub struct TtlPolicy {
    pub max_secs: u32,
    pub negative_default_secs: u32,
    pub negative_max_secs: u32,
}

impl Default for TtlPolicy {
    fn default() -> Self {
        TtlPolicy {
            max_secs: 86_400,
            negative_default_secs: 300,
            negative_max_secs: 3_600,
        }
    }
}

struct Entry {
    value: Cached,
    expires_ms: u64,
}

/// The cache. Bounded: when full, expired entries are dropped, then (if still full) all.
pub struct Cache {
    map: Mutex<HashMap<(String, RecordType), Entry>>,
    clock: Arc<dyn Clock>,
    capacity: usize,
    policy: TtlPolicy,
}

impl Cache {
    pub fn new(capacity: usize, clock: Arc<dyn Clock>) -> Cache {
        Cache {
            map: Mutex::new(HashMap::new()),
            clock,
            capacity: capacity.max(1),
            policy: TtlPolicy::default(),
        }
    }

    pub fn get(&self, name: &str, rtype: RecordType) -> Option<Cached> {
        let now = self.clock.now_millis();
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.get(&(name.to_string(), rtype))?;
        (entry.expires_ms > now).then(|| entry.value.clone())
    }

    /// Stores an answer for `ttl_secs` (capped by the policy). `Err(Temporary)` is ignored.
    pub fn put(&self, name: &str, rtype: RecordType, value: Cached, ttl_secs: Option<u32>) {
        let ttl = match &value {
            Err(DnsFailure::Temporary(_)) | Err(DnsFailure::InvalidName(_)) => return,
            Ok(records) if !records.is_empty() => ttl_secs.unwrap_or(0).min(self.policy.max_secs),
            _ => ttl_secs
                .unwrap_or(self.policy.negative_default_secs)
                .min(self.policy.negative_max_secs),
        };
        if ttl == 0 {
            return;
        }
        let now = self.clock.now_millis();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity {
            map.retain(|_, e| e.expires_ms > now);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(
            (name.to_string(), rtype),
            Entry {
                value,
                expires_ms: now + u64::from(ttl) * 1000,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_and_negative_caching() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let cache = Cache::new(10, clock.clone());
        let rec: Arc<[Rdata]> = vec![Rdata::A("192.0.2.1".parse().unwrap())].into();
        cache.put("a.example", RecordType::A, Ok(rec.clone()), Some(60));
        cache.put("b.example", RecordType::A, Err(DnsFailure::NxDomain), None);
        cache.put(
            "c.example",
            RecordType::A,
            Err(DnsFailure::Temporary("timeout".into())),
            Some(60),
        );
        assert_eq!(cache.get("a.example", RecordType::A), Some(Ok(rec)));
        assert_eq!(
            cache.get("b.example", RecordType::A),
            Some(Err(DnsFailure::NxDomain))
        );
        assert_eq!(cache.get("c.example", RecordType::A), None);
        clock.advance_secs(61);
        assert_eq!(cache.get("a.example", RecordType::A), None);
        assert!(
            cache.get("b.example", RecordType::A).is_some(),
            "negative default is 300 s"
        );
        clock.advance_secs(300);
        assert_eq!(cache.get("b.example", RecordType::A), None);
    }

    #[test]
    fn bounded() {
        let cache = Cache::new(3, Arc::new(ManualClock::new(0)));
        for i in 0..10 {
            cache.put(
                &format!("n{i}.example"),
                RecordType::A,
                Err(DnsFailure::NxDomain),
                Some(60),
            );
            assert!(cache.len() <= 3);
        }
    }
}
