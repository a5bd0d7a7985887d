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
//! Migrations: the Worker never applies them (`npm run migrate` does, the
//! one migrator). It only checks, on its first connection and again every
//! [`SCHEMA_TRUST_MS`], that `schema_migrations` records every
//! `migrations/*.sql` file it was built with (names embedded by build.rs);
//! when one is missing every store call answers [`StoreError::SchemaBehind`]
//! — a 503 naming the versions and the command — instead of running queries
//! against tables that are not there yet, and `/healthz` says so.

pub mod accounts;
pub mod analytics;
pub mod budgets;
pub mod funnel;
pub mod identities;
pub mod projects;
pub mod rules;
pub mod webhooks;

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

/// Deadline for opening a connection.
pub const CONNECT_DEADLINE_MS: u64 = 3_000;
/// Deadline for one statement (the schema check is one).
pub const QUERY_DEADLINE_MS: u64 = 5_000;
/// How long a schema found current is trusted before it is checked again
/// (one small query per isolate per interval). A schema found behind is
/// checked again on every connection, so `npm run migrate` takes effect
/// at once.
pub const SCHEMA_TRUST_MS: f64 = 15_000.0;

thread_local! {
    /// When this isolate last found the schema current (ms since the epoch; 0 = never).
    static SCHEMA_OK_AT: Cell<f64> = const { Cell::new(0.0) };
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
    /// The database lacks migrations this Worker was built with (their
    /// versions): an operator must run `npm run migrate`.
    SchemaBehind(Vec<String>),
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
            StoreError::SchemaBehind(v) => format!(
                "schema behind, pending migrations {}: run `{}`",
                v.join(", "),
                shared::schema::MIGRATE_COMMAND
            ),
        }
    }

    /// Logs the cause and returns the client-visible error.
    pub fn into_api(self, context: &str) -> ApiError {
        console_error!("postgres {context}: {}", self.describe());
        if let StoreError::SchemaBehind(pending) = &self {
            shared::schema::schema_behind(pending)
        } else if self.is_unavailable() {
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

/// Opens a connection (no schema check: `/healthz` reports the schema itself).
async fn open(env: &Env) -> Result<tokio_postgres::Client, StoreError> {
    within(
        "connect",
        CONNECT_DEADLINE_MS,
        durable_objects::pg::connect(env),
    )
    .await
}

/// Connects to a database whose schema has every migration this Worker
/// was built with, else [`StoreError::SchemaBehind`].
pub async fn connect(env: &Env) -> Result<Client, StoreError> {
    let inner = open(env).await?;
    let now = worker::Date::now().as_millis() as f64;
    if now - SCHEMA_OK_AT.with(Cell::get) >= SCHEMA_TRUST_MS {
        let pending = within(
            "schema check",
            QUERY_DEADLINE_MS,
            pending_migrations(&inner),
        )
        .await?;
        if !pending.is_empty() {
            return Err(StoreError::SchemaBehind(pending));
        }
        SCHEMA_OK_AT.with(|t| t.set(now));
    }
    Ok(Client { inner })
}

/// What `/healthz` reports of the database.
pub struct DbHealth {
    /// Migrations this Worker needs that the database lacks (empty: current).
    pub pending: Vec<String>,
}

/// Connects, answers `SELECT 1` and reads the recorded migrations, within
/// `ms` in all (for `/healthz`).
pub async fn ping(env: &Env, ms: u64) -> Result<DbHealth, StoreError> {
    within("ping", ms, async {
        let client = open(env).await?;
        let pending = pending_migrations(&client).await?;
        Ok::<_, StoreError>(DbHealth { pending })
    })
    .await
}

/// The newest migration this Worker was built with.
pub fn schema_version() -> &'static str {
    MIGRATIONS.last().copied().unwrap_or("")
}

/// The embedded migrations `schema_migrations` does not record (all of
/// them when the table does not exist yet).
async fn pending_migrations(
    client: &tokio_postgres::Client,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let present: bool = client
        .query_one(
            "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
            &[],
        )
        .await?
        .try_get("present")?;
    let applied: Vec<String> = if present {
        client
            .query("SELECT version FROM schema_migrations", &[])
            .await?
            .iter()
            .map(|r| r.try_get("version"))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    Ok(shared::schema::pending(MIGRATIONS, &applied)
        .into_iter()
        .map(str::to_string)
        .collect())
}
