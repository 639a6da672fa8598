//! The store suite. Every test runs against SQLite (a fresh file) and, when
//! `ABUSEDESK_TEST_POSTGRES` is set, against PostgreSQL (a fresh database per test).
use std::collections::HashSet;

use abusedesk_store::*;
use serde_json::json;

const T0: Millis = 1_017_576_473_000; // 2002-03-31T12:07:53Z, a fixed clock
const LEASE: i64 = 30_000;

/// A store for one test, and what to clean up afterwards.
struct TestStore {
    store: Store,
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, database name)
}

impl TestStore {
    async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path(), &StoreOptions::default())
            .await
            .unwrap();
        assert_eq!(store.kind(), BackendKind::Sqlite);
        let url = format!("sqlite://{}", dir.path().join(SQLITE_FILE).display());
        TestStore {
            store,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    async fn postgres(admin: &str) -> TestStore {
        use sqlx::Connection;
        let name = format!("abusedesk_test_{}", hex_suffix());
        let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let url = with_database(admin, &name);
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        assert_eq!(store.kind(), BackendKind::Postgres);
        TestStore {
            store,
            url,
            _dir: None,
            pg: Some((admin.to_owned(), name)),
        }
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

fn hex_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}_{}", n, std::process::id())
}

/// Replace the database name in a PostgreSQL URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// Define a test that runs on both backends.
macro_rules! store_test {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = TestStore::sqlite().await;
                $body(t.store.clone(), t.url.clone()).await;
                t.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Ok(url) = std::env::var("ABUSEDESK_TEST_POSTGRES") else {
                    eprintln!(
                        "skipped: ABUSEDESK_TEST_POSTGRES is not set (PostgreSQL store test)"
                    );
                    return;
                };
                let t = TestStore::postgres(&url).await;
                $body(t.store.clone(), t.url.clone()).await;
                t.finish().await;
            }
        }
    };
}

fn mail(n: usize) -> Vec<u8> {
    format!("From: a@example.org\r\nSubject: report {n}\r\n\r\nbody {n}\r\n").into_bytes()
}

fn new_report(raw: Vec<u8>, at: Millis) -> NewReport {
    NewReport {
        raw,
        channel: Channel::Http,
        content_type: ContentType::Rfc822,
        received_at: at,
        envelope_from: None,
        envelope_to: None,
        peer: Some("127.0.0.1:5555".into()),
        source_name: None,
    }
}

fn parsed(kind: &str, target: &str, contract: Option<&str>) -> ProcessResult {
    ProcessResult::Parsed(Box::new(ParsedReport {
        format: "arf".into(),
        kind: kind.into(),
        reporter: Some("reporter@example.net".into()),
        source_ip: Some("192.0.2.7".into()),
        source_port: None,
        event_time: Some(T0),
        origin_time: Some(T0),
        time_basis: Some("origin_hop".into()),
        attribution: Attribution {
            scope: if contract.is_some() {
                Scope::Ours
            } else {
                Scope::Unknown
            },
            contract: contract.map(str::to_owned),
            network: None,
            country: Some("JP".into()),
            abuse_contact: None,
            reason: "test".into(),
        },
        detail: json!({"urls": []}),
        case: CaseTarget {
            target: target.into(),
            needs_full_headers: false,
            respond_by: Some(T0 + 86_400_000),
            resolve_by: None,
        },
    }))
}

/// Accept `n` distinct reports and process all of them into `target`.
async fn ingest_processed(
    store: &Store,
    n: usize,
    kind: &str,
    target: &str,
    offset: usize,
) -> Vec<ReportId> {
    let batch: Vec<_> = (0..n)
        .map(|i| new_report(mail(offset + i), T0 + (offset + i) as i64))
        .collect();
    let accepted = store.accept(&batch).await.unwrap();
    let jobs = store
        .claim("w", n as i64, T0 + 1_000_000, LEASE)
        .await
        .unwrap();
    assert_eq!(jobs.len(), n);
    let results: Vec<_> = jobs
        .iter()
        .map(|j| Processed {
            report_id: j.report_id,
            claim: j.claim.clone(),
            processed_at: T0 + 2_000_000,
            result: parsed(kind, target, target.strip_prefix("contract:")),
        })
        .collect();
    store.complete(&results).await.unwrap();
    accepted.iter().map(|a| a.id).collect()
}

// ---------------------------------------------------------------- intake

