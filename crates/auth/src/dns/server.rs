//! An authoritative DNS server for a [`Zone`], on UDP and TCP (same port).
//!
//! Used by tests and benchmarks to put known data behind the live resolver (and behind
//! peers such as rspamd). Names marked with [`Zone::set_timeout`] get no answer for types
//! they lack, so clients really time out.
use super::zone::Zone;
use super::{DnsFailure, Rdata, RecordType, normalize_name};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType as HRecordType};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

/// A running server; dropping it stops it.
pub struct ZoneServer {
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    queries: Arc<AtomicU64>,
}

impl ZoneServer {
    /// Binds UDP and TCP on `addr` (port 0 picks a free port for both) and serves `zone`.
    pub async fn start(zone: Arc<Zone>, addr: SocketAddr) -> io::Result<ZoneServer> {
        let mut last_err = None;
        for _ in 0..16 {
            let udp = UdpSocket::bind(addr).await?;
            let local = udp.local_addr()?;
            match TcpListener::bind(local).await {
                Ok(tcp) => return Ok(ZoneServer::run(zone, udp, tcp, local)),
                Err(e) if addr.port() == 0 => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("no free port")))
    }

    fn run(zone: Arc<Zone>, udp: UdpSocket, tcp: TcpListener, addr: SocketAddr) -> ZoneServer {
        let queries = Arc::new(AtomicU64::new(0));
        let udp = Arc::new(udp);
        let udp_task = {
            let zone = zone.clone();
            let queries = queries.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let Ok((n, peer)) = udp.recv_from(&mut buf).await else {
                        continue;
                    };
                    queries.fetch_add(1, Ordering::Relaxed);
                    if let Some(reply) = respond(&zone, &buf[..n], true) {
                        let _ = udp.send_to(&reply, peer).await;
                    }
                }
            })
        };
        let tcp_task = {
            let queries = queries.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut stream, _)) = tcp.accept().await else {
                        continue;
                    };
                    let zone = zone.clone();
                    let queries = queries.clone();
                    tokio::spawn(async move {
                        loop {
                            let mut len = [0u8; 2];
                            if stream.read_exact(&mut len).await.is_err() {
                                return;
                            }
                            let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
                            if stream.read_exact(&mut msg).await.is_err() {
                                return;
                            }
                            queries.fetch_add(1, Ordering::Relaxed);
                            let Some(reply) = respond(&zone, &msg, false) else {
                                continue;
                            };
                            let Ok(n) = u16::try_from(reply.len()) else {
                                return;
                            };
                            if stream.write_all(&n.to_be_bytes()).await.is_err()
                                || stream.write_all(&reply).await.is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            })
        };
        ZoneServer {
            addr,
            tasks: vec![udp_task, tcp_task],
            queries,
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries received so far (UDP and TCP).
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

impl Drop for ZoneServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn to_name(s: &str) -> Option<Name> {
    Name::from_labels(s.split('.').map(str::as_bytes)).ok()
}

/// A query name as our zone keys it: raw label bytes joined with dots, lower-case.
fn key_of(name: &Name) -> Option<String> {
    let labels: Vec<String> = name
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    normalize_name(&labels.join(".")).ok()
}

fn to_rdata(r: &Rdata) -> Option<RData> {
    Some(match r {
        Rdata::A(ip) => RData::A(A(*ip)),
        Rdata::Aaaa(ip) => RData::AAAA(AAAA(*ip)),
        Rdata::Mx {
            preference,
            exchange,
        } => RData::MX(MX::new(
            *preference,
            if exchange.is_empty() {
                Name::root()
            } else {
                to_name(exchange)?
            },
        )),
        Rdata::Txt(strings) => {
            RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        Rdata::Spf(strings) => {
            // type 99 has TXT's wire format
            let txt = TXT::from_bytes(strings.iter().map(Vec::as_slice).collect());
            let mut wire = Vec::new();
            for s in &txt.txt_data {
                wire.push(u8::try_from(s.len()).ok()?);
                wire.extend_from_slice(s);
            }
            RData::Unknown {
                code: HRecordType::Unknown(99),
                rdata: hickory_proto::rr::rdata::NULL::with(wire),
            }
        }
        Rdata::Ptr(n) => RData::PTR(PTR(to_name(n)?)),
        Rdata::Cname(n) => RData::CNAME(CNAME(to_name(n)?)),
        Rdata::Ns(n) => RData::NS(NS(to_name(n)?)),
        Rdata::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => RData::SOA(SOA::new(
            to_name(mname)?,
            to_name(rname)?,
            *serial,
            i32::try_from(*refresh).unwrap_or(i32::MAX),
            i32::try_from(*retry).unwrap_or(i32::MAX),
            i32::try_from(*expire).unwrap_or(i32::MAX),
            *minimum,
        )),
    })
}

/// The reply to one query message, or `None` to stay silent (timeouts, garbage).
fn respond(zone: &Zone, request: &[u8], udp: bool) -> Option<Vec<u8>> {
    let req = Message::from_vec(request).ok()?;
    if req.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.metadata.recursion_available = true;
    resp.metadata.authoritative = true;
    let Some(query) = req.queries.first().cloned() else {
        resp.metadata.response_code = ResponseCode::FormErr;
        return resp.to_vec().ok();
    };
    resp.add_query(query.clone());
    if req.metadata.op_code != OpCode::Query || req.queries.len() != 1 {
        resp.metadata.response_code = ResponseCode::NotImp;
        return resp.to_vec().ok();
    }
    let rtype = match query.query_type() {
        HRecordType::A => RecordType::A,
        HRecordType::AAAA => RecordType::Aaaa,
        HRecordType::MX => RecordType::Mx,
        HRecordType::TXT => RecordType::Txt,
        HRecordType::PTR => RecordType::Ptr,
        HRecordType::CNAME => RecordType::Cname,
        HRecordType::NS => RecordType::Ns,
        HRecordType::SOA => RecordType::Soa,
        HRecordType::Unknown(99) => RecordType::Spf,
        _ => {
            // a type we never hold: NODATA if the name exists
            let name = key_of(query.name())?;
            if zone.answer(&name, RecordType::Ns).is_err() {
                resp.metadata.response_code = ResponseCode::NXDomain;
            }
            return resp.to_vec().ok();
        }
    };
    let name = match key_of(query.name()) {
        Some(n) => n,
        None => {
            resp.metadata.response_code = ResponseCode::NXDomain;
            return resp.to_vec().ok();
        }
    };
    let negative = |resp: &mut Message| {
        // RFC 2308: a negative answer carries the zone's SOA (synthesized at the name's
        // last two labels when the zone file has none), so resolvers can cache it.
        let (owner, soa) = zone.soa_for(&name).unwrap_or_else(|| {
            let labels: Vec<&str> = name.rsplitn(3, '.').collect();
            let apex = if labels.len() >= 2 {
                format!("{}.{}", labels[1], labels[0])
            } else {
                name.clone()
            };
            let soa = Rdata::Soa {
                mname: format!("ns.{apex}"),
                rname: format!("hostmaster.{apex}"),
                serial: 1,
                refresh: 3600,
                retry: 600,
                expire: 86_400,
                minimum: 300,
            };
            (apex, soa)
        });
        let minimum = if let Rdata::Soa { minimum, .. } = &soa {
            *minimum
        } else {
            300
        };
        if let (Some(owner), Some(data)) = (to_name(&owner), to_rdata(&soa)) {
            resp.add_authority(Record::from_rdata(owner, minimum, data));
        }
    };
    match zone.answer(&name, rtype) {
        Ok(records) if records.is_empty() => negative(&mut resp),
        Ok(records) => {
            let mut owner = query.name().clone();
            for r in &records {
                let ttl = key_of(&owner)
                    .and_then(|k| zone.ttl(&k, r.record_type()))
                    .unwrap_or(300);
                let data = to_rdata(r)?;
                resp.add_answer(Record::from_rdata(owner.clone(), ttl, data));
                if let Rdata::Cname(target) = r {
                    owner = to_name(target)?;
                }
            }
        }
        Err(DnsFailure::NxDomain) => {
            resp.metadata.response_code = ResponseCode::NXDomain;
            negative(&mut resp);
        }
        Err(DnsFailure::Temporary(_)) => return None,
        Err(DnsFailure::InvalidName(_)) => resp.metadata.response_code = ResponseCode::NXDomain,
    }
    let bytes = resp.to_vec().ok()?;
    let limit = if req.edns.is_some() {
        usize::from(req.max_payload().max(512))
    } else {
        512
    };
    if udp && bytes.len() > limit {
        let mut truncated = Message::response(req.metadata.id, req.metadata.op_code);
        truncated.metadata.truncation = true;
        truncated.metadata.authoritative = true;
        truncated.add_query(query);
        return truncated.to_vec().ok();
    }
    Some(bytes)
}
