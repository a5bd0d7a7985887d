//! The Worker's only door to Postgres: connection, deadlines, migrations,
//! and the error that says whether the database failed or the query did.
//!
//! Invariant: no Postgres call outlives its deadline. Connecting (socket,
//! startup, and the first-use migration check) gets [`CONNECT_DEADLINE_MS`],
//! every statement [`QUERY_DEADLINE_MS`]; a call past its deadline is
//! dropped and answers [`StoreError::Timeout`]. A hung database (connections
//! accepted, never answered) therefore costs a caller at most
//! connect + one query deadline, never a hang.
//!
//! Failure policy (docs/guarantees.md): a timeout or a connection failure is
//! [`StoreError::Unavailable`]-like and becomes `503 service_unavailable`
//! for the owner API; the proxy instead serves the project's last known
//! configuration (`project_cache`, stale-if-error). An error the server
//! itself reports (a constraint, bad SQL) or a row that cannot be mapped is
//! a bug: `500 internal_error`. Causes are logged, never sent (they may
//! carry SQL).
//!
//! Migrations are the `migrations/*.sql` files embedded at build time. They
//! run under `pg_advisory_lock(7411001)` (the same key and the same order
//! as `npm run migrate`: lock, create `schema_migrations`, each pending file
//! in its own transaction with its record), so concurrent isolates and the
//! CLI never apply one twice. After the first success the isolate skips the
//! check.

pub mod accounts;
pub mod analytics;
pub mod budgets;
pub mod funnel;
pub mod identities;
pub mod projects;
pub mod rules;

use crate::http::ApiResult;
use futures_util::future::{select, Either};
use shared::ApiError;
use std::cell::Cell;
use std::future::Future;
use std::time::Duration;
use tokio_postgres::types::ToSql;
pub use tokio_postgres::Row;
use worker::{console_error, Delay, Env};

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Advisory-lock key shared with `scripts/stack.mjs migrate`.
pub const MIGRATION_LOCK_KEY: i64 = 7_411_001;

/// Deadline for opening a connection (and the first-use migration check).
pub const CONNECT_DEADLINE_MS: u64 = 3_000;
/// Deadline for one statement.
pub const QUERY_DEADLINE_MS: u64 = 5_000;
/// Deadline for applying pending migrations (first use only).
const MIGRATE_DEADLINE_MS: u64 = 20_000;

thread_local! {
    static MIGRATED: Cell<bool> = const { Cell::new(false) };
}

/// Why a store call failed. Deliberately not `Display`: callers turn it
/// into an `ApiError` with [`OrStore::or_store`], never with `or_internal`
/// (which would make a database outage a 500).
#[derive(Debug)]
pub enum StoreError {
    /// No answer within the deadline (what: connect, query, migrate).
    Timeout(&'static str),
    /// The database could not be reached or the connection broke.
    Unreachable(String),
    /// The server refused the statement, or a row did not map: a bug.
    Failed(String),
}

impl StoreError {
    /// True when the database is slow or down (not a bug in a query).
    pub fn is_unavailable(&self) -> bool {
        !matches!(self, StoreError::Failed(_))
    }

    fn describe(&self) -> String {
        match self {
            StoreError::Timeout(what) => format!("{what}: no answer within the deadline"),
            StoreError::Unreachable(e) => format!("unreachable: {e}"),
            StoreError::Failed(e) => format!("failed: {e}"),
        }
    }

    /// Logs the cause and returns the client-visible error.
    pub fn into_api(self, context: &str) -> ApiError {
        console_error!("postgres {context}: {}", self.describe());
        if self.is_unavailable() {
            ApiError::service_unavailable()
        } else {
            ApiError::internal()
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.as_db_error().is_some() {
            StoreError::Failed(e.to_string())
        } else {
            StoreError::Unreachable(e.to_string())
        }
    }
}

/// `Result<T, StoreError>` → `ApiResult<T>`: 503 for an outage, 500 for a bug.
pub trait OrStore<T> {
    fn or_store(self, context: &str) -> ApiResult<T>;
}

impl<T> OrStore<T> for Result<T, StoreError> {
    fn or_store(self, context: &str) -> ApiResult<T> {
        self.map_err(|e| e.into_api(context))
    }
}

/// Runs `fut` until it completes or `ms` pass, whichever is first.
pub async fn within<T, E: Into<StoreError>>(
    what: &'static str,
    ms: u64,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, StoreError> {
    let fut = std::pin::pin!(fut);
    let delay = std::pin::pin!(Delay::from(Duration::from_millis(ms)));
    match select(fut, delay).await {
        Either::Left((result, _)) => result.map_err(Into::into),
        Either::Right(_) => Err(StoreError::Timeout(what)),
    }
}

impl From<worker::Error> for StoreError {
    fn from(e: worker::Error) -> Self {
        StoreError::Unreachable(e.to_string())
    }
}

/// A connection whose every statement runs under [`QUERY_DEADLINE_MS`].
pub struct Client {
    inner: tokio_postgres::Client,
}

impl Client {
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        within("query", QUERY_DEADLINE_MS, self.inner.query(sql, params)).await
    }

    pub async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        within(
            "query",
            QUERY_DEADLINE_MS,
            self.inner.query_opt(sql, params),
        )
        .await
    }