async fn accept_stores_dedups_and_queues(store: Store, _url: String) {
    let a = store
        .accept(&[
            new_report(mail(1), T0),
            new_report(mail(2), T0),
            new_report(mail(1), T0 + 5),
        ])
        .await
        .unwrap();
    assert_eq!(a.len(), 3);
    assert!(!a[0].duplicate && !a[1].duplicate);
    assert!(a[2].duplicate, "same bytes are the same report");
    assert_eq!(a[2].id, a[0].id);
    assert_ne!(a[0].id, a[1].id);
    assert_eq!(a[0].sha256, sha256_hex(&mail(1)));
    assert_eq!(a[0].status, ReportStatus::Queued);
    assert_eq!(store.queue_depth().await.unwrap(), 2);

    let (ct, raw) = store.get_raw(a[0].id).await.unwrap().unwrap();
    assert_eq!(ct, ContentType::Rfc822);
    assert_eq!(raw, mail(1));
    let r = store.get_report(a[0].id).await.unwrap().unwrap();
    assert_eq!(r.submissions, 2);
    assert_eq!(r.status, ReportStatus::Queued);
    assert_eq!(r.size, mail(1).len() as i64);
    assert_eq!(r.peer.as_deref(), Some("127.0.0.1:5555"));
    assert!(store.get_report(9999).await.unwrap().is_none());
    assert!(store.get_raw(9999).await.unwrap().is_none());

    // A later duplicate of a processed report does not queue it again.
    let again = store.accept(&[new_report(mail(2), T0 + 9)]).await.unwrap();
    assert!(again[0].duplicate);
    assert_eq!(store.queue_depth().await.unwrap(), 2);
    assert!(store.accept(&[]).await.unwrap().is_empty());
}
store_test!(
    accept_stores_dedups_and_queues,
    accept_stores_dedups_and_queues
);

async fn binary_and_large_bytes_round_trip(store: Store, _url: String) {
    let mut raw: Vec<u8> = (0..=255u8).cycle().take(3 * 1024 * 1024).collect();
    raw.extend_from_slice(b"\r\n\x00\xff");
    let a = store.accept(&[new_report(raw.clone(), T0)]).await.unwrap();
    let (_, back) = store.get_raw(a[0].id).await.unwrap().unwrap();
    assert_eq!(back, raw);
}
store_test!(
    binary_and_large_bytes_round_trip,
    binary_and_large_bytes_round_trip
);

// ---------------------------------------------------------------- queue

async fn a_job_takes_effect_once(store: Store, _url: String) {
    let a = store
        .accept(&[new_report(mail(1), T0), new_report(mail(2), T0)])
        .await
        .unwrap();
    let jobs = store.claim("w1", 10, T0, LEASE).await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.report_id).collect::<Vec<_>>(),
        vec![a[0].id, a[1].id]
    );
    assert_eq!(jobs[0].raw, mail(1));
    assert_eq!(jobs[0].attempts, 1);
    assert!(
        store
            .claim("w2", 10, T0 + 1, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "leased jobs are not handed out twice"
    );

    let done = Processed {
        report_id: jobs[0].report_id,
        claim: jobs[0].claim.clone(),
        processed_at: T0 + 10,
        result: parsed("spam", "contract:C-1", Some("C-1")),
    };
    let c = store.complete(std::slice::from_ref(&done)).await.unwrap();
    let Completion::Written {
        case_id: Some(case_id),
        case_opened: true,
    } = c[0]
    else {
        panic!("unexpected completion {c:?}")
    };
    assert_eq!(
        store.complete(&[done]).await.unwrap(),
        vec![Completion::LostClaim]
    );
    let r = store.get_report(a[0].id).await.unwrap().unwrap();
    assert_eq!(r.status, ReportStatus::Processed);
    assert_eq!(r.case_id, Some(case_id));
    assert_eq!(r.kind.as_deref(), Some("spam"));
    assert_eq!(
        r.attribution.as_ref().unwrap().contract.as_deref(),
        Some("C-1")
    );
    assert_eq!(r.processed_at, Some(T0 + 10));
    assert_eq!(
        store.get_case(case_id).await.unwrap().unwrap().report_count,
        1
    );
    assert_eq!(store.queue_depth().await.unwrap(), 1);
}
store_test!(a_job_takes_effect_once, a_job_takes_effect_once);

