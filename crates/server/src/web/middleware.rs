//! The edge: everything every request gets, as one hand-written tower layer around each route:
//! a request id (on the response and on every log line of the request), the request timeout, the
//! body limit, problem+json for any error, the security headers, metrics, and one access-log line.
//!
//! One layer instead of a stack of them because each `Router::layer` re-boxes every route (a clone
//! and a boxed future per request per layer), and `middleware::from_fn` adds its own boxing on top;
//! the work itself is arranged so that a request answered at once (a health probe) allocates
//! little, arms no timer and builds no tracing span.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::Route;
use tower::{Layer, Service};

use crate::web::metrics::Metrics;
use crate::web::problem::normalise;
use crate::web::request_id::{REQUEST_ID, RequestId, X_REQUEST_ID};
use crate::web::security_headers::add_security_headers;
use crate::web::timeout::Deadline;

/// What the edge needs, shared by every route.
#[derive(Debug)]
pub(crate) struct Edge {
    /// This server's metrics.
    pub metrics: Arc<Metrics>,
    /// Whether the server terminates TLS (HSTS).
    pub tls: bool,
    /// How long a request may take, from arrival to response (then 408).
    pub timeout: Duration,
    /// Largest request body accepted (then 413).
    pub body_limit: usize,
}

/// Wraps each route in an [`EdgeService`].
#[derive(Debug, Clone)]
pub(crate) struct EdgeLayer(Arc<Edge>);

impl EdgeLayer {
    pub(crate) fn new(edge: Edge) -> Self {
        Self(Arc::new(edge))
    }
}

impl Layer<Route> for EdgeLayer {
    type Service = EdgeService;

    fn layer(&self, route: Route) -> EdgeService {
        EdgeService {
            with_body: DefaultBodyLimit::max(self.0.body_limit).layer(route.clone()),
            route,
            edge: self.0.clone(),
        }
    }
}

/// One route behind the edge.
#[derive(Clone)]
pub(crate) struct EdgeService {
    /// The route, for requests without a body.
    route: Route,
    /// The route behind axum's body-limit setting, for requests with a body: the extractors'
    /// own default (2 MiB) must not undercut a larger configured limit. Bodiless requests skip it,
    /// which saves an allocation each.
    with_body: <DefaultBodyLimit as Layer<Route>>::Service,
    edge: Arc<Edge>,
}

/// Probes that load balancers and monitors call constantly: their access lines go to DEBUG so
/// they do not drown the INFO log (their counts are still in `/metrics`).
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

impl EdgeService {
    /// Starts the route, or answers 413 at once when the declared body length is over the limit.
    /// Bodies without a declared length are capped as they stream (the extractors answer 413).
    fn start(&mut self, request: Request) -> Result<<Route as Service<Request>>::Future, Response> {
        if request.body().is_end_stream() {
            return Ok(self.route.call(request));
        }
        let limit = self.edge.body_limit;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let cap = match declared {
            Some(length) if length > limit => {
                return Err(
                    (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response()
                );
            }
            Some(length) => length,
            None => limit,
        };
        let request = request.map(|body| Body::new(http_body_util::Limited::new(body, cap)));
        Ok(self.with_body.call(request))
    }
}

impl Service<Request> for EdgeService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    /// Routes are always ready.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started) + self.edge.timeout;
        let (request_id, echo) = RequestId::for_request(request.headers());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = request.method().clone();
        let uri = request.uri().clone();
        let started_route = self.start(request);
        let edge = self.edge.clone();
        Box::pin(REQUEST_ID.scope(request_id, async move {
            let response = match started_route {
                Ok(future) => match Deadline::new(future, deadline).await {
                    Some(Ok(response)) => response,
                    Some(Err(never)) => match never {},
                    None => StatusCode::REQUEST_TIMEOUT.into_response(),
                },
                Err(refused) => refused,
            };
            let mut response = normalise(response).await;
            let path = uri.path();
            add_security_headers(response.headers_mut(), edge.tls, path.starts_with("/assets/"));
            let status = response.status().as_u16();
            let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
            let elapsed = started.elapsed();
            edge.metrics
                .record_request(method.as_str(), route, status, elapsed);
            let latency_ms = elapsed.as_secs_f64() * 1000.0;
            // Debug formatting escapes control characters in the path (log injection); it only
            // runs when the line is actually written. The request id comes from REQUEST_ID.
            if is_probe(route) {
                tracing::debug!(method = %method, path = ?path, status, route, latency_ms, "request finished");
            } else {
                tracing::info!(method = %method, path = ?path, status, route, latency_ms, "request finished");
            }
            if let Some(value) = echo.or_else(|| request_id.header_value()) {
                response.headers_mut().insert(X_REQUEST_ID.clone(), value);
            }
            Ok(response)
        }))
    }
}
