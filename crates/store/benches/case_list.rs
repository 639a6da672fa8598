//! Case list first page with 1,000,000 cases in the store: p50/p99 latency of
//! `Store::list_cases` (what `GET /api/v1/cases` runs) for the common filters and sorts.
//!
//! `cargo bench -p abusedesk-store --bench case_list` (SQLite; PostgreSQL too when
//! `ABUSEDESK_TEST_POSTGRES` is set: a scratch database is created and dropped).
use std::time::{Duration, Instant};

use abusedesk_store::{CaseFilter, CaseSort, CaseState, Order, Store, StoreOptions};
use sqlx::Connection;

const CASES: i64 = 1_000_000;
const RUNS: usize = 300;
const T0: i64 = 1_700_000_000_000;

fn seed_sql(series: &str, concat: &str) -> String {
    let target = concat.replace("{}", "x");
    format!(
        "INSERT INTO cases (kind, target, scope, contract, country, reason, state, report_count, \
         needs_full_headers, first_report_at, last_report_at, created_at, updated_at, closed_at) \
         SELECT CASE x % 7 WHEN 0 THEN 'phishing' WHEN 1 THEN 'virus' ELSE 'spam' END, {target}, 'ours', \
         {contract}, 'JP', 'seeded', CASE WHEN x % 10 < 8 THEN 'closed' ELSE 'open' END, 1 + x % 13, FALSE, \
         {T0} + x * 1000, {T0} + x * 1000 + (x * 7919) % 86400000, {T0} + x * 1000, {T0} + x * 1000, \
         CASE WHEN x % 10 < 8 THEN {T0} + x * 1000 + 1 ELSE NULL END FROM {series}",
        contract = concat
            .replace("{}", "(x % 50000)")
            .replace("'contract:C-'", "'C-'"),
    )
}

async fn measure(store: &Store, label: &str) {
    let cases: [(&str, CaseFilter, CaseSort, Order); 6] = [
        (
            "all, newest report first",
            CaseFilter::default(),
            CaseSort::LastReport,
            Order::Desc,
        ),
        (
            "state=open",
            CaseFilter {
                state: Some(CaseState::Open),
                ..Default::default()
            },
            CaseSort::LastReport,
            Order::Desc,
        ),
        (
            "kind=spam&state=open",
            CaseFilter {
                kind: Some("spam".into()),
                state: Some(CaseState::Open),
                ..Default::default()
            },
            CaseSort::LastReport,
            Order::Desc,
        ),
        (
            "contract=C-4242",
            CaseFilter {
                contract: Some("C-4242".into()),
                ..Default::default()
            },
            CaseSort::LastReport,
            Order::Desc,
        ),
        (
            "sort=reports",
            CaseFilter::default(),
            CaseSort::Reports,
            Order::Desc,
        ),
        (
            "sort=created&order=asc",
            CaseFilter::default(),
            CaseSort::Created,
            Order::Asc,
        ),
    ];
    for (name, filter, sort, order) in cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut second_page = Duration::ZERO;
        for i in 0..RUNS {
            let t = Instant::now();
            let page = store
                .list_cases(&filter, sort, order, None, 50)
                .await
                .unwrap();
            times.push(t.elapsed());
            assert!(!page.items.is_empty(), "{name}");
            if i == 0 {
                let t = Instant::now();
                store
                    .list_cases(&filter, sort, order, page.next_cursor.as_deref(), 50)
                    .await
                    .unwrap();
                second_page = t.elapsed();
            }
        }
        times.sort();
        let p = |q: f64| {
            times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1e3
        };
        println!(
            "{label:<9} {name:<26} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   (next page {:.2} ms)",
            p(0.50),
            p(0.99),
            p(1.0),
            second_page.as_secs_f64() * 1e3
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("case list, first page of 50, {CASES} cases, {RUNS} runs per query");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path(), &StoreOptions::default())
        .await
        .unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join(abusedesk_store::SQLITE_FILE).display()
    );
    let t = Instant::now();
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let sql = seed_sql(
        &format!(
            "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {CASES}) SELECT x FROM n)"
        ),
        "'contract:C-' || {}",
    );
    sqlx::query(&sql).execute(&mut c).await.unwrap();
    sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    println!("sqlite    seeded in {:.1} s", t.elapsed().as_secs_f64());
    measure(&store, "sqlite").await;
    store.close().await;

    let Ok(admin) = std::env::var("ABUSEDESK_TEST_POSTGRES") else {
        println!("postgres  skipped: ABUSEDESK_TEST_POSTGRES is not set");
        return;
    };
    let name = format!("abusedesk_bench_{}", std::process::id());
    let mut a = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut a)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let url = format!("{base}/{name}");
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    let t = Instant::now();
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&seed_sql(
        &format!("generate_series(1::bigint, {CASES}) AS g(x)"),
        "'contract:C-' || {}",
    ))
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query("ANALYZE cases").execute(&mut c).await.unwrap();
    c.close().await.unwrap();
    println!("postgres  seeded in {:.1} s", t.elapsed().as_secs_f64());
    measure(&store, "postgres").await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut a)
        .await
        .unwrap();
}