async fn expired_lease_is_reclaimed_and_the_old_claim_writes_nothing(store: Store, _url: String) {
    store.accept(&[new_report(mail(1), T0)]).await.unwrap();
    let first = store.claim("w1", 10, T0, LEASE).await.unwrap();
    let second = store.claim("w2", 10, T0 + LEASE, LEASE).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    assert_ne!(first[0].claim, second[0].claim);
    let stale = Processed {
        report_id: first[0].report_id,
        claim: first[0].claim.clone(),
        processed_at: T0,
        result: parsed("spam", "contract:C-1", Some("C-1")),
    };
    assert_eq!(
        store.complete(&[stale]).await.unwrap(),
        vec![Completion::LostClaim]
    );
    assert_eq!(
        store
            .get_report(first[0].report_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ReportStatus::Queued
    );
    let fresh = Processed {
        report_id: second[0].report_id,
        claim: second[0].claim.clone(),
        processed_at: T0,
        result: parsed("spam", "contract:C-1", Some("C-1")),
    };
    assert!(matches!(
        store.complete(&[fresh]).await.unwrap()[0],
        Completion::Written { .. }
    ));
}
store_test!(
    expired_lease_is_reclaimed_and_the_old_claim_writes_nothing,
    expired_lease_is_reclaimed_and_the_old_claim_writes_nothing
);

async fn retry_later_and_release(store: Store, _url: String) {
    store.accept(&[new_report(mail(1), T0)]).await.unwrap();
    let j = store.claim("w", 1, T0, LEASE).await.unwrap();
    assert!(
        store
            .retry_later(j[0].report_id, &j[0].claim, "rdap timed out", T0 + 60_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .retry_later(j[0].report_id, "other", "x", T0)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim("w", 1, T0 + 59_999, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let j = store.claim("w", 1, T0 + 60_000, LEASE).await.unwrap();
    assert_eq!(j.len(), 1);
    assert_eq!(store.release_all_claims().await.unwrap(), 1);
    assert_eq!(
        store.claim("w", 1, T0 + 60_000, LEASE).await.unwrap().len(),
        1
    );
}
store_test!(retry_later_and_release, retry_later_and_release);

async fn concurrent_claimers_never_share_a_job(store: Store, _url: String) {
    let batch: Vec<_> = (0..300).map(|i| new_report(mail(i), T0)).collect();
    store.accept(&batch).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let jobs = store.claim(&format!("w{w}"), 7, T0, LEASE).await.unwrap();
                if jobs.is_empty() {
                    break;
                }
                let results: Vec<_> = jobs
                    .iter()
                    .map(|j| Processed {
                        report_id: j.report_id,
                        claim: j.claim.clone(),
                        processed_at: T0,
                        result: parsed("spam", "contract:C-1", Some("C-1")),
                    })
                    .collect();
                for c in store.complete(&results).await.unwrap() {
                    assert!(matches!(c, Completion::Written { .. }));
                }
                seen.extend(jobs.iter().map(|j| j.report_id));
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 300, "every job claimed exactly once");
    assert_eq!(unique.len(), 300);
    let page = store
        .list_cases(
            &CaseFilter::default(),
            CaseSort::LastReport,
            Order::Desc,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "one open case per kind and target, even under concurrency"
    );
    assert_eq!(page.items[0].report_count, 300);
}
store_test!(
    concurrent_claimers_never_share_a_job,
    concurrent_claimers_never_share_a_job
);

// ---------------------------------------------------------------- cases

async fn reports_group_into_open_cases(store: Store, _url: String) {
    let ids = ingest_processed(&store, 3, "spam", "contract:C-1", 0).await;
    ingest_processed(&store, 1, "phishing", "contract:C-1", 10).await;
    ingest_processed(&store, 2, "spam", "contract:C-2", 20).await;
    let all = store
        .list_cases(
            &CaseFilter::default(),
            CaseSort::Reports,
            Order::Desc,
            None,
            10,
        )
        .await
        .unwrap();
    let counts: Vec<_> = all
        .items
        .iter()
        .map(|c| (c.kind.as_str(), c.target.as_str(), c.report_count))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("spam", "contract:C-1", 3),
            ("spam", "contract:C-2", 2),
            ("phishing", "contract:C-1", 1)
        ]
    );
    let case = &all.items[0];
    assert_eq!(case.state, CaseState::Open);
    assert_eq!(case.first_report_at, T0);
    assert_eq!(case.last_report_at, T0 + 2);
    assert_eq!(case.respond_by, Some(T0 + 86_400_000));
    assert_eq!(case.attribution.contract.as_deref(), Some("C-1"));
    assert_eq!(store.case_report_ids(case.id, 100).await.unwrap(), ids);

    let events = store.case_events(case.id, 100).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "case_opened",
            "report_added",
            "report_added",
            "report_added"
        ]
    );
    assert_eq!(events[1].report_id, Some(ids[0]));
    assert_eq!(events[1].detail["received_at"], json!(T0));

    // A closed case gains no reports: the next one opens a new case.
    assert!(
        store
            .set_case_state(case.id, CaseState::Resolved, "operator", T0 + 5)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_case_state(case.id, CaseState::Open, "operator", T0 + 6)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        !store
            .set_case_state(424242, CaseState::Closed, "operator", T0)
            .await
            .unwrap()
    );
    ingest_processed(&store, 1, "spam", "contract:C-1", 30).await;
    let open = store
        .list_cases(
            &CaseFilter {
                kind: Some("spam".into()),
                state: Some(CaseState::Open),
                contract: Some("C-1".into()),
                ..Default::default()
            },
            CaseSort::Created,
            Order::Desc,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(open.items.len(), 1);
    assert_ne!(open.items[0].id, case.id);
    assert_eq!(open.items[0].report_count, 1);
    let resolved = store.get_case(case.id).await.unwrap().unwrap();
    assert_eq!(resolved.state, CaseState::Resolved);
    assert_eq!(resolved.closed_at, Some(T0 + 5));
    assert_eq!(
        store
            .case_events(case.id, 100)
            .await
            .unwrap()
            .last()
            .unwrap()
            .kind,
        "state_changed"
    );
}
store_test!(reports_group_into_open_cases, reports_group_into_open_cases);

