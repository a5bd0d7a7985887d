//! Webhooks to the owner's backend (docs/API.md, "Webhooks").
//!
//! Delivery is a **Durable Object outbox with alarms**, one
//! [`WebhookOutbox`](outbox::WebhookOutbox) per project, over rows in
//! Postgres (`webhook_deliveries`):
//!
//! 1. [`emit`] (called in `waitUntil`, only by a request that raised an
//!    event — the identity's object reports a crossing once per window, so
//!    requests past a cap pay nothing) writes one row per subscribed
//!    endpoint, keyed by `(endpoint, event id)`, and wakes the project's
//!    outbox object.
//! 2. The object's alarm leases the due rows, signs each body (Standard
//!    Webhooks) and POSTs it with a deadline, never following redirects;
//!    2xx is delivered, anything else is retried after an exponential
//!    back-off with jitter, the same event id every time, and after
//!    `MAX_ATTEMPTS` the row is dead (the dashboard's dead letter) until the
//!    owner redelivers it. The alarm then re-arms for the next due row.
//!
//! Why not Cloudflare Queues: the dead letter must be a list the owner can
//! read and redeliver from, the delivery log must show each endpoint's
//! attempts, status codes and next retry, and back-off must be per
//! delivery — all of which the rows give directly, where a queue would need
//! the same table beside it plus a second queue for dead letters. Alarms
//! already drive the identity objects, so no other product is involved.
//!
//! Failure modes: Postgres down when an event is emitted → the event is
//! lost (logged); Postgres down in an alarm → the alarm retries in a
//! minute. A Worker that dies mid-send leaves the row leased, and the lease
//! (2 minutes) makes it due again: at least once, never lost once written.

pub mod api;
pub mod outbox;

use crate::store;
use crate::store::webhooks::{add_deliveries, NewDelivery};
use shared::webhooks::{identity_event, Alert, Event};
use worker::{console_error, Env};

pub use outbox::WebhookOutbox;

/// The binding of the outbox objects (wrangler.toml).
pub const OUTBOX_BINDING: &str = "WEBHOOK_OUTBOX";

/// Adds `events` to the project's outbox for every subscribed endpoint and
/// wakes its sender. Idempotent by event id. Errors are logged, never
/// raised: a webhook never fails the request that raised it. Call it in
/// `waitUntil`.
pub async fn emit(env: &Env, project_id: &str, events: &[Event]) {
    if let Err(e) = enqueue(env, project_id, None, events).await {
        console_error!("webhooks: emit for project {project_id} failed: {e}");
    }
}

/// The alerts an identity's object reported with its admission answer.
pub async fn emit_alerts(env: &Env, project_id: &str, identity: &str, alerts: &[Alert]) {
    let events: Vec<Event> = alerts
        .iter()
        .map(|a| identity_event(project_id, identity, a))
        .collect();
    emit(env, project_id, &events).await;
}

/// Writes the rows (all subscribers, or one endpoint for a test-send) and
/// wakes the outbox when any row is new. Answers how many rows were new.
pub async fn enqueue(
    env: &Env,
    project_id: &str,
    endpoint_id: Option<&str>,
    events: &[Event],
) -> Result<u64, String> {
    let client = store::connect(env).await.map_err(|e| format!("{e:?}"))?;
    let mut added = 0;
    for event in events {
        let body = event.body();
        added += add_deliveries(
            &client,
            project_id,
            endpoint_id,
            &NewDelivery {
                event_id: &event.id,
                event_type: event.kind.as_str(),
                payload: &body,
            },
        )
        .await
        .map_err(|e| format!("{e:?}"))?;
    }
    if added > 0 {
        outbox::wake(env, project_id).await?;
    }
    Ok(added)
}
