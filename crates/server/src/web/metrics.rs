//! Prometheus metrics (text exposition format 0.0.4) kept per server instance: request counts by
//! route and status, request latency histograms by route, database pool figures, build info.
//! A small hand-written registry instead of a global recorder, so several servers can run in one
//! test process without sharing counters.
//!
//! Recording is on every request's path, so it takes no lock and does no lookup: each route's
//! figures are atomics behind a handle ([`RouteStats`]) that the edge resolves once per route and
//! keeps. Only rendering, and the rare request with an unusual method or with more distinct
//! (method, status) pairs than a route has slots for, take a lock.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::Method;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS_SECS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The same bounds in nanoseconds, to place a request without floating point.
const BUCKETS_NANOS: [u64; BUCKETS_SECS.len()] = [
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    10_000_000_000,
];

/// (method, status) pairs a route counts without a lock; a route rarely sees more than a few.
const SLOTS: usize = 16;

/// The standard methods, numbered from 1 for the slot keys (0 marks a free slot).
const METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

fn method_code(method: &Method) -> Option<u32> {
    let index = METHODS.iter().position(|m| m == method)?;
    u32::try_from(index + 1).ok()
}

fn method_name(code: u32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| c.checked_sub(1))
        .and_then(|i| METHODS.get(i))
        .map_or("", Method::as_str)
}

/// One route's figures.
#[derive(Debug)]
pub struct RouteStats {
    route: Box<str>,
    /// Request counts by (method, status): a slot's key is `method code << 16 | status`, 0 while
    /// free; a slot is claimed once and never released.
    slots: [(AtomicU32, AtomicU64); SLOTS],
    /// Counts that found no slot (an unusual method, or all slots taken).
    overflow: Mutex<Vec<(String, u16, u64)>>,
    /// Requests per latency bucket, not cumulative; the last one is above every bound.
    buckets: [AtomicU64; BUCKETS_SECS.len() + 1],
    sum_nanos: AtomicU64,
}