/// Batches larger than one multi-row statement, mixing new and open cases, a stale
/// claim and a report listed twice: the bulk path keeps the row-by-row semantics.
async fn large_mixed_batches_keep_the_semantics(store: Store, _url: String) {
    // An open case with one report before the batch.
    ingest_processed(&store, 1, "spam", "contract:C-0", 0).await;
    let before = store
        .list_cases(
            &CaseFilter::default(),
            CaseSort::Created,
            Order::Asc,
            None,
            10,
        )
        .await
        .unwrap()
        .items[0]
        .clone();

    // 450 reports in one intake batch (and 10 of them twice): 3 statements' worth.
    let mut batch: Vec<_> = (0..450)
        .map(|i| new_report(mail(1000 + i), T0 + i as i64))
        .collect();
    batch.extend((0..10).map(|i| new_report(mail(1000 + i), T0 + 999)));
    let accepted = store.accept(&batch).await.unwrap();
    assert_eq!(accepted.len(), 460);
    assert!(accepted[..450].iter().all(|a| !a.duplicate));
    assert!(accepted[450..].iter().all(|a| a.duplicate));
    for i in 0..10 {
        assert_eq!(accepted[450 + i].id, accepted[i].id);
    }
    assert_eq!(
        store
            .get_report(accepted[3].id)
            .await
            .unwrap()
            .unwrap()
            .submissions,
        2
    );
    assert_eq!(
        store
            .get_report(accepted[30].id)
            .await
            .unwrap()
            .unwrap()
            .submissions,
        1
    );
    assert_eq!(store.queue_depth().await.unwrap(), 450);

    let jobs = store.claim("w", 1000, T0 + 1_000_000, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 450);
    // Report i goes to contract C-(i % 300): C-0 already has an open case.
    let mut results: Vec<_> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let target = format!("contract:C-{}", i % 300);
            Processed {
                report_id: j.report_id,
                claim: j.claim.clone(),
                processed_at: T0 + 2_000_000,
                result: parsed("spam", &target, target.strip_prefix("contract:")),
            }
        })
        .collect();
    // One result twice, one with a stale claim.
    results.push(results[5].clone());
    let stale = Processed {
        claim: "someone-else".into(),
        ..results[7].clone()
    };
    results.insert(8, stale);
    let done = store.complete(&results).await.unwrap();
    assert_eq!(done.len(), results.len());
    assert_eq!(done[8], Completion::LostClaim, "stale claim writes nothing");
    assert_eq!(
        *done.last().unwrap(),
        Completion::LostClaim,
        "a job takes effect once"
    );
    let written: Vec<_> = done
        .iter()
        .filter_map(|c| match c {
            Completion::Written {
                case_id,
                case_opened,
            } => Some((case_id.unwrap(), *case_opened)),
            Completion::LostClaim => None,
        })
        .collect();
    assert_eq!(written.len(), 450);
    assert_eq!(
        written[0],
        (before.id, false),
        "C-0's open case takes the report"
    );
    assert_eq!(written.iter().filter(|(_, opened)| *opened).count(), 299);
    assert_eq!(store.queue_depth().await.unwrap(), 0);

    let c0 = store.get_case(before.id).await.unwrap().unwrap();
    assert_eq!(c0.report_count, 1 + 2, "reports 0 and 300 of the batch");
    assert_eq!(c0.first_report_at, T0);
    assert_eq!(c0.last_report_at, T0 + 300);
    let kinds: Vec<_> = store
        .case_events(before.id, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "case_opened",
            "report_added",
            "report_added",
            "report_added"
        ]
    );

    let (c1, _) = written[1];
    let c1 = store.get_case(c1).await.unwrap().unwrap();
    assert_eq!((c1.target.as_str(), c1.report_count), ("contract:C-1", 2));
    assert_eq!((c1.first_report_at, c1.last_report_at), (T0 + 1, T0 + 301));
    assert_eq!(c1.respond_by, Some(T0 + 86_400_000));
    let events = store.case_events(c1.id, 100).await.unwrap();
    let seq: Vec<_> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.report_id))
        .collect();
    assert_eq!(
        seq,
        [
            ("case_opened", Some(jobs[1].report_id)),
            ("report_added", Some(jobs[1].report_id)),
            ("report_added", Some(jobs[301].report_id)),
        ]
    );
    let r = store
        .get_report(jobs[301].report_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, ReportStatus::Processed);
    assert_eq!(r.case_id, Some(c1.id));
    let a = r.attribution.as_ref().unwrap();
    assert_eq!(a.contract.as_deref(), Some("C-1"));
    assert_eq!(a.country.as_deref(), Some("JP"));
    assert_eq!(r.source_ip.as_deref(), Some("192.0.2.7"));
    let all = store
        .list_cases(
            &CaseFilter::default(),
            CaseSort::Created,
            Order::Asc,
            None,
            500,
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 300);
    assert_eq!(all.items.iter().map(|c| c.report_count).sum::<i64>(), 451);
}
store_test!(
    large_mixed_batches_keep_the_semantics,
    large_mixed_batches_keep_the_semantics
);

