//! Live DNS through hickory-resolver, behind our cache.
use super::cache::{Cache, Clock};
use super::{DnsFailure, LiveConfig, Lookup, Rdata, RecordType, ResolverError, Stats};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType as HRecordType};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(crate) struct Live {
    resolver: TokioResolver,
    cache: Cache,
    server: Option<SocketAddr>,
}

impl Live {
    pub(crate) fn new(config: LiveConfig, clock: Arc<dyn Clock>) -> Result<Live, ResolverError> {
        let (resolver_config, mut opts) = match config.server {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                (
                    ResolverConfig::from_name_servers(vec![ns]),
                    ResolverOpts::default(),
                )
            }
            None => hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| ResolverError::SystemConfig(e.to_string()))?,
        };
        opts.timeout = config.timeout;
        opts.attempts = config.attempts.max(1);
        // Our cache sits in front; hickory's would hide TTL and negative answers from us.
        opts.cache_size = 0;
        opts.ndots = 0;
        opts.preserve_intermediates = true;
        let resolver =
            TokioResolver::builder_with_config(resolver_config, TokioRuntimeProvider::default())
                .with_options(opts)
                .build()
                .map_err(|e| ResolverError::Client(e.to_string()))?;
        Ok(Live {
            resolver,
            cache: Cache::new(config.cache_entries, clock),
            server: config.server,
        })
    }

    pub(crate) fn server(&self) -> Option<SocketAddr> {
        self.server
    }

    pub(crate) async fn lookup(
        &self,
        name: &str,
        rtype: RecordType,
        stats: &Stats,
    ) -> Lookup<Rdata> {
        if let Some(hit) = self.cache.get(name, rtype) {
            stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            return hit;
        }
        stats.upstream.fetch_add(1, Ordering::Relaxed);
        let hrtype = match rtype {
            RecordType::A => HRecordType::A,
            RecordType::Aaaa => HRecordType::AAAA,
            RecordType::Mx => HRecordType::MX,
            RecordType::Txt => HRecordType::TXT,
            RecordType::Ptr => HRecordType::PTR,
            RecordType::Cname => HRecordType::CNAME,
            RecordType::Ns => HRecordType::NS,
            RecordType::Soa => HRecordType::SOA,
            RecordType::Spf => HRecordType::Unknown(99),
        };
        // Raw labels: SPF macros can build names with any visible character, and such a
        // name must be asked, not refused (RFC 7208 section 7.3).
        let qname = match Name::from_labels(name.split('.').map(str::as_bytes)) {
            Ok(n) => n,
            Err(e) => return Err(DnsFailure::InvalidName(e.to_string())),
        };
        let (value, ttl) = match self.resolver.lookup(qname, hrtype).await {
            Ok(lookup) => {
                let mut ttl: Option<u32> = None;
                let records: Vec<Rdata> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| {
                        let data = convert(&r.data)?;
                        (data.record_type() == rtype).then(|| {
                            ttl = Some(ttl.map_or(r.ttl, |t| t.min(r.ttl)));
                            data
                        })
                    })
                    .collect();
                (Ok(records.into()), ttl)
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
                let value = if no.response_code == ResponseCode::NXDomain {
                    Err(DnsFailure::NxDomain)
                } else {
                    Ok(Arc::from(Vec::new()))
                };
                (value, no.negative_ttl)
            }
            Err(NetError::Dns(DnsError::ResponseCode(code))) => {
                (Err(DnsFailure::Temporary(code.to_string())), None)
            }
            Err(NetError::Timeout) => (Err(DnsFailure::Temporary("timeout".into())), None),
            Err(NetError::Proto(e)) => (
                Err(DnsFailure::Temporary(format!("protocol error: {e}"))),
                None,
            ),
            Err(e) => (Err(DnsFailure::Temporary(e.to_string())), None),
        };
        self.cache.put(name, rtype, value.clone(), ttl);
        value
    }
}

/// Raw label bytes joined with dots (no presentation-format escapes), lower-case.
fn name_of(n: &Name) -> String {
    let labels: Vec<String> = n
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect();
    labels.join(".")
}

fn convert(data: &RData) -> Option<Rdata> {
    Some(match data {
        RData::A(a) => Rdata::A(a.0),
        RData::AAAA(a) => Rdata::Aaaa(a.0),
        RData::MX(mx) => Rdata::Mx {
            preference: mx.preference,
            exchange: name_of(&mx.exchange),
        },
        RData::TXT(txt) => Rdata::Txt(txt.txt_data.iter().map(|s| s.to_vec()).collect()),
        RData::PTR(p) => Rdata::Ptr(name_of(&p.0)),
        RData::CNAME(c) => Rdata::Cname(name_of(&c.0)),
        RData::NS(n) => Rdata::Ns(name_of(&n.0)),
        RData::SOA(soa) => Rdata::Soa {
            mname: name_of(&soa.mname),
            rname: name_of(&soa.rname),
            serial: soa.serial,
            refresh: soa.refresh as u32,
            retry: soa.retry as u32,
            expire: soa.expire as u32,
            minimum: soa.minimum,
        },
        _ => return None,
    })
}
