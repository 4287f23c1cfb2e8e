//! The application services' shared state and error type. A service method is one command:
//! validate with `latchkey-domain`, read and write through `latchkey-store` in ONE transaction,
//! and append the audit event in that same transaction.

use std::sync::{Arc, OnceLock};

use latchkey_domain::{Clock, DomainError, ErrorCode};
use latchkey_store::{Store, StoreError};

use crate::identity::throttle::LoginThrottle;
use crate::identity::{HashParams, PasswordHasher};
use crate::mail::Mailer;

/// The services' dependencies.
#[derive(Debug, Clone)]
pub struct App {
    /// The store.
    pub store: Store,
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// Sends mail from the outbox; `None` leaves mail queued (CLI commands that send none).
    pub mailer: Option<Arc<Mailer>>,
    /// Hashes and verifies passwords off the async threads.
    pub hasher: Arc<PasswordHasher>,
    /// The console's origin for links in e-mails (`http.public_url`, else the listen address);
    /// set once when the server starts.
    pub public_url: OnceLock<String>,
    /// The per-IP throttle on failed sign-ins (research §2.2 L0), shared by every entry point.
    pub throttle: Arc<LoginThrottle>,
    /// Each organisation's access decision model, reloaded when its access version moves.
    pub access_models: Arc<crate::access::model_cache::AccessModels>,
}

impl App {
    /// Builds the services over an open store.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            mailer: None,
            // One concurrent hash per core (at most 16): more would only queue on the CPU while
            // each holds its 19 MiB, and fewer would leave cores idle under a sign-in burst.
            hasher: Arc::new(PasswordHasher::new(
                HashParams::default(),
                std::thread::available_parallelism().map_or(2, |n| n.get().min(16)),
            )),
            public_url: OnceLock::new(),
            throttle: Arc::new(LoginThrottle::default()),
            access_models: Arc::default(),
        }
    }

    /// An absolute link to `path` on the console, for e-mails.
    pub fn link(&self, path: &str) -> String {
        let origin = self
            .public_url
            .get()
            .map_or("http://127.0.0.1:8080", String::as_str);
        format!("{origin}{path}")
    }

    /// Adds the mailer that delivers the outbox.
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }
}

/// Who is acting and from where: recorded in every audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `operator:cli`, `user:<id>`, `system`.
    pub id: String,
    /// Client IP for network requests.
    pub source_ip: Option<String>,
    /// Request id for network requests.
    pub request_id: Option<String>,
}

impl Actor {
    /// The platform operator acting through the local CLI (which needs file access to the data
    /// directory and master key, so it is as trusted as the host).
    pub fn operator_cli() -> Self {
        Self {
            id: "operator:cli".into(),
            source_ip: None,
            request_id: None,
        }
    }

    /// A background job of the server itself.
    pub fn system() -> Self {
        Self {
            id: "system".into(),
            source_ip: None,
            request_id: None,
        }
    }
}

/// A service failure: a rule the caller broke, or a store failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request breaks a rule; tell the caller.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Storage failed; log it, tell the caller only the code.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ServiceError::Domain(d),
            other => ServiceError::Store(other),
        }
    }
}

impl ServiceError {
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Domain(d) => d.code,
            ServiceError::Store(StoreError::Connect(_)) => ErrorCode::Unavailable,
            ServiceError::Store(_) => ErrorCode::Internal,
        }
    }
}
