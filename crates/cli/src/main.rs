//! `latchkey` — the one binary: serve, config check, migrate, db verify, org, site, audit.
//! A thin layer over `latchkey-server`: it parses arguments, loads the configuration and prints.

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use latchkey_domain::tenancy::{NewOrganisation, Organisation};
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{Clock, OrgId, Scope, SystemClock};
use latchkey_server::config::LogFormat;
use latchkey_server::mail::Mailer;
use latchkey_server::serve::{Listener, shutdown_signal};
use latchkey_server::startup::open_store;
use latchkey_server::{Actor, App, Config, ConfigSources, FlagOverrides};
use latchkey_store::OpenMode;
use latchkey_store::repo::NewMail;

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey: digital keys and access control"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "LATCHKEY_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database, master key).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://path or postgres://user:password@host/db.
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the data directory, database and master key on first start).
    Serve(ServeArgs),
    /// Configuration commands.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Database commands.
    #[command(subcommand)]
    Db(DbCommand),
    /// Manage organisations (tenants) as the platform operator.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage an organisation's sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Audit log commands.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Mail commands.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Platform operator commands (local access to the host and the master key required).
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Benchmarks on a throw-away data directory and a loopback port (use a release build).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Sign-in throughput against the Argon2 bound, then concurrent wrong passwords against one
    /// account (lock episodes, peak memory).
    Login {
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        seconds: u64,
        /// Concurrent wrong-password attempts.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        storm: u64,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Issue a fresh one-time setup token (1 hour): creates an operator, or sets a new password
    /// for an existing operator's e-mail. Older unused tokens stop working.
    Recover,
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send a test message through the configured transport now, and report the outcome.
    Test {
        /// Recipient address.
        #[arg(long)]
        to: String,
    },
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on (plain HTTP only on loopback).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// PEM certificate chain for HTTPS.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate (evaluation only).
    #[arg(long)]
    tls_self_signed: bool,
    /// Log format.
    #[arg(long, value_parser = parse_log_format)]
    log_format: Option<LogFormat>,
}

fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    match text {
        "human" => Ok(LogFormat::Human),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("{other:?} is not a log format: use human or json")),
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective values (secrets redacted).
    Check(ServeArgs),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Check the database: integrity (SQLite), schema version and checksums, tables, row-level
    /// security (PostgreSQL).
    Verify,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Contract contact e-mail.
        #[arg(long)]
        contact_email: String,
        /// Seat limit (accounts allowed by the contract).
        #[arg(long)]
        seats: i64,
    },
    /// List organisations.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one organisation.
    Show {
        /// Organisation id.
        id: OrgId,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Suspend an organisation (data kept, changes refused).
    Suspend {
        /// Organisation id.
        id: OrgId,
    },
    /// Resume a suspended organisation.
    Resume {
        /// Organisation id.
        id: OrgId,
    },
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Add a site to an organisation.
    Create {
        /// Organisation id.
        #[arg(long)]
        org: OrgId,
        /// Display name.
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. Asia/Tokyo.
        #[arg(long)]
        time_zone: String,
    },
    /// List an organisation's sites.
    List {
        /// Organisation id.
        #[arg(long)]
        org: OrgId,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify hash chains and signed checkpoints; reports OK or the first bad sequence number.
    Verify {
        /// Only this organisation's chain (default: every chain).
        #[arg(long, conflicts_with = "platform")]
        org: Option<OrgId>,
        /// Only the platform chain.
        #[arg(long)]
        platform: bool,
    },
    /// Write a signed checkpoint on every chain now.
    Checkpoint,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Config> {
    let sources = ConfigSources {
        file: common.config.clone(),
        env: std::env::vars().collect(),
        flags: FlagOverrides {
            data_dir: common.data_dir.clone(),
            listen: serve.listen,
            database_url: common.database_url.clone(),
            log_format: serve.log_format,
            tls_cert: serve.tls_cert.clone(),
            tls_key: serve.tls_key.clone(),
            tls_self_signed: serve.tls_self_signed.then_some(true),
        },
    };
    Ok(Config::load(&sources)?)
}

async fn open_app(config: &Config, mode: OpenMode) -> anyhow::Result<App> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mailer = Mailer::from_config(config)?;
    let (store, report) = open_store(config, clock.as_ref(), mode).await?;
    announce_new_key(&report.created_master_key);
    Ok(App::new(store, clock).with_mailer(mailer))
}

fn announce_new_key(created: &Option<PathBuf>) {
    if let Some(path) = created {
        eprintln!(
            "\n*** A new master key was created at {} (mode 0600).\n\
             *** BACK IT UP NOW, and keep the copy SEPARATE from the data directory and its backups:\n\
             *** without the key the encrypted data cannot be read; with both, anyone can read it.\n",
            path.display()
        );
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let no_flags = ServeArgs::default();
    match cli.command {
        Command::Serve(args) => serve(&cli.common, &args).await,
        Command::Config(ConfigCommand::Check(args)) => {
            let config = load_config(&cli.common, &args)?;
            print!("{}", config.redacted_toml());
            eprintln!("configuration OK");
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = load_config(&cli.common, &no_flags)?;
            let app = open_app(&config, OpenMode::Migrate).await?;
            println!(
                "database is at schema version {}",
                latchkey_store::latest_version()
            );
            app.store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Db(DbCommand::Verify) => {
            let config = load_config(&cli.common, &no_flags)?;
            let app = open_app(&config, OpenMode::Existing).await?;
            let report = app.store.verify().await?;
            app.store.close().await;
            println!(
                "backend {}, schema version {}",
                report.backend.as_str(),
                report.schema_version
            );
            if report.problems.is_empty() {
                println!("OK");
                Ok(ExitCode::SUCCESS)
            } else {
                for problem in &report.problems {
                    println!("PROBLEM: {problem}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Org(command) => {
            let config = load_config(&cli.common, &no_flags)?;
            let app = open_app(&config, OpenMode::Existing).await?;
            let result = org(&app, command).await;
            app.store.close().await;
            result
        }
        Command::Site(command) => {
            let config = load_config(&cli.common, &no_flags)?;
            let app = open_app(&config, OpenMode::Existing).await?;
            let result = site(&app, command).await;
            app.store.close().await;
            result
        }
        Command::Mail(MailCommand::Test { to }) => {
            let config = load_config(&cli.common, &no_flags)?;
            let to = latchkey_domain::tenancy::parse_email("to", &to)?;
            let app = open_app(&config, OpenMode::Existing).await?;
            let result = mail_test(&app, to).await;
            app.store.close().await;
            result
        }
        Command::Operator(OperatorCommand::Recover) => {
            let config = load_config(&cli.common, &no_flags)?;
            let app = open_app(&config, OpenMode::Existing).await?;
            let result = app.issue_operator_setup(&Actor::operator_cli()).await;
            app.store.close().await;
            let base = config
                .http
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.listen));
            print_operator_setup(&base, &result?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Login { seconds, storm }) => {
            bench::LoginBench {
                seconds,
                storm: usize::try_from(storm)?,
            }
            .run()
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(command) => {
            let config = load_config(&cli.common, &no_flags)?;
            let app = open_app(&config, OpenMode::Existing).await?;
            let result = audit(&app, command).await;
            app.store.close().await;
            result
        }
    }
}

async fn serve(common: &CommonArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(common, args)?;
    latchkey_server::logging::init(&config.log);
    // Bind (and load TLS) before touching the database: a busy port or a bad certificate must
    // not leave a half-initialised data directory behind.
    let listener = Listener::bind(&config)?;
    let started = std::time::Instant::now();
    let app = Arc::new(open_app(&config, OpenMode::Migrate).await?);
    let setup_token = app.issue_operator_setup_if_needed().await?;
    let running = latchkey_server::serve::start(listener, &config, app.clone())?;
    let url = format!("{}://{}", running.scheme, running.local_addr);
    if let Some(token) = setup_token {
        print_operator_setup(&app.link(""), &token);
    }
    tracing::info!(
        url = %url,
        startup_ms = started.elapsed().as_millis() as u64,
        data_dir = ?config.data_dir,
        "latchkey is ready"
    );
    eprintln!(
        "Latchkey {} is ready at {url}/ (Ctrl-C to stop)",
        env!("CARGO_PKG_VERSION")
    );
    shutdown_signal().await;
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Tells the operator how to spend a setup token: the console page, or the API call.
fn print_operator_setup(base_url: &str, token: &str) {
    eprintln!(
        "\nNo operator account yet (or recovery requested). Within 1 hour, open this link once:\n\n  \
         {base_url}/setup/{token}\n\n\
         It sets the operator's e-mail, name and password, then two-step verification. From a script:\n\n  \
         curl -X POST {base_url}/api/v1/auth/operator-setup -H 'content-type: application/json' \\\n    \
         -d '{{\"token\":\"{token}\",\"email\":\"you@example.com\",\"name\":\"Your Name\",\"password\":\"at least 12 characters\"}}'\n\n\
         The token works once. `latchkey operator recover` issues a new one.\n"
    );
}

fn print_org(org: &Organisation) {
    println!("id:            {}", org.id);
    println!("name:          {}", org.name);
    println!("status:        {}", org.status.as_str());
    if let Some(at) = org.status.terminated_at_ms() {
        println!("terminated at: {}", rfc3339_utc(at));
    }
    println!("seat limit:    {}", org.contract.seat_limit);
    println!("contact:       {}", org.contract.contact_email);
    println!("created at:    {}", rfc3339_utc(org.created_at_ms));
}

async fn org(app: &App, command: OrgCommand) -> anyhow::Result<ExitCode> {
    let actor = Actor::operator_cli();
    match command {
        OrgCommand::Create {
            name,
            contact_email,
            seats,
        } => {
            let input = NewOrganisation::parse(&name, &contact_email, seats)?;
            let org = app.create_organisation(&actor, input).await?;
            print_org(&org);
        }
        OrgCommand::List { json } => {
            let orgs = app.list_organisations().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&orgs)?);
            } else if orgs.is_empty() {
                println!("no organisations yet: create one with `latchkey org create`");
            } else {
                println!("{:<36}  {:<10}  {:>6}  name", "id", "status", "seats");
                for o in orgs {
                    println!(
                        "{:<36}  {:<10}  {:>6}  {}",
                        o.id.to_string(),
                        o.status.as_str(),
                        o.contract.seat_limit,
                        o.name
                    );
                }
            }
        }
        OrgCommand::Show { id, json } => {
            let org = app.organisation(id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&org)?);
            } else {
                print_org(&org);
            }
        }
        OrgCommand::Suspend { id } => {
            let org = app.suspend_organisation(&actor, id).await?;
            println!("organisation {} is now {}", org.id, org.status.as_str());
        }
        OrgCommand::Resume { id } => {
            let org = app.resume_organisation(&actor, id).await?;
            println!("organisation {} is now {}", org.id, org.status.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn site(app: &App, command: SiteCommand) -> anyhow::Result<ExitCode> {
    match command {
        SiteCommand::Create {
            org,
            name,
            time_zone,
        } => {
            let site = app
                .create_site(&Actor::operator_cli(), org, &name, &time_zone)
                .await?;
            println!(
                "site {} created ({}, {})",
                site.id, site.name, site.time_zone
            );
        }
        SiteCommand::List { org } => {
            for s in app.list_sites(org).await? {
                println!("{}  {:<20}  {}", s.id, s.time_zone, s.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit(app: &App, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Checkpoint => {
            let n = app.store.checkpoint_all(app.clock.now_ms()).await?;
            println!("checkpoints written or confirmed on {n} chain(s)");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { org, platform } => {
            let chains = match (org, platform) {
                (Some(id), _) => {
                    app.organisation(id).await.context("unknown organisation")?;
                    vec![Scope::Tenant(id)]
                }
                (None, true) => vec![Scope::Platform],
                (None, false) => app.store.scopes().await?,
            };
            println!(
                "audit signing key (ed25519): {}",
                hex_key(app.store.keyring().audit_verifying_key().as_bytes())
            );
            let mut all_ok = true;
            for chain in chains {
                let verdict = app.store.verify_audit_chain(chain).await?;
                match verdict.first_bad {
                    None => println!("{chain}: OK ({} events)", verdict.events),
                    Some((seq, why)) => {
                        all_ok = false;
                        println!("{chain}: FAILED at seq {seq} ({why:?})");
                    }
                }
            }
            Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn mail_test(app: &App, to: String) -> anyhow::Result<ExitCode> {
    let mail = NewMail {
        kind: "test".into(),
        to,
        subject: "Latchkey test message".into(),
        body: format!(
            "This is a test message from Latchkey, sent at {}.\nIf you can read it, mail delivery works.\n",
            rfc3339_utc(app.clock.now_ms())
        ),
    };
    app.enqueue_mail(latchkey_domain::Scope::Platform, mail)
        .await?;
    let report = app.deliver_due_mail().await?;
    println!(
        "sent {}, will retry {}, given up {} (other due mail in the outbox was delivered too)",
        report.sent, report.retrying, report.given_up
    );
    Ok(if report.retrying + report.given_up == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn hex_key(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