impl RouteStats {
    fn new(route: &str) -> Self {
        Self {
            route: route.into(),
            slots: std::array::from_fn(|_| (AtomicU32::new(0), AtomicU64::new(0))),
            overflow: Mutex::new(Vec::new()),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }

    /// The route template these figures are for.
    pub fn route(&self) -> &str {
        &self.route
    }

    /// Records one finished request.
    pub fn record(&self, method: &Method, status: u16, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_NANOS
            .iter()
            .position(|bound| nanos <= *bound)
            .unwrap_or(BUCKETS_NANOS.len());
        if let Some(count) = self.buckets.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Some(code) = method_code(method)
            && self.count_in_slot(code << 16 | u32::from(status))
        {
            return;
        }
        let mut overflow = self.overflow.lock().unwrap_or_else(PoisonError::into_inner);
        let method = method.as_str();
        match overflow
            .iter_mut()
            .find(|(m, s, _)| *s == status && m == method)
        {
            Some((_, _, n)) => *n += 1,
            None => overflow.push((method.to_owned(), status, 1)),
        }
    }

    fn count_in_slot(&self, key: u32) -> bool {
        for (slot_key, count) in &self.slots {
            let mut current = slot_key.load(Ordering::Relaxed);
            if current == 0 {
                current =
                    match slot_key.compare_exchange(0, key, Ordering::Relaxed, Ordering::Relaxed) {
                        Ok(_) => key,
                        Err(taken) => taken,
                    };
            }
            if current == key {
                count.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }

    /// (method, status, count) for every pair counted so far, sorted.
    fn requests(&self) -> Vec<(String, u16, u64)> {
        let mut requests = self
            .overflow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (key, count) in &self.slots {
            let key = key.load(Ordering::Relaxed);
            let n = count.load(Ordering::Relaxed);
            // A slot just claimed may not be counted yet.
            if key == 0 || n == 0 {
                continue;
            }
            let status = u16::try_from(key & 0xffff).unwrap_or_default();
            let method = method_name(key >> 16);
            match requests
                .iter_mut()
                .find(|(m, s, _)| *s == status && m == method)
            {
                Some((_, _, total)) => *total += n,
                None => requests.push((method.to_owned(), status, n)),
            }
        }
        requests.sort();
        requests
    }
}

/// The metrics of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<Vec<Arc<RouteStats>>>,
}

impl Metrics {
    /// The figures of `route` (a matched route template, a bounded set), created on first use.
    /// Callers keep the handle: recording through it needs neither this lock nor a lookup.
    pub fn route(&self, route: &str) -> Arc<RouteStats> {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stats) = routes.iter().find(|s| s.route() == route) {
            return stats.clone();
        }
        let stats = Arc::new(RouteStats::new(route));
        routes.push(stats.clone());
        stats
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
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        routes.sort_by(|a, b| a.route.cmp(&b.route));
        let _ = writeln!(
            out,
            "# HELP latchkey_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE latchkey_http_requests_total counter");
        for stats in &routes {
            let route = escape(&stats.route);
            for (method, status, n) in stats.requests() {
                let _ = writeln!(
                    out,
                    "latchkey_http_requests_total{{method=\"{}\",route=\"{route}\",status=\"{status}\"}} {n}",
                    escape(&method)
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
        for stats in &routes {
            let route = escape(&stats.route);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS_SECS.iter().zip(stats.buckets.iter()) {
                cumulative += count.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let total: u64 = stats
                .buckets
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum();
            // Requests finishing while this renders may make +Inf exceed the last bound's count
            // by a few; never the other way round, as Prometheus requires.
            let total = total.max(cumulative);
            let sum_secs = stats.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}"
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum_secs}"
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_count{{route=\"{route}\"}} {total}"
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
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_cumulative() {
        let m = Metrics::default();
        let healthz = m.route("/healthz");
        healthz.record(&Method::GET, 200, Duration::from_millis(3));
        m.route("/healthz")
            .record(&Method::GET, 200, Duration::from_millis(30));
        let text = m.render((2, 1), "sqlite");
        assert!(text.contains(
            "latchkey_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(
            text.contains("latchkey_http_request_duration_seconds_sum{route=\"/healthz\"} 0.033")
        );
        assert!(text.contains("latchkey_db_pool_connections 2"));
    }

    #[test]
    fn every_method_and_status_is_counted_even_past_the_slots() {
        let m = Metrics::default();
        let stats = m.route("/x");
        let odd = Method::from_bytes(b"PURGE").unwrap();
        for status in 200..(200 + SLOTS as u16 + 5) {
            stats.record(&Method::POST, status, Duration::ZERO);
            stats.record(&Method::POST, status, Duration::ZERO);
        }
        stats.record(&odd, 405, Duration::from_secs(60));
        stats.record(&odd, 405, Duration::from_secs(60));
        let requests = stats.requests();
        assert_eq!(requests.len(), SLOTS + 5 + 1);
        assert!(requests.iter().all(|(_, _, n)| *n == 2), "{requests:?}");
        assert!(requests.contains(&("PURGE".into(), 405, 2)));
        assert!(requests.contains(&("POST".into(), 200 + SLOTS as u16 + 4, 2)));
        let text = m.render((0, 0), "sqlite");
        assert!(text.contains("route=\"/x\",le=\"10\"} 42"), "{text}");
        assert!(text.contains("route=\"/x\",le=\"+Inf\"} 44"), "{text}");
    }

    #[test]
    fn a_route_is_one_set_of_figures_however_often_it_is_resolved() {
        let m = Metrics::default();
        assert!(Arc::ptr_eq(&m.route("/a"), &m.route("/a")));
        assert!(!Arc::ptr_eq(&m.route("/a"), &m.route("/b")));
    }

    #[test]
    fn method_codes_round_trip() {
        for method in METHODS {
            assert_eq!(method_name(method_code(&method).unwrap()), method.as_str());
        }
        assert_eq!(method_code(&Method::from_bytes(b"PURGE").unwrap()), None);
    }
}
