//! Postgres access for the Worker: connection, and migrations applied
//! automatically on first use in each isolate.
//!
//! Migrations are the `migrations/*.sql` files embedded at build time. They
//! run under `pg_advisory_lock(7411001)` (the same key `npm run migrate`
//! uses), each in its own transaction, and are recorded in
//! `schema_migrations`, so concurrent isolates and the CLI never apply one
//! twice. After the first success the isolate skips the check.

use crate::http::{ApiResult, OrInternal};
pub use durable_objects::pg::Client;
use std::cell::Cell;
use worker::Env;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Advisory-lock key shared with `scripts/stack.mjs migrate`.
pub const MIGRATION_LOCK_KEY: i64 = 7_411_001;

thread_local! {
    static MIGRATED: Cell<bool> = const { Cell::new(false) };
}

/// Connects, applying pending migrations first if this isolate has not yet.
pub async fn connect(env: &Env) -> ApiResult<Client> {
    let client = durable_objects::pg::connect(env)
        .await
        .or_internal("connect postgres")?;
    if !MIGRATED.with(Cell::get) {
        migrate(&client).await.or_internal("apply migrations")?;
        MIGRATED.with(|m| m.set(true));
    }
    Ok(client)
}

async fn migrate(client: &Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ( \
               version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let applied: Vec<String> = client
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if MIGRATIONS
        .iter()
        .all(|(v, _)| applied.iter().any(|a| a == v))
    {
        return Ok(());
    }
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = apply_pending(client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    result
}

async fn apply_pending(client: &Client) -> Result<(), tokio_postgres::Error> {
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