async fn reprocessing_is_idempotent(store: Store, _url: String) {
    let ids = ingest_processed(&store, 2, "spam", "contract:C-1", 0).await;
    let before = store.get_report(ids[0]).await.unwrap().unwrap();
    let case_id = before.case_id.unwrap();

    // Same result again: same case, same counters.
    assert!(store.requeue(ids[0], T0).await.unwrap());
    assert!(
        store.requeue(ids[0], T0).await.unwrap(),
        "requeueing twice queues once"
    );
    assert_eq!(store.queue_depth().await.unwrap(), 1);
    assert!(!store.requeue(777_777, T0).await.unwrap());
    let j = store.claim("w", 10, T0 + 3_000_000, LEASE).await.unwrap();
    assert_eq!(j.len(), 1);
    let res = Processed {
        report_id: ids[0],
        claim: j[0].claim.clone(),
        processed_at: T0 + 3_000_000,
        result: parsed("spam", "contract:C-1", Some("C-1")),
    };
    assert_eq!(
        store.complete(&[res]).await.unwrap(),
        vec![Completion::Written {
            case_id: Some(case_id),
            case_opened: false
        }]
    );
    assert_eq!(
        store.get_case(case_id).await.unwrap().unwrap().report_count,
        2
    );
    let after = store.get_report(ids[0]).await.unwrap().unwrap();
    assert_eq!(after.case_id, before.case_id);
    assert_eq!(after.attribution, before.attribution);

    // A different result (the registry changed): the report moves case.
    store.requeue(ids[0], T0).await.unwrap();
    let j = store.claim("w", 10, T0 + 3_000_000, LEASE).await.unwrap();
    let res = Processed {
        report_id: ids[0],
        claim: j[0].claim.clone(),
        processed_at: T0 + 3_000_001,
        result: parsed("spam", "contract:C-9", Some("C-9")),
    };
    let Completion::Written {
        case_id: Some(new_case),
        case_opened: true,
    } = store.complete(&[res]).await.unwrap()[0]
    else {
        panic!("expected a new case")
    };
    assert_eq!(
        store.get_case(case_id).await.unwrap().unwrap().report_count,
        1
    );
    assert_eq!(
        store
            .get_case(new_case)
            .await
            .unwrap()
            .unwrap()
            .report_count,
        1
    );
    let log: Vec<_> = store
        .case_events(case_id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        log,
        vec![
            "case_opened",
            "report_added",
            "report_added",
            "report_reprocessed",
            "report_removed"
        ]
    );
}
store_test!(reprocessing_is_idempotent, reprocessing_is_idempotent);

async fn unparseable_reports_are_kept_and_marked(store: Store, _url: String) {
    let a = store
        .accept(&[new_report(b"\x00\x01 not mail".to_vec(), T0)])
        .await
        .unwrap();
    let j = store.claim("w", 1, T0, LEASE).await.unwrap();
    let res = Processed {
        report_id: a[0].id,
        claim: j[0].claim.clone(),
        processed_at: T0 + 1,
        result: ProcessResult::Unparseable {
            format: None,
            error: "no header section".into(),
            detail: json!({"problems": ["x"]}),
        },
    };
    assert_eq!(
        store.complete(&[res]).await.unwrap(),
        vec![Completion::Written {
            case_id: None,
            case_opened: false
        }]
    );
    let r = store.get_report(a[0].id).await.unwrap().unwrap();
    assert_eq!(r.status, ReportStatus::Unparseable);
    assert_eq!(r.error.as_deref(), Some("no header section"));
    assert_eq!(r.detail, json!({"problems": ["x"]}));
    assert!(r.case_id.is_none() && r.attribution.is_none());
    let page = store
        .list_reports(
            &ReportFilter {
                status: Some(ReportStatus::Unparseable),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (
            stats.reports_unparseable,
            stats.reports_processed,
            stats.jobs_queued
        ),
        (1, 0, 0)
    );
}
store_test!(
    unparseable_reports_are_kept_and_marked,
    unparseable_reports_are_kept_and_marked
);

async fn event_log_is_append_only(store: Store, url: String) {
    use sqlx::Connection;
    let ids = ingest_processed(&store, 1, "spam", "contract:C-1", 0).await;
    let case = store
        .get_report(ids[0])
        .await
        .unwrap()
        .unwrap()
        .case_id
        .unwrap();
    for sql in [
        "UPDATE case_events SET type = 'forged' WHERE case_id = $1",
        "DELETE FROM case_events WHERE case_id = $1",
    ] {
        let result = match store.kind() {
            BackendKind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(sql)
                    .bind(case)
                    .execute(&mut c)
                    .await
                    .map(|_| ())
            }
            BackendKind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query(sql)
                    .bind(case)
                    .execute(&mut c)
                    .await
                    .map(|_| ())
            }
        };
        let err = result.expect_err("the event log must refuse changes");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(store.case_events(case, 10).await.unwrap().len(), 2);
}
store_test!(event_log_is_append_only, event_log_is_append_only);

