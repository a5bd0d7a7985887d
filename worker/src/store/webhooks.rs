//! Webhook endpoints and deliveries as stored (migrations/0004_webhooks.sql).
//!
//! The delivery rows are the outbox: [`add_deliveries`] writes one per
//! subscribed, enabled endpoint and event (a repeated event id is dropped by
//! the `(endpoint, event)` key), [`claim_due`] leases the due ones to one
//! sender (`FOR UPDATE SKIP LOCKED`, the lease pushes `next_attempt_at`
//! out, so a second sender never takes the same row while the first is
//! sending), and [`record_attempt`] writes the outcome. Secrets leave here
//! still sealed.

use super::{col, Client, Row, StoreError};

const ISO: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

fn iso(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', {ISO}) AS {column}_utc")
}

/// An endpoint as the owner sees it (no secret).
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn endpoint_columns() -> String {
    format!(
        "id, url, description, events, enabled, {}, {}",
        iso("created_at"),
        iso("updated_at")
    )
}

fn endpoint_from_row(r: &Row) -> Result<EndpointRow, StoreError> {
    Ok(EndpointRow {
        id: col(r, "id")?,
        url: col(r, "url")?,
        description: col(r, "description")?,
        events: col(r, "events")?,
        enabled: col(r, "enabled")?,
        created_at: col(r, "created_at_utc")?,
        updated_at: col(r, "updated_at_utc")?,
    })
}

pub async fn list_endpoints(
    client: &Client,
    project_id: &str,
) -> Result<Vec<EndpointRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM webhook_endpoints WHERE project_id = $1 ORDER BY created_at, id",
        endpoint_columns()
    );
    client
        .query(&sql, &[&project_id])
        .await?
        .iter()
        .map(endpoint_from_row)
        .collect()
}

pub async fn get_endpoint(
    client: &Client,
    project_id: &str,
    id: &str,
) -> Result<Option<EndpointRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM webhook_endpoints WHERE project_id = $1 AND id = $2",
        endpoint_columns()
    );
    client
        .query_opt(&sql, &[&project_id, &id])
        .await?
        .as_ref()
        .map(endpoint_from_row)
        .transpose()
}

/// An endpoint as written.
pub struct EndpointWrite<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub events: &'a [String],
    pub enabled: bool,
}

pub async fn insert_endpoint(
    client: &Client,
    project_id: &str,
    id: &str,
    w: &EndpointWrite<'_>,
    secret_enc: &str,
) -> Result<EndpointRow, StoreError> {
    let sql = format!(
        "INSERT INTO webhook_endpoints (id, project_id, url, description, events, enabled, secret_enc) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {}",
        endpoint_columns()
    );
    let row = client
        .query_one(
            &sql,
            &[
                &id,
                &project_id,
                &w.url,
                &w.description,
                &w.events,
                &w.enabled,
                &secret_enc,
            ],
        )
        .await?;
    endpoint_from_row(&row)
}

pub async fn update_endpoint(
    client: &Client,
    project_id: &str,
    id: &str,
    w: &EndpointWrite<'_>,
) -> Result<Option<EndpointRow>, StoreError> {
    let sql = format!(
        "UPDATE webhook_endpoints SET url = $3, description = $4, events = $5, enabled = $6, \
           updated_at = now() WHERE project_id = $1 AND id = $2 RETURNING {}",
        endpoint_columns()
    );
    client
        .query_opt(
            &sql,
            &[
                &project_id,
                &id,
                &w.url,
                &w.description,
                &w.events,
                &w.enabled,
            ],
        )
        .await?
        .as_ref()
        .map(endpoint_from_row)
        .transpose()
}

pub async fn delete_endpoint(
    client: &Client,
    project_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    Ok(client
        .execute(
            "DELETE FROM webhook_endpoints WHERE project_id = $1 AND id = $2",
            &[&project_id, &id],
        )
        .await?
        > 0)
}

pub async fn set_secret(
    client: &Client,
    project_id: &str,
    id: &str,
    secret_enc: &str,
) -> Result<bool, StoreError> {
    Ok(client
        .execute(
            "UPDATE webhook_endpoints SET secret_enc = $3, updated_at = now() \
             WHERE project_id = $1 AND id = $2",
            &[&project_id, &id, &secret_enc],
        )
        .await?
        > 0)
}

/// One event to add to the outbox.
pub struct NewDelivery<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
}

/// Adds the event for every enabled endpoint of the project subscribed to
/// its type (or only `endpoint_id`, whatever it subscribed to: a
/// test-send). Answers how many rows were new (0: no subscriber, or the
/// event was already there).
pub async fn add_deliveries(
    client: &Client,
    project_id: &str,
    endpoint_id: Option<&str>,
    d: &NewDelivery<'_>,
) -> Result<u64, StoreError> {
    client
        .execute(
            "INSERT INTO webhook_deliveries \
               (id, project_id, endpoint_id, event_id, event_type, payload, next_attempt_at) \
             SELECT 'whd_' || substr(md5(e.id || '|' || $3), 1, 24), $1, e.id, $3, $4, $5, now() \
             FROM webhook_endpoints e \
             WHERE e.project_id = $1 AND e.enabled \
               AND (CASE WHEN $2::text IS NULL THEN $4 = ANY(e.events) ELSE e.id = $2 END) \
             ON CONFLICT (endpoint_id, event_id) DO NOTHING",
            &[
                &project_id,
                &endpoint_id,
                &d.event_id,
                &d.event_type,
                &d.payload,
            ],
        )
        .await
}

/// A delivery as the delivery log shows it (the payload is ids and numbers).
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub url: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