    pub async fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        within(
            "query",
            QUERY_DEADLINE_MS,
            self.inner.query_one(sql, params),
        )
        .await
    }

    pub async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        within("query", QUERY_DEADLINE_MS, self.inner.execute(sql, params)).await
    }

    pub async fn batch_execute(&self, sql: &str) -> Result<(), StoreError> {
        within("query", QUERY_DEADLINE_MS, self.inner.batch_execute(sql)).await
    }

    /// Runs `sql` in a transaction that first takes the advisory lock of
    /// `key`, so callers with the same key run one after the other and each
    /// sees what the one before committed (a count-then-insert cannot race).
    /// True when `sql` returned a row.
    pub async fn serialised_by(
        &mut self,
        key: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<bool, StoreError> {
        within("query", QUERY_DEADLINE_MS, async {
            let tx = self.inner.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 7411002))",
                &[&key],
            )
            .await?;
            let row = tx.query_opt(sql, params).await?;
            tx.commit().await?;
            Ok::<_, tokio_postgres::Error>(row.is_some())
        })
        .await
    }
}

/// A column by name; a missing column or a wrong type is a bug (500), never
/// a panic.
pub fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    name: &str,
) -> Result<T, StoreError> {
    row.try_get(name)
        .map_err(|e| StoreError::Failed(format!("column {name}: {e}")))
}

/// Connects, applying pending migrations first if this isolate has not yet.
pub async fn connect(env: &Env) -> Result<Client, StoreError> {
    let inner = within(
        "connect",
        CONNECT_DEADLINE_MS,
        durable_objects::pg::connect(env),
    )
    .await?;
    if !MIGRATED.with(Cell::get) {
        within("migrate", MIGRATE_DEADLINE_MS, migrate(&inner)).await?;
        MIGRATED.with(|m| m.set(true));
    }
    Ok(Client { inner })
}

/// Connects and answers `SELECT 1` within `ms` in all (for `/healthz`).
pub async fn ping(env: &Env, ms: u64) -> Result<(), StoreError> {
    within("ping", ms, async {
        let client = connect(env).await?;
        client.query_one("SELECT 1", &[]).await?;
        Ok::<(), StoreError>(())
    })
    .await
}

async fn migrate(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    // Fast path, no lock: every embedded migration is recorded already.
    let present: bool = client
        .query_one(
            "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
            &[],
        )
        .await?
        .try_get("present")?;
    if present {
        let applied: Vec<String> = client
            .query("SELECT version FROM schema_migrations", &[])
            .await?
            .iter()
            .filter_map(|r| r.try_get("version").ok())
            .collect();
        if MIGRATIONS
            .iter()
            .all(|(v, _)| applied.iter().any(|a| a == v))
        {
            return Ok(());
        }
    }
    // The same order as `scripts/stack.mjs migrate`: lock, create the
    // bookkeeping table, then each pending file in its own transaction with
    // its record (two first uses racing never both create the table).
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ( \
                   version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .await?;
        apply_pending(client).await
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    result
}

async fn apply_pending(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    for (version, sql) in MIGRATIONS {
        let done = client
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?
            .is_some();
        if done {
            continue;
        }
        let batch = format!(
            "BEGIN; {sql}\n; INSERT INTO schema_migrations (version) VALUES ('{}'); COMMIT;",
            version.replace('\'', "''")
        );
        if let Err(e) = client.batch_execute(&batch).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    }
    Ok(())
}