// ---------------------------------------------------------------- listing

async fn report_list_is_newest_first_with_cursor(store: Store, _url: String) {
    let ids = ingest_processed(&store, 5, "spam", "contract:C-1", 0).await;
    store
        .accept(&[new_report(mail(100), T0 + 100)])
        .await
        .unwrap();
    let p1 = store
        .list_reports(&ReportFilter::default(), None, 4)
        .await
        .unwrap();
    assert_eq!(p1.items.len(), 4);
    assert!(p1.items.windows(2).all(|w| w[0].id > w[1].id));
    let p2 = store
        .list_reports(&ReportFilter::default(), p1.next_cursor.as_deref(), 4)
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 2);
    assert!(p2.next_cursor.is_none());
    assert_eq!(p2.items.last().unwrap().id, ids[0]);

    let f = ReportFilter {
        status: Some(ReportStatus::Processed),
        contract: Some("C-1".into()),
        kind: Some("spam".into()),
        scope: Some(Scope::Ours),
        source_ip: Some("192.0.2.7".into()),
        ..Default::default()
    };
    assert_eq!(
        store.list_reports(&f, None, 100).await.unwrap().items.len(),
        5
    );
    let f = ReportFilter {
        status: Some(ReportStatus::Queued),
        ..Default::default()
    };
    assert_eq!(
        store.list_reports(&f, None, 100).await.unwrap().items.len(),
        1
    );
    let f = ReportFilter {
        received_after: Some(T0 + 2),
        received_before: Some(T0 + 4),
        ..Default::default()
    };
    assert_eq!(
        store.list_reports(&f, None, 100).await.unwrap().items.len(),
        2
    );
    let case = p2.items[0].case_id.unwrap();
    let f = ReportFilter {
        case_id: Some(case),
        channel: Some(Channel::Http),
        ..Default::default()
    };
    assert_eq!(
        store.list_reports(&f, None, 100).await.unwrap().items.len(),
        5
    );
    assert!(matches!(
        store
            .list_reports(&ReportFilter::default(), Some("garbage"), 4)
            .await,
        Err(StoreError::InvalidCursor)
    ));
}
store_test!(
    report_list_is_newest_first_with_cursor,
    report_list_is_newest_first_with_cursor
);

