//! Start-up: resolve the data directory, the master key and the database, in an order that
//! changes nothing on disk when anything is wrong. Used by `serve`, `migrate`, `db verify`,
//! `org …` and `audit …` alike.

use std::path::{Path, PathBuf};

use latchkey_domain::Clock;
use latchkey_store::{Backend, MasterKey, OpenMode, Opened, Store, StoreError, StoreUrl};

use crate::config::{Config, ConfigError};

/// A start-up failure: one message naming the problem and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Master key problem.
    #[error("{0}")]
    Key(String),
    /// Database problem.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// File system problem.
    #[error("{0}")]
    Io(String),
}

/// What start-up did, for the operator to read.
#[derive(Debug)]
pub struct StartReport {
    /// The database URL (password hidden).
    pub database: String,
    /// A new master key was created at this path on this start.
    pub created_master_key: Option<PathBuf>,
    /// Migrations applied on this start.
    pub applied_migrations: Vec<&'static str>,
}

/// Opens the store the configuration names. In `Migrate` mode a missing data directory, SQLite
/// file and master key are created (first start); in `Existing` mode nothing is created.
pub async fn open_store(
    config: &Config,
    clock: &dyn Clock,
    mode: OpenMode,
) -> Result<(Store, StartReport), StartError> {
    let url = StoreUrl::parse(&config.effective_database_url()?)?;
    let sqlite_exists = url
        .sqlite_path()
        .map(|p| crate::config::exists(Path::new(p)));
    if mode == OpenMode::Existing && sqlite_exists == Some(false) {
        return Err(StartError::Store(StoreError::Connect(format!(
            "{url}: no database file there; start `latchkey serve` once to create it, or check --data-dir / database_url"
        ))));
    }

    let mut created = Created::default();
    let result = open_with_key(config, clock, mode, &url, sqlite_exists, &mut created).await;
    if result.is_err() {
        created.undo();
    }
    let (opened, created_key) = result?;
    Ok((
        opened.store,
        StartReport {
            database: url.to_string(),
            created_master_key: created_key,
            applied_migrations: opened.applied,
        },
    ))
}

/// Files and directories made by this start, removed again if start-up fails.
#[derive(Default)]
struct Created {
    data_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
    sqlite_files: Vec<PathBuf>,
}

impl Created {
    fn undo(&self) {
        for file in self.sqlite_files.iter().chain(self.key_file.iter()) {
            let _ = std::fs::remove_file(file);
        }
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

async fn open_with_key(
    config: &Config,
    clock: &dyn Clock,
    mode: OpenMode,
    url: &StoreUrl,
    sqlite_exists: Option<bool>,
    created: &mut Created,
) -> Result<(Opened, Option<PathBuf>), StartError> {
    let key_path = config.master_key_path();
    let mut created_key = None;
    let master = if let Some(hex) = &config.master_key {
        MasterKey::from_hex(hex).map_err(|e| StartError::Key(format!("master_key: {e}")))?
    } else if crate::config::exists(&key_path) {
        MasterKey::load_file(&key_path).map_err(|e| {
            StartError::Key(format!(
                "{e}. Fix the file's permissions or contents, or point master_key_file at the right key"
            ))
        })?
    } else if mode == OpenMode::Migrate && sqlite_exists != Some(true) {
        // First start: no key and no SQLite file yet. (On PostgreSQL an existing database is
        // detected by the key check at open, and the fresh key file is removed again.)
        ensure_dir(&config.data_dir, created)?;
        if let Some(parent) = key_path.parent() {
            ensure_dir(parent, created)?;
        }
        let key = MasterKey::create_file(&key_path)
            .map_err(|e| StartError::Key(format!("cannot create the master key: {e}")))?;
        created.key_file = Some(key_path.clone());
        created_key = Some(key_path.clone());
        key
    } else {
        return Err(StartError::Key(format!(
            "master key file {} is missing but the database already exists: restore the key from \
             your key backup (or set master_key_file); a new key cannot read existing data",
            key_path.display()
        )));
    };

    if let (Backend::Sqlite, Some(false), Some(path)) =
        (url.backend(), sqlite_exists, url.sqlite_path())
    {
        let path = PathBuf::from(path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            ensure_dir(parent, created)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            created
                .sqlite_files
                .push(PathBuf::from(format!("{}{suffix}", path.display())));
        }
        // Create the file owner-only before SQLite opens it; SQLite gives its -wal and -shm
        // files the same mode.
        create_private_file(&path)?;
    }
    let opened = Store::open(url, &master, clock, mode).await?;
    Ok((opened, created_key))
}

fn create_private_file(path: &Path) -> Result<(), StartError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|e| {
        StartError::Io(format!(
            "cannot create database file {}: {e}",
            path.display()
        ))
    })
}

fn ensure_dir(dir: &Path, created: &mut Created) -> Result<(), StartError> {
    if crate::config::exists(dir) {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| StartError::Io(format!("cannot create directory {}: {e}", dir.display())))?;
    if created.data_dir.is_none() {
        created.data_dir = Some(dir.to_path_buf());
    }
    Ok(())
}
