//! Process counters for `GET /metrics`, in the Prometheus text format (version 0.0.4).
//!
//! Why our own: a dozen fixed counters with fixed label values need no registry crate;
//! atomics and one `render` function keep the hot paths (intake, workers) at one atomic
//! add each.
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use abusedesk_store::{Accepted, Channel, NewReport, Stats};

#[derive(Default)]
pub struct Metrics {
    received: [AtomicU64; 3],
    duplicates: [AtomicU64; 3],
    commits: AtomicU64,
    commit_micros: AtomicU64,
    intake_failures: AtomicU64,
    too_large: AtomicU64,
    processed: AtomicU64,
    unparseable: AtomicU64,
    lost_claims: AtomicU64,
    retries: AtomicU64,
    process_batches: AtomicU64,
    process_micros: AtomicU64,
    http: [AtomicU64; 5],
    smtp_accepted: AtomicU64,
    smtp_refused: AtomicU64,
}

fn channel_index(c: Channel) -> usize {
    match c {
        Channel::Smtp => 0,
        Channel::Http => 1,
        Channel::Ingest => 2,
    }
}

impl Metrics {
    pub fn intake_commit(&self, took: Duration, reports: &[NewReport], accepted: &[Accepted]) {
        self.commits.fetch_add(1, Relaxed);
        self.commit_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
        for (r, a) in reports.iter().zip(accepted) {
            let i = channel_index(r.channel);
            if a.duplicate {
                self.duplicates[i].fetch_add(1, Relaxed);
            } else {
                self.received[i].fetch_add(1, Relaxed);
            }
        }
    }

    pub fn intake_failed(&self, n: usize) {
        self.intake_failures.fetch_add(n as u64, Relaxed);
    }

    pub fn too_large(&self) {
        self.too_large.fetch_add(1, Relaxed);
    }

    pub fn processed(&self, processed: u64, unparseable: u64, lost: u64, took: Duration) {
        self.processed.fetch_add(processed, Relaxed);
        self.unparseable.fetch_add(unparseable, Relaxed);
        self.lost_claims.fetch_add(lost, Relaxed);
        self.process_batches.fetch_add(1, Relaxed);
        self.process_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
    }

    pub fn retried(&self, n: u64) {
        self.retries.fetch_add(n, Relaxed);
    }

