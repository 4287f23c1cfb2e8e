//! `latchkey bench login`: sign-in throughput of the real server against the bound set by
//! Argon2 (what the machine's cores can hash), measured in the same run; then a storm of
//! concurrent wrong passwords against one account, reporting lock episodes and peak memory.
//!
//! Everything runs in this process on a throw-away SQLite data directory and a loopback port;
//! the HTTP client is a minimal HTTP/1.1 writer so the numbers are not a client library's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use latchkey_domain::{Clock, Scope, SystemClock};
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::serve::{Listener, start};
use latchkey_server::startup::open_store;
use latchkey_server::{Actor, App, Config};
use latchkey_store::OpenMode;
use latchkey_store::repo::AuditRepo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PASSWORD: &str = "violet-harbour-lantern-9";

/// Parameters of `latchkey bench login`.
pub struct LoginBench {
    /// Seconds per measured phase.
    pub seconds: u64,
    /// Concurrent wrong-password attempts in the storm.
    pub storm: usize,
}

/// One `POST /api/v1/auth/login`; returns the HTTP status.
async fn post_login(addr: SocketAddr, email: &str, password: &str) -> anyhow::Result<u16> {
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let head = String::from_utf8_lossy(response.get(..12).unwrap_or_default()).into_owned();
    head.get(9..12)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP response: {head:?}"))
}

/// A keep-alive HTTP/1.1 connection that signs in again and again, the way a pool of clients
/// behind a proxy would: the benchmark measures sign-ins, not TCP handshakes.
struct Connection {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
    addr: SocketAddr,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        Ok(Self {
            stream: tokio::io::BufReader::new(tokio::net::TcpStream::connect(addr).await?),
            addr,
        })
    }

    /// One `POST /api/v1/auth/login` on this connection; returns the HTTP status.
    async fn post_login(&mut self, email: &str, password: &str) -> anyhow::Result<u16> {
        use tokio::io::AsyncBufReadExt as _;
        let body = serde_json::json!({ "email": email, "password": password }).to_string();
        let request = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("not an HTTP status line: {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await?;
        Ok(status)
    }
}

/// Peak and current resident memory of this process, KiB (Linux `/proc/self/status`).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

async fn account(app: &App, email: &str) -> anyhow::Result<()> {
    app.create_account(
        &Actor::operator_cli(),
        NewAccount {
            email,
            name: "Bench Account",
            password: PASSWORD,
            is_operator: false,
        },
    )
    .await?;
    Ok(())
}

/// Runs `task` on `workers` concurrent loops for `seconds`; returns completed operations per second.
async fn throughput<F, Fut>(workers: usize, seconds: u64, task: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<bool>> + Send,
{
    let task = Arc::new(task);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (task, done) = (task.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if task().await? {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

impl LoginBench {
    /// Runs the benchmark and prints its report.
    pub async fn run(&self) -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("latchkey-bench-{}", uuid::Uuid::now_v7()));
        let result = self.run_in(&dir).await;
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("note: could not remove {}: {e}", dir.display());
        }
        result
    }

    async fn run_in(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let config = Config {
            data_dir: dir.to_path_buf(),
            listen: "127.0.0.1:0".parse()?,
            ..Config::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let (store, _) = open_store(&config, clock.as_ref(), OpenMode::Migrate).await?;
        let app = Arc::new(App::new(store, clock));
        account(&app, "load@example.com").await?;
        account(&app, "target@example.com").await?;
        let hash = {
            let mut tx = app.store.write().await?;
            latchkey_store::repo::AccountRepo::account_by_email_for_update(
                &mut tx,
                "load@example.com",
            )
            .await?
            .and_then(|a| a.password_hash)
            .context("bench account has no hash")?
        };
        eprintln!(
            "{} cores; {} s per phase; Argon2id {:?}",
            cores,
            self.seconds,
            app.hasher.params()
        );

        // Baseline: password verifications per second with every core busy, through the same
        // hasher (blocking threads behind its semaphore) that sign-in uses.
        eprintln!("measuring the Argon2 bound…");
        let hasher = app.hasher.clone();
        let bound = throughput(cores * 2, self.seconds, move || {
            let (hasher, hash) = (hasher.clone(), hash.clone());
            async move { Ok(hasher.verify(PASSWORD, Some(&hash)).await) }
        })
        .await?;

        let listener = Listener::bind(&config)?;
        let running = start(listener, &config, app.clone())?;
        let addr = running.local_addr;
        eprintln!("measuring sign-in throughput over HTTP at {addr}…");
        let logins = {
            let done = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let deadline = started + Duration::from_secs(self.seconds);
            let mut workers = Vec::new();
            for _ in 0..cores * 4 {
                let done = done.clone();
                workers.push(tokio::spawn(async move {
                    let mut connection = Connection::open(addr).await?;
                    while Instant::now() < deadline {
                        if connection.post_login("load@example.com", PASSWORD).await? == 200 {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    anyhow::Ok(())
                }));
            }
            for worker in workers {
                worker.await??;
            }
            done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
        };

        eprintln!(
            "{} concurrent wrong passwords against one account…",
            self.storm
        );
        let (_, rss_before) = memory_kib();
        let mut storm = Vec::new();
        for i in 0..self.storm {
            storm.push(tokio::spawn(async move {
                post_login(addr, "target@example.com", &format!("wrong-password-{i}")).await
            }));
        }
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        for attempt in storm {
            *statuses.entry(attempt.await??).or_default() += 1;
        }
        let (peak, rss_after) = memory_kib();
        let locks = {
            let mut tx = app.store.read().await?;
            tx.audit_events(Scope::Platform, 0, 100_000)
                .await?
                .into_iter()
                .filter(|e| e.action == "authn_login_lock")
                .count()
        };
        running.shutdown().await;

        println!("sign-in benchmark (release build recommended; loopback only)");
        println!("  Argon2 bound (verifications/s, all cores) {bound:>10.1}");
        println!("  sign-ins/s over HTTP                      {logins:>10.1}");
        println!(
            "  ratio (bar >= 0.9)                        {:>10.2}",
            logins / bound
        );
        println!(
            "  storm: {} attempts -> statuses {statuses:?}, lock episodes {locks}",
            self.storm
        );
        println!(
            "  memory: RSS {} MiB before the storm, {} MiB after; process peak {} MiB",
            rss_before / 1024,
            rss_after / 1024,
            peak / 1024
        );
        Ok(())
    }
}
