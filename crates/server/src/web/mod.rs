//! The HTTP surface: REST API, console, health and metrics, with the cross-cutting layers.

pub mod account;
pub mod api;
pub mod auth;
pub mod directory;
pub mod grants;
pub mod health;
pub mod imports;
pub mod metrics;
pub mod middleware;
pub mod orgs;
pub mod problem;
pub mod request_id;
pub mod security_headers;
pub mod session;
pub mod settings;
mod timeout;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::app::App;
use crate::config::HttpConfig;
use metrics::Metrics;

/// What handlers share. axum clones the state for every request (more than once per request),
/// so it is one reference count to bump, not one per field.
#[derive(Debug, Clone)]
pub struct WebState(Arc<Shared>);

/// The fields of [`WebState`], reached through `Deref` (`state.app`, `state.tls`).
#[derive(Debug)]
pub struct Shared {
    /// The services.
    pub app: Arc<App>,
    /// This server's metrics.
    pub metrics: Arc<Metrics>,
    /// Served over TLS (decides the session cookie's name and `Secure`).
    pub tls: bool,
}

impl std::ops::Deref for WebState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Builds the whole router. Every route (and the fallback) sits behind the edge: request id,
/// timeout, body limit, problem+json for every error, security headers, metrics, access log.
pub fn router(app: Arc<App>, http: &HttpConfig, tls: bool) -> Router {
    let metrics = Arc::new(Metrics::default());
    let state = WebState(Arc::new(Shared {
        app,
        metrics: metrics.clone(),
        tls,
    }));
    let body_limit = usize::try_from(http.body_limit_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(api::routes())
        .merge(crate::console::routes())
        .fallback(crate::console::not_found)
        .with_state(state)
        .layer(middleware::EdgeLayer::new(middleware::Edge {
            metrics,
            tls,
            timeout: Duration::from_secs(http.request_timeout_secs),
            import_timeout: Duration::from_secs(http.import_timeout_secs),
            body_limit,
        }))
}
