//! The real server, started in-process on 127.0.0.1:0 against a test database.

use std::sync::Arc;

use latchkey_server::serve::{Listener, Running};
use latchkey_server::{App, Config};

use crate::db::TestDb;

/// A running server and a client for it.
pub struct TestServer {
    /// `http://127.0.0.1:PORT` (or https).
    pub base: String,
    /// The services, for arranging state directly.
    pub app: Arc<App>,
    /// An HTTP client (accepts the self-signed certificate of TLS tests).
    pub client: reqwest::Client,
    /// The database (kept alive for the test).
    pub db: TestDb,
    running: Option<Running>,
}

impl TestServer {
    /// Starts a server on `db` with the default configuration.
    pub async fn start(db: TestDb) -> anyhow::Result<Self> {
        Self::start_with(db, |_| {}).await
    }

    /// Starts a server on `db` after letting the test adjust the configuration.
    pub async fn start_with(db: TestDb, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: db.dir.path().to_path_buf(),
            ..Config::default()
        };
        adjust(&mut config);
        let listener = Listener::bind(&config)?;
        let store = db.open().await?;
        let mailer = latchkey_server::mail::Mailer::from_config(&config)?;
        let app = Arc::new(App::new(store, Arc::new(db.clock.clone())).with_mailer(mailer));
        let running = latchkey_server::serve::start(listener, &config, app.clone())?;
        let base = format!("{}://{}", running.scheme, running.local_addr);
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()?;
        Ok(Self {
            base,
            app,
            client,
            db,
            running: Some(running),
        })
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Shuts down gracefully (in-flight requests finish, the database closes).
    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }
}
