//! Cross-cutting HTTP behaviour: a request id on every request (and every log line of it),
//! one access-log line and metrics per request, and security headers on every response.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::web::metrics::Metrics;
use crate::web::problem::REQUEST_ID;

/// The request-id header, accepted from a trusted proxy when well-formed and always returned.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps a client-supplied id only if it is short and plain, so it cannot inject into logs.
fn acceptable_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let plain = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plain.then(|| text.to_owned())
}

/// What the edge middleware needs.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    /// This server's metrics.
    pub metrics: Arc<Metrics>,
    /// Whether the server terminates TLS (HSTS).
    pub tls: bool,
}

/// Probes that load balancers and monitors call constantly: their access lines go to DEBUG so
/// they do not drown the INFO log (their counts are still in `/metrics`).
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// Everything every request gets, in one layer (each extra layer costs a boxed future per
/// request): the request id and its tracing span, problem+json for any error, security headers,
/// metrics, and one access-log line.
pub(crate) async fn edge(State(edge): State<Edge>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = request.method().clone();
    let is_asset = request.uri().path().starts_with("/assets/");
    // Debug formatting escapes control characters in the path (log injection). Only the request
    // id lives in the span (it must be on every line); method and path go in the access line.
    let path = format!("{:?}", request.uri().path());
    let span = tracing::info_span!("request", request_id = %request_id);
    let response = REQUEST_ID
        .scope(
            request_id.clone(),
            async { crate::web::problem::normalise(next.run(request).await).await }
                .instrument(span.clone()),
        )
        .await;
    let mut response = response;
    add_security_headers(response.headers_mut(), edge.tls, is_asset);
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    edge.metrics
        .record_request(method.as_str(), route, status, elapsed);
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if is_probe(route) {
            tracing::debug!(method = %method, path = %path, status, route, latency_ms, "request finished");
        } else {
            tracing::info!(method = %method, path = %path, status, route, latency_ms, "request finished");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// The Content-Security-Policy: no inline script or style, nothing from other origins, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The security headers every response carries, built once (security.md "HSTS, CSP …"): header
/// names outside the standard table are validated when built, so building them per request costs.
fn security_headers(tls: bool) -> &'static [(HeaderName, HeaderValue)] {
    static PLAIN: OnceLock<Vec<(HeaderName, HeaderValue)>> = OnceLock::new();
    static TLS: OnceLock<Vec<(HeaderName, HeaderValue)>> = OnceLock::new();
    let build = |tls: bool| {
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
            ),
        ];
        if tls {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            ));
        }
        headers
    };
    if tls {
        TLS.get_or_init(|| build(true))
    } else {
        PLAIN.get_or_init(|| build(false))
    }
}

/// Adds the security headers, and `Cache-Control: no-store` unless the response chose a policy
/// (hashed assets are cached for a year).
fn add_security_headers(headers: &mut axum::http::HeaderMap, tls: bool, is_asset: bool) {
    let wanted = security_headers(tls);
    headers.reserve(wanted.len() + 2);
    for (name, value) in wanted {
        headers.insert(name.clone(), value.clone());
    }
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
