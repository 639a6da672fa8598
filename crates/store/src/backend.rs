//! Opening the database and dispatching one query text to either backend.
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// File name of the SQLite database inside a data directory.
pub const SQLITE_FILE: &str = "abusedesk.sqlite3";

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long to wait for a lock (SQLite `busy_timeout`) or a pooled connection.
    pub busy_timeout: Duration,
    /// SQLite only: `synchronous = FULL` (fsync on every commit: survives power loss)
    /// instead of `NORMAL` (WAL: survives a crash of the process, the default).
    pub sqlite_sync_full: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            busy_timeout: Duration::from_secs(30),
            sqlite_sync_full: false,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the store. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    /// SQLite has one writer at a time. Writers of this process take turns here instead
    /// of colliding inside SQLite, whose busy handler sleeps in growing steps (up to
    /// 100 ms) when the lock is taken: under load that, not the disk, bounds throughput.
    /// Other processes (`ingest`, `token`) still meet `busy_timeout`.
    write_lock: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: the one connection this process writes through. SQLite empties a
    /// connection's page cache when another connection has changed the database, so
    /// writes spread over a pool would re-read every index page from the OS; on one
    /// connection the cache stays warm. Reads use the pool.
    pub(crate) sqlite_writer: Option<SqlitePool>,
}

/// This process's turn to write, from [`Store::write_turn`]. (On PostgreSQL it holds
/// nothing: concurrent writers meet row locks there.)
pub struct WriteTurn<'a>(#[allow(dead_code)] Option<tokio::sync::MutexGuard<'a, ()>>);

/// Run `$body` with `$pool` bound to the concrete pool of whichever backend is open.
/// The body is compiled once per backend, so query builders and row types are concrete.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite($pool) => $body,
            $crate::backend::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

/// [`dispatch!`] for code that writes (and holds [`Store::writer`]): on SQLite `$pool` is
/// the single writer connection.
macro_rules! dispatch_write {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite(read) => {
                let $pool = $store.sqlite_writer.as_ref().unwrap_or(read);
                $body
            }
            $crate::backend::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use dispatch_write;

impl Store {
    /// Open (creating if needed) and migrate the database at `url`:
    /// `sqlite:PATH` / `sqlite://PATH`, or `postgres://...` / `postgresql://...`.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl {
                url: redact_url(url),
                reason: e.to_string(),
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.busy_timeout)
                .connect_with(connect)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Ok(Store {
                pool: Pool::Postgres(pool),
                write_lock: None,
                sqlite_writer: None,
            })
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::InvalidUrl {
                    url: url.to_owned(),
                    reason: "no file name after sqlite:".into(),
                });
            }
            if path.starts_with(":memory:") || path.contains("mode=memory") {
                return Err(StoreError::InvalidUrl {
                    url: url.to_owned(),
                    reason:
                        "an in-memory database would lose every acknowledged report: name a file"
                            .into(),
                });
            }
            Self::open_sqlite(Path::new(path), options).await
        } else {
            Err(StoreError::InvalidUrl {
                url: redact_url(url),
                reason: "expected sqlite:PATH or postgres://...".into(),
            })
        }
    }

    /// Open the SQLite database in `dir` (created if missing).
    pub async fn open_data_dir(dir: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        Self::open_sqlite(&dir.join(SQLITE_FILE), options).await
    }

    async fn open_sqlite(path: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if options.sqlite_sync_full {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            // A page cache of 32 MiB (the default is 2 MiB) keeps the writer's indexes in
            // memory. (A connection drops its cache whenever another one has written, which
            // is why this process writes through one connection only.)
            .pragma("cache_size", "-32768")
            // Checkpoint the WAL every ~160 MiB instead of every ~4 MiB: pages written
            // again and again (index leaves, open cases) are copied into the database
            // once per checkpoint, not once per change (ingest: ~4,450 -> ~5,170
            // reports/s). The WAL file stays that large on disk; recovery after a crash
            // reads it once.
            .pragma("wal_autocheckpoint", "40000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.busy_timeout)
            .connect_with(connect.clone())
            .await?;
        SQLITE_MIGRATIONS.run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.saturating_sub(1).max(1))
            .acquire_timeout(options.busy_timeout)
            .connect_with(connect)
            .await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            write_lock: Some(Default::default()),
            sqlite_writer: Some(writer),
        })
    }

    /// Wait for this process's turn to write (SQLite only; PostgreSQL has row locks).
    pub(crate) async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Wait for this process's turn to write and hold it (see [`Store::accept_in_turn`]).
    /// Other writes of this process wait until the turn is dropped: hold it briefly.
    pub async fn write_turn(&self) -> WriteTurn<'_> {
        WriteTurn(self.writer().await)
    }

    /// Which database this store runs on.
    pub fn kind(&self) -> BackendKind {
        match self.pool {
            Pool::Sqlite(_) => BackendKind::Sqlite,
            Pool::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Check that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Close all connections (waits for them to be returned).
    pub async fn close(&self) {
        if let Some(writer) = &self.sqlite_writer {
            writer.close().await;
        }
        dispatch!(self, pool => pool.close().await)
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for error messages.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((cred, host)) = rest.rsplit_once('@')
    {
        let user = cred.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// Typed column access shared by both backends' rows.
pub(crate) trait Get {
    fn i64(&self, c: &str) -> Result<i64, sqlx::Error>;
    fn oi64(&self, c: &str) -> Result<Option<i64>, sqlx::Error>;
    fn string(&self, c: &str) -> Result<String, sqlx::Error>;
    fn ostring(&self, c: &str) -> Result<Option<String>, sqlx::Error>;
    fn bytes(&self, c: &str) -> Result<Vec<u8>, sqlx::Error>;
    fn boolean(&self, c: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! impl_get {
    ($row:ty) => {
        impl Get for $row {
            fn i64(&self, c: &str) -> Result<i64, sqlx::Error> {
                self.try_get(c)
            }
            fn oi64(&self, c: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(c)
            }
            fn string(&self, c: &str) -> Result<String, sqlx::Error> {
                self.try_get(c)
            }
            fn ostring(&self, c: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(c)
            }
            fn bytes(&self, c: &str) -> Result<Vec<u8>, sqlx::Error> {
                self.try_get(c)
            }
            fn boolean(&self, c: &str) -> Result<bool, sqlx::Error> {
                self.try_get(c)
            }
        }
    };
}
impl_get!(sqlx::sqlite::SqliteRow);
impl_get!(sqlx::postgres::PgRow);

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
