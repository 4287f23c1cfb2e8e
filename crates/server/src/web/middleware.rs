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
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::Route;
use tower::{Layer, Service};

use crate::web::metrics::{Metrics, RouteStats};
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
    /// The same for CSV imports (routes ending in `/imports`).
    pub import_timeout: Duration,
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
            route,
            extractor_limit: DefaultBodyLimit::max(self.0.body_limit).layer(Unchanged),
            shared: Arc::new(RouteEdge {
                edge: self.0.clone(),
                stats: OnceLock::new(),
            }),
        }
    }
}

/// One route behind the edge (cloned for every request, so it holds nothing costly to clone
/// beyond the route itself).
#[derive(Clone)]
pub(crate) struct EdgeService {
    route: Route,
    /// Sets axum's body limit for extractors on a request, so that their own default (2 MiB)
    /// does not undercut a larger configured limit. Only requests with a body need it.
    extractor_limit: <DefaultBodyLimit as Layer<Unchanged>>::Service,
    shared: Arc<RouteEdge>,
}

/// The route label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// What one route's edge keeps across requests.
#[derive(Debug)]
struct RouteEdge {
    edge: Arc<Edge>,
    /// This route's metrics, resolved on its first request: axum layers each route (and each
    /// fallback) separately, so one edge service sees one route template.
    stats: OnceLock<Arc<RouteStats>>,
}

impl RouteEdge {
    /// `None` when `route` is the cached route (always, in practice); otherwise its figures,
    /// looked up, so a surprise in how axum layers routes cannot mislabel a metric.
    fn uncached_stats(&self, route: &str) -> Option<Arc<RouteStats>> {
        let cached = self.stats.get_or_init(|| self.edge.metrics.route(route));
        (cached.route() != route).then(|| self.edge.metrics.route(route))
    }
}

/// A service that hands the request back: axum only exposes its body-limit setting as a layer,
/// so the layer is run over this to set it on a request without another boxed route in between.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unchanged;

impl Service<Request> for Unchanged {
    type Response = Request;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Request, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        std::future::ready(Ok(request))
    }
}

/// A request whose declared body length is over the limit (answered 413).
pub(crate) struct TooLarge;

/// Probes that load balancers and monitors call constantly: their access lines go to DEBUG so
/// they do not drown the INFO log (their counts are still in `/metrics`).
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// Whether the access line of a request would be written: probes log at DEBUG, others at INFO.
fn access_line_enabled(probe: bool) -> bool {
    if probe {
        tracing::enabled!(tracing::Level::DEBUG)
    } else {
        tracing::enabled!(tracing::Level::INFO)
    }
}

impl EdgeService {
    /// Starts the route, or refuses at once when the declared body length is over the limit.
    /// Bodies without a declared length are capped as they stream (the extractors answer 413).
    fn start(&mut self, request: Request) -> Result<<Route as Service<Request>>::Future, TooLarge> {
        if request.body().is_end_stream() {
            return Ok(self.route.call(request));
        }
        let limit = self.shared.edge.body_limit;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let cap = match declared {
            Some(length) if length > limit => return Err(TooLarge),
            Some(length) => length,
            None => limit,
        };
        let request = request.map(|body| Body::new(http_body_util::Limited::new(body, cap)));
        let request = match self.extractor_limit.call(request).into_inner() {
            Ok(request) => request,
            Err(never) => match never {},
        };
        Ok(self.route.call(request))
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
        let shared = self.shared.clone();
        let (request_id, echo) = RequestId::for_request(request.headers());
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str);
        let timeout = if route.ends_with("/imports") {
            shared.edge.import_timeout
        } else {
            shared.edge.timeout
        };
        let deadline = tokio::time::Instant::from_std(started) + timeout;
        let uncached_stats = shared.uncached_stats(route);
        let probe = is_probe(route);
        // The path is only kept if the access line will be written.
        let logged_path = access_line_enabled(probe).then(|| request.uri().clone());
        let is_asset = request.uri().path().starts_with("/assets/");
        let method = request.method().clone();
        let started_route = self.start(request);
        Box::pin(REQUEST_ID.scope(request_id, async move {
            let response = match started_route {
                Ok(future) => match Deadline::new(future, deadline).await {
                    Some(Ok(response)) => response,
                    Some(Err(never)) => match never {},
                    None => StatusCode::REQUEST_TIMEOUT.into_response(),
                },
                Err(TooLarge) => {
                    (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response()
                }
            };
            let mut response = normalise(response).await;
            add_security_headers(response.headers_mut(), shared.edge.tls, is_asset);
            let status = response.status().as_u16();
            let elapsed = started.elapsed();
            let stats = uncached_stats.as_deref().or_else(|| shared.stats.get().map(|s| &**s));
            if let Some(stats) = stats {
                stats.record(&method, status, elapsed);
            }
            if let Some(uri) = logged_path {
                let route = stats.map_or(UNMATCHED, RouteStats::route);
                let latency_ms = elapsed.as_secs_f64() * 1000.0;
                // Debug formatting escapes control characters in the path (log injection). The
                // request id is added by the log formatter, from REQUEST_ID.
                let path = uri.path();
                if probe {
                    tracing::debug!(method = %method, path = ?path, status, route, latency_ms, "request finished");
                } else {
                    tracing::info!(method = %method, path = ?path, status, route, latency_ms, "request finished");
                }
            }
            if let Some(value) = echo.or_else(|| request_id.header_value()) {
                response.headers_mut().insert(X_REQUEST_ID.clone(), value);
            }
            Ok(response)
        }))
    }
}