fn delivery_from_row(r: &Row) -> Result<DeliveryRow, StoreError> {
    let status: String = col(r, "status")?;
    Ok(DeliveryRow {
        id: col(r, "id")?,
        endpoint_id: col(r, "endpoint_id")?,
        url: col(r, "url")?,
        event_id: col(r, "event_id")?,
        event_type: col(r, "event_type")?,
        payload: col(r, "payload")?,
        next_attempt_at: if status == "pending" {
            col(r, "next_attempt_at_utc")?
        } else {
            None
        },
        status,
        attempts: col(r, "attempts")?,
        last_attempt_at: col(r, "last_attempt_at_utc")?,
        last_status_code: col(r, "last_status_code")?,
        last_error: col(r, "last_error")?,
        created_at: col(r, "created_at_utc")?,
        delivered_at: col(r, "delivered_at_utc")?,
    })
}

/// The project's most recent deliveries, newest first, optionally of one
/// status or endpoint.
pub async fn list_deliveries(
    client: &Client,
    project_id: &str,
    status: Option<&str>,
    endpoint_id: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let sql = format!(
        "SELECT d.id, d.endpoint_id, e.url, d.event_id, d.event_type, d.payload, d.status, \
           d.attempts, d.last_status_code, d.last_error, {}, {}, {}, {} \
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.project_id = $1 AND ($2::text IS NULL OR d.status = $2) \
           AND ($3::text IS NULL OR d.endpoint_id = $3) \
         ORDER BY d.created_at DESC, d.id LIMIT $4",
        iso("d.next_attempt_at").replace("AS d.", "AS "),
        iso("d.last_attempt_at").replace("AS d.", "AS "),
        iso("d.created_at").replace("AS d.", "AS "),
        iso("d.delivered_at").replace("AS d.", "AS "),
    );
    client
        .query(&sql, &[&project_id, &status, &endpoint_id, &limit])
        .await?
        .iter()
        .map(delivery_from_row)
        .collect()
}

/// Puts a delivery back in the outbox, due now, with a fresh series of
/// attempts (same event id). False when the project has no such delivery.
pub async fn redeliver(client: &Client, project_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(client
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, \
               next_attempt_at = now(), delivered_at = NULL \
             WHERE project_id = $1 AND id = $2",
            &[&project_id, &id],
        )
        .await?
        > 0)
}

/// A due delivery leased to this sender, with what sending it needs.
pub struct DueDelivery {
    pub id: String,
    pub event_id: String,
    pub payload: String,
    pub attempts: i32,
    pub url: String,
    pub secret_enc: String,
}

/// Leases up to `limit` due deliveries of enabled endpoints for `lease_ms`.
pub async fn claim_due(
    client: &Client,
    project_id: &str,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<DueDelivery>, StoreError> {
    let rows = client
        .query(
            "WITH due AS ( \
               SELECT d.id FROM webhook_deliveries d \
               JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled \
               WHERE d.project_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now() \
               ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED) \
             UPDATE webhook_deliveries d \
               SET next_attempt_at = now() + make_interval(secs => $3::bigint / 1000.0) \
             FROM due, webhook_endpoints e \
             WHERE d.id = due.id AND e.id = d.endpoint_id \
             RETURNING d.id, d.event_id, d.payload, d.attempts, e.url, e.secret_enc",
            &[&project_id, &limit, &lease_ms],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(DueDelivery {
                id: col(r, "id")?,
                event_id: col(r, "event_id")?,
                payload: col(r, "payload")?,
                attempts: col(r, "attempts")?,
                url: col(r, "url")?,
                secret_enc: col(r, "secret_enc")?,
            })
        })
        .collect()
}

/// What one attempt did.
pub struct Attempt<'a> {
    pub status_code: Option<i32>,
    pub error: Option<&'a str>,
    pub delivered: bool,
    /// Wait before the next attempt; `None` with `delivered` false: dead.
    pub retry_in_ms: Option<i64>,
}

pub async fn record_attempt(client: &Client, id: &str, a: &Attempt<'_>) -> Result<(), StoreError> {
    let status = match (a.delivered, a.retry_in_ms) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "dead",
    };
    let retry = a.retry_in_ms.unwrap_or(0);
    client
        .execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, \
               last_attempt_at = now(), last_status_code = $3, last_error = $4, \
               next_attempt_at = CASE WHEN $2 = 'pending' \
                 THEN now() + make_interval(secs => $5::bigint / 1000.0) ELSE NULL END, \
               delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE NULL END \
             WHERE id = $1",
            &[&id, &status, &a.status_code, &a.error, &retry],
        )
        .await?;
    Ok(())
}

/// Milliseconds until the project's next due delivery on an enabled
/// endpoint (negative when overdue), `None` when nothing is pending. Only
/// SQL `NULL` says "nothing": no `GREATEST` here, which would turn the
/// `NULL` of an empty `min` into 0 and make the sender spin.
pub async fn next_due_in_ms(client: &Client, project_id: &str) -> Result<Option<i64>, StoreError> {
    let row = client
        .query_one(
            "SELECT (EXTRACT(EPOCH FROM (min(d.next_attempt_at) - now())) * 1000)::bigint AS due_in \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled \
             WHERE d.project_id = $1 AND d.status = 'pending'",
            &[&project_id],
        )
        .await?;
    col(&row, "due_in")
}

/// Forgets delivered rows older than 30 days (the log keeps failures until
/// the endpoint or project goes).
pub async fn prune_delivered(client: &Client, project_id: &str) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM webhook_deliveries WHERE project_id = $1 AND status = 'delivered' \
               AND created_at < now() - interval '30 days'",
            &[&project_id],
        )
        .await?;
    Ok(())
}
