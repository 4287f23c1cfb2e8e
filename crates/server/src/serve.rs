//! Running the server: bind the port, serve HTTP or HTTPS, run the periodic audit checkpoint job,
//! and shut down gracefully (in-flight requests finish, then the database closes cleanly).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::config::Config;
use crate::tls;

/// How long in-flight requests get to finish at shutdown.
const GRACE: Duration = Duration::from_secs(30);

/// A serve failure before the server is up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServeError(pub String);

/// A bound listening socket and TLS settings, prepared before the database is touched so that a
/// busy port or bad certificate changes nothing on disk.
#[derive(Debug)]
pub struct Listener {
    socket: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Listener {
    /// Loads TLS material and binds the configured address.
    pub fn bind(config: &Config) -> Result<Self, ServeError> {
        let tls = match (&config.tls.cert, &config.tls.key, config.tls.self_signed) {
            (Some(cert), Some(key), _) => {
                Some(tls::from_pem_files(cert, key).map_err(|e| ServeError(e.to_string()))?)
            }
            (_, _, true) => Some(tls::self_signed().map_err(|e| ServeError(e.to_string()))?),
            _ => None,
        };
        let socket = TcpListener::bind(config.listen).map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "another process is listening there: stop it or choose another address with --listen"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "ports below 1024 need privileges: choose a port above 1024 with --listen"
                }
                _ => "check the listen address",
            };
            ServeError(format!("cannot listen on {}: {e} ({hint})", config.listen))
        })?;
        socket
            .set_nonblocking(true)
            .map_err(|e| ServeError(format!("cannot configure the socket: {e}")))?;
        Ok(Self { socket, tls })
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.socket
            .local_addr()
            .map_err(|e| ServeError(format!("cannot read the bound address: {e}")))
    }
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub local_addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    handle: Handle,
    server: JoinHandle<std::io::Result<()>>,
    jobs: JoinHandle<()>,
    stop_jobs: watch::Sender<bool>,
    app: Arc<App>,
}

/// Starts serving on `listener`.
pub fn start(listener: Listener, config: &Config, app: Arc<App>) -> Result<Running, ServeError> {
    let local_addr = listener.local_addr()?;
    let router = crate::web::router(app.clone(), &config.http, listener.tls.is_some());
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let handle = Handle::new();
    let scheme = if listener.tls.is_some() {
        "https"
    } else {
        "http"
    };
    // Links in e-mails point at the public URL; without one, at the address we listen on.
    let _already_set = app.public_url.set(
        config
            .http
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{local_addr}")),
    );
    let server = match listener.tls {
        Some(tls) => {
            let server =
                axum_server::from_tcp_rustls(listener.socket, RustlsConfig::from_config(tls))
                    .handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
        None => {
            let server = axum_server::from_tcp(listener.socket).handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
    };
    let (stop_jobs, stopped) = watch::channel(false);
    let jobs = tokio::spawn(background_jobs(
        app.clone(),
        Duration::from_secs(config.audit.checkpoint_interval_secs),
        Duration::from_secs(config.mail.poll_interval_secs),
        stopped,
    ));
    Ok(Running {
        local_addr,
        scheme,
        handle,
        server,
        jobs,
        stop_jobs,
        app,
    })
}

/// The periodic jobs: a signed checkpoint on every audit chain at each checkpoint interval (and a
/// last one at shutdown), and a mail delivery pass at each mail interval.
async fn background_jobs(
    app: Arc<App>,
    checkpoint_every: Duration,
    mail_every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut checkpoints = tokio::time::interval(checkpoint_every);
    let mut mail = tokio::time::interval(mail_every);
    checkpoints.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    mail.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    checkpoints.tick().await;
    loop {
        tokio::select! {
            _ = checkpoints.tick() => checkpoint(&app).await,
            _ = mail.tick() => deliver_mail(&app).await,
            _ = stop.changed() => break,
        }
    }
    checkpoint(&app).await;
}

async fn deliver_mail(app: &App) {
    match app.deliver_due_mail().await {
        Ok(report) if report.sent + report.retrying + report.given_up > 0 => {
            tracing::info!(
                sent = report.sent,
                retrying = report.retrying,
                given_up = report.given_up,
                "mail delivery pass"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "mail delivery pass failed"),
    }
}

async fn checkpoint(app: &App) {
    match app.store.checkpoint_all(app.clock.now_ms()).await {
        Ok(n) => tracing::debug!(chains = n, "audit checkpoints written"),
        Err(e) => tracing::error!(error = %e, "audit checkpoint job failed"),
    }
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish (up to 30 s), stops the jobs
    /// and closes the database.
    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(GRACE));
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "server stopped with an error"),
            Err(e) => tracing::error!(error = %e, "server task failed"),
        }
        let _ = self.stop_jobs.send(true);
        let _ = self.jobs.await;
        self.app.store.close().await;
        tracing::info!("shut down cleanly");
    }
}

/// Resolves when SIGINT (Ctrl-C) or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