async fn case_list_pages_through_every_sort(store: Store, _url: String) {
    for i in 0..7 {
        ingest_processed(&store, i + 1, "spam", &format!("contract:C-{i}"), i * 100).await;
    }
    for sort in CaseSort::ALL {
        for order in [Order::Desc, Order::Asc] {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = store
                    .list_cases(&CaseFilter::default(), *sort, order, cursor.as_deref(), 3)
                    .await
                    .unwrap();
                seen.extend(page.items.iter().map(|c| c.id));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(seen.len(), 7, "{sort} {order:?}");
            assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
            if *sort == CaseSort::Reports {
                let mut expect = seen.clone();
                expect.sort();
                if order == Order::Desc {
                    expect.reverse();
                }
                assert_eq!(seen, expect, "report counts grow with id here");
            }
        }
    }
    let first = store
        .list_cases(
            &CaseFilter::default(),
            CaseSort::Created,
            Order::Desc,
            None,
            3,
        )
        .await
        .unwrap();
    let wrong = store
        .list_cases(
            &CaseFilter::default(),
            CaseSort::Reports,
            Order::Desc,
            first.next_cursor.as_deref(),
            3,
        )
        .await;
    assert!(
        matches!(wrong, Err(StoreError::InvalidCursor)),
        "a cursor belongs to its sort"
    );
    let f = CaseFilter {
        country: Some("JP".into()),
        scope: Some(Scope::Ours),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_cases(&f, CaseSort::LastReport, Order::Desc, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        7
    );
    let f = CaseFilter {
        kind: Some("virus".into()),
        ..Default::default()
    };
    assert!(
        store
            .list_cases(&f, CaseSort::LastReport, Order::Desc, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
store_test!(
    case_list_pages_through_every_sort,
    case_list_pages_through_every_sort
);

// ---------------------------------------------------------------- registry

fn contract(id: &str, parent: Option<&str>) -> ContractRow {
    ContractRow {
        id: id.into(),
        parent: parent.map(str::to_owned),
        doc: json!({"id": id, "name": format!("Customer {id}"), "parent": parent, "email": "noc@example.jp"}),
    }
}

fn assignment(prefix: &str, contract: &str) -> AssignmentRow {
    AssignmentRow {
        id: 0,
        prefix: prefix.into(),
        contract: contract.into(),
        doc: json!({"prefix": prefix, "contract": contract, "valid_from": "2002-03-31T00:00:00Z", "port_from": 1024, "port_to": 2047}),
    }
}

fn domain(name: &str, contract: &str) -> HostedDomainRow {
    HostedDomainRow {
        id: 0,
        domain: name.into(),
        contract: contract.into(),
        doc: json!({"domain": name, "contract": contract}),
    }
}

fn network(prefix: &str) -> NetworkRow {
    NetworkRow {
        prefix: prefix.into(),
        doc: json!({"prefix": prefix, "description": "core"}),
    }
}

async fn registry_crud_bumps_the_version(store: Store, _url: String) {
    let v0 = store.registry_version().await.unwrap();
    assert!(
        store
            .put_contract(&contract("R-1", None), T0)
            .await
            .unwrap()
    );
    assert!(
        store
            .put_contract(&contract("C-1", Some("R-1")), T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_contract(&contract("C-1", Some("R-1")), T0)
            .await
            .unwrap(),
        "second put replaces"
    );
    assert!(
        store
            .put_contract(&contract("C-2", Some("nope")), T0)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        store
            .put_contract(&contract("C-3", Some("C-3")), T0)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(
        store.get_contract("C-1").await.unwrap().unwrap().doc["email"],
        json!("noc@example.jp")
    );
    let id = store
        .add_assignment(&assignment("203.0.113.0/28", "C-1"), T0)
        .await
        .unwrap();
    assert!(
        store
            .add_assignment(&assignment("203.0.113.0/28", "ghost"), T0)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(
        store.get_assignment(id).await.unwrap().unwrap().doc["port_to"],
        json!(2047)
    );
    let changed = assignment("203.0.113.16/28", "C-1");
    assert!(
        store
            .update_registry_row(
                RegistryTable::Assignments,
                id,
                "C-1",
                &changed.prefix,
                &changed.doc,
                T0
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_registry_row(
                RegistryTable::Assignments,
                id + 100,
                "C-1",
                "x",
                &changed.doc,
                T0
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .update_registry_row(
                RegistryTable::Assignments,
                id,
                "ghost",
                "x",
                &changed.doc,
                T0
            )
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(
        store.get_assignment(id).await.unwrap().unwrap().prefix,
        "203.0.113.16/28"
    );
    let d = store
        .add_domain(&domain("shop.example", "C-1"), T0)
        .await
        .unwrap();
    assert_eq!(
        store.get_domain(d).await.unwrap().unwrap().domain,
        "shop.example"
    );
    assert!(
        store
            .put_network(&network("203.0.113.0/24"), T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_network(&network("203.0.113.0/24"), T0)
            .await
            .unwrap()
    );

    assert!(
        store
            .delete_contract("C-1")
            .await
            .unwrap_err()
            .is_conflict(),
        "still referenced"
    );
    assert!(
        store
            .delete_contract("R-1")
            .await
            .unwrap_err()
            .is_conflict(),
        "has a child"
    );
    let snap = store.registry_snapshot().await.unwrap();
    assert!(snap.version > v0);
    assert_eq!(
        (
            snap.contracts.len(),
            snap.assignments.len(),
            snap.domains.len(),
            snap.networks.len()
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(store.list_contracts(None, 10).await.unwrap().len(), 2);
    assert_eq!(
        store.list_contracts(Some("C-1"), 10).await.unwrap()[0].id,
        "R-1"
    );
    assert_eq!(
        store
            .list_assignments(Some("C-1"), 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_assignments(Some("R-1"), 0, 10)
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store.list_assignments(None, id, 10).await.unwrap().len(),
        0,
        "keyset: after the last id"
    );
    assert_eq!(
        store.list_domains(Some("C-1"), 0, 10).await.unwrap().len(),
        1
    );
    assert_eq!(store.list_networks().await.unwrap().len(), 1);

    assert!(
        store
            .delete_registry_row(RegistryTable::Assignments, id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_registry_row(RegistryTable::Assignments, id)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_registry_row(RegistryTable::Domains, d)
            .await
            .unwrap()
    );
    assert!(store.delete_network("203.0.113.0/24").await.unwrap());
    assert!(!store.delete_network("203.0.113.0/24").await.unwrap());
    assert!(store.delete_contract("C-1").await.unwrap());
    assert!(store.delete_contract("R-1").await.unwrap());
    assert!(!store.delete_contract("R-1").await.unwrap());
    assert!(store.get_contract("R-1").await.unwrap().is_none());
    assert!(store.registry_version().await.unwrap() > snap.version);
}
store_test!(
    registry_crud_bumps_the_version,
    registry_crud_bumps_the_version
);

async fn registry_import_is_all_or_nothing(store: Store, _url: String) {
    let good = RegistryImport {
        contracts: vec![contract("C-2", Some("R-1")), contract("R-1", None)],
        assignments: vec![
            assignment("198.51.100.0/24", "C-2"),
            assignment("2001:db8::/48", "C-2"),
        ],
        domains: vec![domain("c2.example", "C-2")],
        networks: vec![network("198.51.100.0/22")],
        replace: false,
    };
    let counts = store.import_registry(&good, T0).await.unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            contracts: 2,
            assignments: 2,
            domains: 1,
            networks: 1
        }
    );
    let v = store.registry_version().await.unwrap();

    let bad = RegistryImport {
        contracts: vec![contract("C-5", None)],
        assignments: vec![assignment("192.0.2.0/24", "C-404")],
        ..Default::default()
    };
    assert!(
        store
            .import_registry(&bad, T0)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        store.get_contract("C-5").await.unwrap().is_none(),
        "a failed import writes nothing"
    );
    assert_eq!(store.registry_version().await.unwrap(), v);

    let replace = RegistryImport {
        assignments: vec![assignment("198.51.101.0/24", "C-2")],
        replace: true,
        ..Default::default()
    };
    store.import_registry(&replace, T0).await.unwrap();
    let now: Vec<_> = store
        .list_assignments(Some("C-2"), 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.prefix)
        .collect();
    assert_eq!(now, vec!["198.51.101.0/24"]);
    assert_eq!(
        store.list_domains(None, 0, 10).await.unwrap().len(),
        1,
        "domains untouched: none were imported"
    );
}
store_test!(
    registry_import_is_all_or_nothing,
    registry_import_is_all_or_nothing
);

// ---------------------------------------------------------------- tokens

async fn tokens_are_hashed_and_revocable(store: Store, _url: String) {
    let t = store.create_token("ci", T0).await.unwrap();
    assert!(t.secret.starts_with("adk_") && t.secret.len() > 40);
    assert!(t.secret.starts_with(&t.info.hint));
    let other = store.create_token("ops", T0).await.unwrap();
    assert_ne!(t.secret, other.secret);
    let v = store
        .verify_token(&t.secret, T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v.id, v.name.as_str()), (t.info.id, "ci"));
    assert!(store.verify_token("adk_wrong", T0).await.unwrap().is_none());
    assert!(store.verify_token("", T0).await.unwrap().is_none());
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].last_used_at, Some(T0 + 1));
    assert!(store.revoke_token(t.info.id, T0 + 2).await.unwrap());
    assert!(!store.revoke_token(t.info.id, T0 + 3).await.unwrap());
    assert!(
        store
            .verify_token(&t.secret, T0 + 4)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .verify_token(&other.secret, T0 + 4)
            .await
            .unwrap()
            .is_some()
    );
}
store_test!(
    tokens_are_hashed_and_revocable,
    tokens_are_hashed_and_revocable
);

async fn health_and_reopen_keep_data(store: Store, _url: String) {
    store.ping().await.unwrap();
    store.accept(&[new_report(mail(1), T0)]).await.unwrap();
    assert_eq!(store.stats().await.unwrap().reports_queued, 1);
}
store_test!(health_and_reopen_keep_data, health_and_reopen_keep_data);

#[tokio::test]
async fn sqlite_reopen_keeps_data_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_data_dir(dir.path(), &StoreOptions::default())
        .await
        .unwrap();
    let a = s.accept(&[new_report(mail(1), T0)]).await.unwrap();
    s.close().await;
    let url = format!("sqlite://{}", dir.path().join(SQLITE_FILE).display());
    let s = Store::open(&url, &StoreOptions::default()).await.unwrap();
    assert_eq!(s.get_raw(a[0].id).await.unwrap().unwrap().1, mail(1));
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    let e = Store::open("mysql://x", &StoreOptions::default())
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("expected sqlite:PATH or postgres://"),
        "{e}"
    );
    let e = Store::open("sqlite:", &StoreOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidUrl { .. }));
    let e = Store::open("sqlite::memory:", &StoreOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("in-memory"), "{e}");
    assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
}
