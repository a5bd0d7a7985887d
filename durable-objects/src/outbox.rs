//! A durable queue of analytics events in an object's SQLite storage
//! (table `outbox`), and the back-off of the object that drains it.
//!
//! An event is stored once per id (a repeated id changes nothing) and
//! leaves the queue only when its consumer is done with it: the identity's
//! object hands its events to the project's relay ([`crate::relay`]), the
//! relay writes them to Postgres. A row that no longer parses is reported
//! apart, so the caller can drop it instead of retrying it forever.

use crate::MAX_BOUND_VALUES;
use shared::limiter_api::AnalyticsEvent;
use worker::{Result, SqlStorage, SqlStorageValue};

/// Creates the table (part of an object's schema statement).
pub const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS outbox (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL)";

#[derive(serde::Deserialize)]
struct Row {
    event_id: String,
    payload: String,
}

/// The oldest events, and the ids of rows that no longer parse.
pub struct Batch {
    pub events: Vec<AnalyticsEvent>,
    pub unreadable: Vec<String>,
}

/// Queues events (an id already queued is kept as it is): a statement per
/// as many events as its bound values allow. Synchronous.
pub fn push(sql: &SqlStorage, events: &[AnalyticsEvent]) -> Result<()> {
    for chunk in events.chunks(MAX_BOUND_VALUES / 2) {
        let mut binds: Vec<SqlStorageValue> = Vec::with_capacity(chunk.len() * 2);
        for event in chunk {
            binds.push(event.event_id().into());
            binds.push(serde_json::to_string(event)?.into());
        }
        let values = vec!["(?, ?)"; chunk.len()].join(", ");
        sql.exec(
            &format!(
                "INSERT INTO outbox (event_id, payload) VALUES {values} ON CONFLICT DO NOTHING"
            ),
            binds,
        )?;
    }
    Ok(())
}

/// Up to `limit` of the oldest rows. Synchronous.
pub fn peek(sql: &SqlStorage, limit: i64) -> Result<Batch> {
    let rows: Vec<Row> = sql
        .exec(
            "SELECT event_id, payload FROM outbox ORDER BY rowid LIMIT ?",
            vec![limit.into()],
        )?
        .to_array()?;
    let mut batch = Batch {
        events: Vec::with_capacity(rows.len()),
        unreadable: Vec::new(),
    };
    for row in rows {
        match serde_json::from_str(&row.payload) {
            Ok(event) => batch.events.push(event),
            Err(_) => batch.unreadable.push(row.event_id),
        }
    }
    Ok(batch)
}

/// Removes rows by event id: a statement per as many ids as its bound
/// values allow. Synchronous.
pub fn remove<'a>(sql: &SqlStorage, ids: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let ids: Vec<&str> = ids.into_iter().collect();
    for chunk in ids.chunks(MAX_BOUND_VALUES) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let binds: Vec<SqlStorageValue> = chunk.iter().map(|id| (*id).into()).collect();
        sql.exec(
            &format!("DELETE FROM outbox WHERE event_id IN ({marks})"),
            binds,
        )?;
    }
    Ok(())
}

/// Rows queued. Synchronous.
pub fn len(sql: &SqlStorage) -> i64 {
    #[derive(serde::Deserialize)]
    struct Count {
        n: i64,
    }
    sql.exec("SELECT count(*) AS n FROM outbox", None)
        .and_then(|c| c.one::<Count>())
        .map(|c| c.n)
        .unwrap_or(0)
}

/// Retries after failed drains: 5 s, doubling per failure in a row up to
/// 60 s, so that objects do not crowd a struggling consumer.
#[derive(Default)]
pub struct Backoff {
    failures: std::cell::Cell<u32>,
    retry_at: std::cell::Cell<i64>,
}

const RETRY_MS: i64 = 5_000;
const RETRY_MAX_MS: i64 = 60_000;

impl Backoff {
    /// A drain failed at `now`: answers the wait before the next one.
    pub fn failed(&self, now: i64) -> i64 {
        let failures = self.failures.get().saturating_add(1);
        self.failures.set(failures);
        let delay = RETRY_MS
            .saturating_mul(1_i64 << failures.saturating_sub(1).min(4))
            .min(RETRY_MAX_MS);
        self.retry_at.set(now + delay);
        delay
    }

    pub fn succeeded(&self) {
        self.failures.set(0);
        self.retry_at.set(0);
    }

    /// No drain before this time (0: none pending).
    pub fn retry_at(&self) -> i64 {
        self.retry_at.get()
    }
}
