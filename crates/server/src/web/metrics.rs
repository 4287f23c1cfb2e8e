//! Prometheus metrics (text exposition format 0.0.4) kept per server instance: request counts by
//! route and status, request latency histograms by route, database pool figures, build info.
//! A small hand-written registry instead of a global recorder, so several servers can run in one
//! test process without sharing counters.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS_SECS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS_SECS.len()],
    count: u64,
    sum_secs: f64,
}

/// One route's figures. Looked up by `&str` and scanned linearly by (method, status), so a
/// request that hits known labels allocates nothing.
#[derive(Debug, Default)]
struct RouteStats {
    requests: Vec<(String, u16, u64)>,
    latency: Histogram,
}

#[derive(Debug, Default)]
struct Inner {
    routes: HashMap<String, RouteStats>,
}

/// The metrics of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one finished request. `route` is the matched route template (bounded set).
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if !inner.routes.contains_key(route) {
            inner.routes.insert(route.to_owned(), RouteStats::default());
        }
        let Some(stats) = inner.routes.get_mut(route) else {
            return;
        };
        match stats
            .requests
            .iter_mut()
            .find(|(m, s, _)| *s == status && m == method)
        {
            Some((_, _, n)) => *n += 1,
            None => stats.requests.push((method.to_owned(), status, 1)),
        }
        let histogram = &mut stats.latency;
        let secs = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS_SECS.iter().zip(histogram.counts.iter_mut()) {
            if secs <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum_secs += secs;
    }

    /// Renders every metric; `pool` is (open, idle) connections of the database pool.
    pub fn render(&self, pool: (u32, usize), backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP latchkey_build_info Build information.");
        let _ = writeln!(out, "# TYPE latchkey_build_info gauge");
        let _ = writeln!(
            out,
            "latchkey_build_info{{version=\"{}\",backend=\"{backend}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "# HELP latchkey_db_pool_connections Open database connections."
        );
        let _ = writeln!(out, "# TYPE latchkey_db_pool_connections gauge");
        let _ = writeln!(out, "latchkey_db_pool_connections {}", pool.0);
        let _ = writeln!(
            out,
            "# HELP latchkey_db_pool_idle_connections Idle database connections."
        );
        let _ = writeln!(out, "# TYPE latchkey_db_pool_idle_connections gauge");
        let _ = writeln!(out, "latchkey_db_pool_idle_connections {}", pool.1);
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP latchkey_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE latchkey_http_requests_total counter");
        let mut routes: Vec<(&String, &RouteStats)> = inner.routes.iter().collect();
        routes.sort_by(|a, b| a.0.cmp(b.0));
        for (route, stats) in &routes {
            let mut requests = stats.requests.clone();
            requests.sort();
            for (method, status, n) in requests {
                let _ = writeln!(
                    out,
                    "latchkey_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP latchkey_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE latchkey_http_request_duration_seconds histogram"
        );
        for (route, stats) in &routes {
            let h = &stats.latency;
            let route = escape(route);
            for (bound, count) in BUCKETS_SECS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum_secs
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_cumulative() {
        let m = Metrics::default();
        m.record_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.record_request("GET", "/healthz", 200, Duration::from_millis(30));
        let text = m.render((2, 1), "sqlite");
        assert!(text.contains(
            "latchkey_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("latchkey_db_pool_connections 2"));
    }
}
