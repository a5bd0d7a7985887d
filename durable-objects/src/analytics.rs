//! Writes batched analytics events to Postgres, idempotently.
//!
//! Each usage event inserts its id into `usage_events`; only a *new* id adds
//! its counts to the daily rollup (one statement, so a retried batch never
//! double counts). Rule triggers are keyed by their event id likewise.
//! Statements are pipelined on one connection.

use crate::pg::{connect, pg_error};
use futures_util::future::try_join_all;
use shared::limiter_api::AnalyticsEvent;
use worker::{Env, Result};

const USAGE_SQL: &str = "WITH fresh AS ( \
       INSERT INTO usage_events (event_id, project_id) VALUES ($1, $2) \
       ON CONFLICT (event_id) DO NOTHING RETURNING 1) \
     INSERT INTO usage_daily AS d (project_id, identity, tier, model, day, requests, \
       input_tokens, output_tokens, blocked, warned) \
     SELECT $2, $3, $4, $5, $6::text::date, $7, $8, $9, $10, $11 FROM fresh \
     ON CONFLICT (project_id, identity, tier, model, day) DO UPDATE SET \
       requests = d.requests + EXCLUDED.requests, \
       input_tokens = d.input_tokens + EXCLUDED.input_tokens, \
       output_tokens = d.output_tokens + EXCLUDED.output_tokens, \
       blocked = d.blocked + EXCLUDED.blocked, \
       warned = d.warned + EXCLUDED.warned";

const TRIGGER_SQL: &str = "INSERT INTO rule_triggers (event_id, project_id, rule_id, rule_name, \
       identity, tier, action, usage_percent, triggered_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::double precision / 1000.0)) \
     ON CONFLICT (event_id) DO NOTHING";

/// Writes every event; succeeds only if all were written (a failed batch is
/// retried whole, which the event ids make harmless).
pub async fn write_events(env: &Env, events: &[AnalyticsEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let client = connect(env).await?;
    let usage = client.prepare(USAGE_SQL).await.map_err(pg_error)?;
    let trigger = client.prepare(TRIGGER_SQL).await.map_err(pg_error)?;
    let writes = events.iter().map(|event| {
        let client = &client;
        let usage = &usage;
        let trigger = &trigger;
        async move {
            match event {
                AnalyticsEvent::Usage {
                    event_id,
                    project_id,
                    identity,
                    tier,
                    model,
                    day,
                    requests,
                    input_tokens,
                    output_tokens,
                    blocked,
                    warned,
                } => {
                    client
                        .execute(
                            usage,
                            &[
                                event_id,
                                project_id,
                                identity,
                                tier,
                                model,
                                day,
                                requests,
                                input_tokens,
                                output_tokens,
                                blocked,
                                warned,
                            ],
                        )
                        .await
                }
                AnalyticsEvent::Trigger {
                    event_id,
                    project_id,
                    rule_id,
                    rule_name,
                    identity,
                    tier,
                    action,
                    usage_percent,
                    at_ms,
                } => {
                    let at = *at_ms as f64;
                    client
                        .execute(
                            trigger,
                            &[
                                event_id,
                                project_id,
                                rule_id,
                                rule_name,
                                identity,
                                tier,
                                action,
                                usage_percent,
                                &at,
                            ],
                        )
                        .await
                }
            }
        }
    });
    try_join_all(writes).await.map_err(pg_error)?;
    Ok(())
}