    pub fn http_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.http[class].fetch_add(1, Relaxed);
    }

    pub fn smtp_message(&self, accepted: bool) {
        if accepted {
            &self.smtp_accepted
        } else {
            &self.smtp_refused
        }
        .fetch_add(1, Relaxed);
    }

    /// The exposition text; `stats` are the store's counts (absent if the store failed).
    pub fn render(&self, stats: Option<&Stats>) -> String {
        let mut out = String::with_capacity(4096);
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        let channels = ["smtp", "http", "ingest"];
        let by_channel = |a: &[AtomicU64; 3]| -> Vec<(String, f64)> {
            channels
                .iter()
                .zip(a)
                .map(|(c, n)| (format!("{{channel=\"{c}\"}}"), n.load(Relaxed) as f64))
                .collect()
        };
        let one = |a: &AtomicU64| vec![(String::new(), a.load(Relaxed) as f64)];
        family(
            "abusedesk_reports_received_total",
            "counter",
            "New reports stored, by channel.",
            &by_channel(&self.received),
        );
        family(
            "abusedesk_reports_duplicate_total",
            "counter",
            "Submissions of bytes already stored, by channel.",
            &by_channel(&self.duplicates),
        );
        family(
            "abusedesk_reports_too_large_total",
            "counter",
            "Reports refused for size by intake (HTTP, ingest); SMTP refuses them in the protocol (SIZE, 552).",
            &one(&self.too_large),
        );
        family(
            "abusedesk_intake_commits_total",
            "counter",
            "Intake transactions (each stores a batch).",
            &one(&self.commits),
        );
        family(
            "abusedesk_intake_commit_seconds_total",
            "counter",
            "Time spent in intake transactions.",
            &[(String::new(), self.commit_micros.load(Relaxed) as f64 / 1e6)],
        );
        family(
            "abusedesk_intake_failures_total",
            "counter",
            "Reports refused because the store failed.",
            &one(&self.intake_failures),
        );
        family(
            "abusedesk_reports_processed_total",
            "counter",
            "Reports processed by this process's workers, by result.",
            &[
                (
                    "{result=\"processed\"}".into(),
                    self.processed.load(Relaxed) as f64,
                ),
                (
                    "{result=\"unparseable\"}".into(),
                    self.unparseable.load(Relaxed) as f64,
                ),
            ],
        );
        family(
            "abusedesk_jobs_lost_claims_total",
            "counter",
            "Results discarded because another worker had re-claimed the job.",
            &one(&self.lost_claims),
        );
        family(
            "abusedesk_jobs_retried_total",
            "counter",
            "Jobs given back for a later attempt.",
            &one(&self.retries),
        );
        family(
            "abusedesk_process_batches_total",
            "counter",
            "Worker batches completed.",
            &one(&self.process_batches),
        );
        family(
            "abusedesk_process_seconds_total",
            "counter",
            "Time spent processing batches.",
            &[(
                String::new(),
                self.process_micros.load(Relaxed) as f64 / 1e6,
            )],
        );
        let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"];
        family(
            "abusedesk_http_responses_total",
            "counter",
            "HTTP responses by status class.",
            &classes
                .iter()
                .zip(&self.http)
                .map(|(c, n)| (format!("{{class=\"{c}\"}}"), n.load(Relaxed) as f64))
                .collect::<Vec<_>>(),
        );
        family(
            "abusedesk_smtp_messages_total",
            "counter",
            "Messages received over SMTP, by outcome.",
            &[
                (
                    "{result=\"accepted\"}".into(),
                    self.smtp_accepted.load(Relaxed) as f64,
                ),
                (
                    "{result=\"refused\"}".into(),
                    self.smtp_refused.load(Relaxed) as f64,
                ),
            ],
        );
        if let Some(s) = stats {
            family(
                "abusedesk_queue_depth",
                "gauge",
                "Jobs waiting or in progress (all processes).",
                &[(String::new(), s.jobs_queued as f64)],
            );
            family(
                "abusedesk_reports",
                "gauge",
                "Stored reports by status (all processes).",
                &[
                    ("{status=\"queued\"}".into(), s.reports_queued as f64),
                    ("{status=\"processed\"}".into(), s.reports_processed as f64),
                    (
                        "{status=\"unparseable\"}".into(),
                        s.reports_unparseable as f64,
                    ),
                ],
            );
            family(
                "abusedesk_cases_open",
                "gauge",
                "Open cases.",
                &[(String::new(), s.cases_open as f64)],
            );
        }
        family(
            "abusedesk_store_up",
            "gauge",
            "1 if the store answered this scrape.",
            &[(String::new(), if stats.is_some() { 1.0 } else { 0.0 })],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.http_response(201);
        m.http_response(404);
        m.processed(3, 1, 0, Duration::from_millis(5));
        let text = m.render(Some(&Stats {
            jobs_queued: 7,
            ..Default::default()
        }));
        assert!(text.contains("# TYPE abusedesk_reports_received_total counter\n"));
        assert!(text.contains("abusedesk_http_responses_total{class=\"2xx\"} 1\n"));
        assert!(text.contains("abusedesk_http_responses_total{class=\"4xx\"} 1\n"));
        assert!(text.contains("abusedesk_reports_processed_total{result=\"processed\"} 3\n"));
        assert!(text.contains("abusedesk_queue_depth 7\n"));
        assert!(text.contains("abusedesk_store_up 1\n"));
        assert!(m.render(None).contains("abusedesk_store_up 0\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("abusedesk_"), "{line}");
            value.parse::<f64>().unwrap();
        }
    }
}
