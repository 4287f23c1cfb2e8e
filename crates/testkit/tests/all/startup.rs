//! Start-up on bad input: each problem stops start-up with one message naming it and the fix,
//! and changes nothing on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use latchkey_domain::ManualClock;
use latchkey_server::config::{Config, ConfigSources, FlagOverrides};
use latchkey_server::serve::Listener;
use latchkey_server::startup::{StartError, open_store};
use latchkey_store::OpenMode;

fn clock() -> ManualClock {
    ManualClock::at(latchkey_testkit::db::TEST_EPOCH_MS)
}

fn config_in(dir: &Path) -> Config {
    Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    }
}

/// Every file under `dir` with its bytes, to prove nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    out
}

async fn first_start(config: &Config) {
    let (store, report) = open_store(config, &clock(), OpenMode::Migrate)
        .await
        .unwrap();
    assert!(report.created_master_key.is_some());
    store.close().await;
}

#[tokio::test]
async fn first_start_creates_private_data_dir_database_and_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_in(dir.path());
    let (store, report) = open_store(&config, &clock(), OpenMode::Migrate).await?;
    store.close().await;
    assert_eq!(
        report.created_master_key,
        Some(config.data_dir.join("master.key"))
    );
    assert_eq!(report.applied_migrations.first(), Some(&"initial"));
    assert_eq!(
        report.applied_migrations.len(),
        latchkey_store::known_versions().len()
    );
    use std::os::unix::fs::PermissionsExt;
    for path in [
        config.data_dir.clone(),
        config.data_dir.join("master.key"),
        config.data_dir.join("latchkey.db"),
    ] {
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(
            mode & 0o077,
            0,
            "{} is readable by others: {mode:o}",
            path.display()
        );
    }
    // The second start finds everything and creates nothing.
    let (store, report) = open_store(&config, &clock(), OpenMode::Migrate).await?;
    store.close().await;
    assert_eq!(report.created_master_key, None);
    assert!(report.applied_migrations.is_empty());
    Ok(())
}

#[tokio::test]
async fn wrong_master_key_stops_start_up_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_in(dir.path());
    first_start(&config).await;
    std::fs::write(config.data_dir.join("other.key"), "ab".repeat(32))?;
    let before = snapshot(dir.path());
    let wrong = Config {
        master_key_file: Some(config.data_dir.join("other.key")),
        ..config.clone()
    };
    let err = open_store(&wrong, &clock(), OpenMode::Migrate)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not match this database"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    Ok(())
}

#[tokio::test]
async fn unreadable_master_key_stops_start_up_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_in(dir.path());
    std::fs::create_dir_all(&config.data_dir)?;
    std::fs::write(config.data_dir.join("master.key"), "not a key\n")?;
    let before = snapshot(dir.path());
    let err = open_store(&config, &clock(), OpenMode::Migrate)
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::Key(_)), "{err}");
    assert!(err.to_string().contains("64 hexadecimal"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "no database was created");
    Ok(())
}

#[tokio::test]
async fn missing_key_for_an_existing_database_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_in(dir.path());
    first_start(&config).await;
    std::fs::remove_file(config.data_dir.join("master.key"))?;
    let before = snapshot(dir.path());
    let err = open_store(&config, &clock(), OpenMode::Migrate)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("restore the key"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "no new key was generated");
    Ok(())
}

#[tokio::test]
async fn unreachable_database_stops_start_up_and_leaves_no_data_dir() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Port 1 on loopback: nothing listens there.
    let config = Config {
        database_url: Some("postgres://latchkey:pw@127.0.0.1:1/latchkey".into()),
        ..config_in(dir.path())
    };
    let err = open_store(&config, &clock(), OpenMode::Migrate)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot open the database") && text.contains("PostgreSQL is running"),
        "{text}"
    );
    assert!(!text.contains(":pw@"), "password must be redacted: {text}");
    assert!(
        !config.data_dir.exists(),
        "the data dir made for the key was removed again"
    );
    Ok(())
}

#[tokio::test]
async fn unsupported_database_url_is_named() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = Config {
        database_url: Some("mysql://root:secret@localhost/x".into()),
        ..config_in(dir.path())
    };
    let err = open_store(&config, &clock(), OpenMode::Migrate)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sqlite://") && err.contains("postgres://") && !err.contains("secret"),
        "{err}"
    );
    assert!(!config.data_dir.exists());
    Ok(())
}

#[tokio::test]
async fn newer_schema_stops_start_up_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = config_in(dir.path());
    first_start(&config).await;
    let db = latchkey_store::StoreUrl::sqlite_file(&config.data_dir.join("latchkey.db"));
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&db.to_string()).await?;
        sqlx::query("INSERT INTO schema_migrations VALUES (999, 'future', 'x', 0)")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
    }
    let before = snapshot(dir.path());
    let err = open_store(&config, &clock(), OpenMode::Migrate)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schema is version 999") && err.contains("newer Latchkey"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    Ok(())
}

#[tokio::test]
async fn occupied_port_is_named_with_the_fix() -> anyhow::Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let config = Config {
        listen: taken.local_addr()?,
        ..Config::default()
    };
    let err = Listener::bind(&config).unwrap_err().to_string();
    assert!(
        err.contains("another process is listening") && err.contains("--listen"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn bad_tls_files_are_named() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
    )?;
    std::fs::write(&key, "garbage")?;
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        ..Config::default()
    };
    config.tls.cert = Some(cert.clone());
    config.tls.key = Some(key.clone());
    let err = Listener::bind(&config).unwrap_err().to_string();
    assert!(err.contains("TLS") && err.contains("cert.pem"), "{err}");

    config.tls.cert = Some(dir.path().join("missing.pem"));
    let err = Listener::bind(&config).unwrap_err().to_string();
    assert!(err.contains("missing.pem"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        2,
        "nothing was written"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_config_file_is_named() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("latchkey.toml");
    std::fs::write(&file, "listen = \n[http\n")?;
    let err = Config::load(&ConfigSources {
        file: Some(file),
        env: vec![],
        flags: FlagOverrides::default(),
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("latchkey.toml"), "{err}");
    Ok(())
}
