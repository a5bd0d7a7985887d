//! Writes batched analytics events to Postgres, idempotently.
//!
//! Each usage event inserts its id into `usage_events`; only a *new* id adds
//! its counts to the daily rollup (one statement, so a retried batch never
//! double counts). Rule triggers are keyed by their event id likewise, and
//! funnel counts go to `funnel_daily` through `usage_events` as usage does.
//! Statements are pipelined on one connection. Each event's fate is reported
//! on its own: written, or refused by Postgres as bad data (logged and
//! dropped, so one poison event cannot hold back the rest forever), or failed
//! for a passing reason (kept for the next flush).
//!
//! No Postgres call outlives its deadline: connecting gets
//! [`CONNECT_DEADLINE_MS`], preparing the statements [`QUERY_DEADLINE_MS`]
//! (past either, nothing was tried: an error), and the batch of statements
//! [`QUERY_DEADLINE_MS`] (past it, every event is kept for the next flush;
//! the writes are idempotent, so one that did land is not counted twice).

use crate::pg::{connect, pg_error, within};
use futures_util::future::join_all;
use shared::limiter_api::AnalyticsEvent;
use worker::{console_error, Env, Error, Result};

/// Deadline for opening the connection.
pub const CONNECT_DEADLINE_MS: u64 = 3_000;
/// Deadline for preparing the statements, and for the whole batch of them.
pub const QUERY_DEADLINE_MS: u64 = 5_000;

fn timed_out(what: &str) -> Error {
    Error::RustError(format!("postgres {what}: no answer within the deadline"))
}

const USAGE_SQL: &str = "WITH fresh AS ( \
       INSERT INTO usage_events (event_id, project_id) VALUES ($1, $2) \
       ON CONFLICT (event_id) DO NOTHING RETURNING 1) \
     INSERT INTO usage_daily AS d (project_id, identity, tier, model, day, requests, \
       input_tokens, output_tokens, blocked, warned, cost_micros, usage_flagged) \
     SELECT $2, $3, $4, $5, $6::text::date, $7, $8, $9, $10, $11, $12, $13 FROM fresh \
     ON CONFLICT (project_id, identity, tier, model, day) DO UPDATE SET \
       requests = d.requests + EXCLUDED.requests, \
       input_tokens = d.input_tokens + EXCLUDED.input_tokens, \
       output_tokens = d.output_tokens + EXCLUDED.output_tokens, \
       blocked = d.blocked + EXCLUDED.blocked, \
       warned = d.warned + EXCLUDED.warned, \
       cost_micros = d.cost_micros + EXCLUDED.cost_micros, \
       usage_flagged = d.usage_flagged + EXCLUDED.usage_flagged";

const TRIGGER_SQL: &str = "INSERT INTO rule_triggers (event_id, project_id, rule_id, rule_name, \
       identity, tier, action, usage_percent, triggered_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::double precision / 1000.0)) \
     ON CONFLICT (event_id) DO NOTHING";

const FUNNEL_SQL: &str = "WITH fresh AS ( \
       INSERT INTO usage_events (event_id, project_id) VALUES ($1, $2) \
       ON CONFLICT (event_id) DO NOTHING RETURNING 1) \
     INSERT INTO funnel_daily AS f (project_id, day, tier, kind, origin, rule_id, message_hash, \
       message, shown, linked, clicks, upgrades) \
     SELECT $2, $3::text::date, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM fresh \
     ON CONFLICT (project_id, day, tier, kind, origin, rule_id, message_hash) DO UPDATE SET \
       shown = f.shown + EXCLUDED.shown, linked = f.linked + EXCLUDED.linked, \
       clicks = f.clicks + EXCLUDED.clicks, upgrades = f.upgrades + EXCLUDED.upgrades, \
       message = CASE WHEN f.message = '' THEN EXCLUDED.message ELSE f.message END";

/// Writes every event. Answers, per event, whether it is done with (written,
/// or refused as bad data) — `false` means retry it later. An error means
/// nothing could be tried (no connection).
pub async fn write_events(env: &Env, events: &[AnalyticsEvent]) -> Result<Vec<bool>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let client = within(CONNECT_DEADLINE_MS, connect(env))
        .await
        .ok_or_else(|| timed_out("connect"))??;
    let (usage, trigger, funnel) = within(QUERY_DEADLINE_MS, async {
        let usage = client.prepare(USAGE_SQL).await?;
        let trigger = client.prepare(TRIGGER_SQL).await?;
        let funnel = client.prepare(FUNNEL_SQL).await?;
        Ok::<_, tokio_postgres::Error>((usage, trigger, funnel))
    })
    .await
    .ok_or_else(|| timed_out("prepare"))?
    .map_err(pg_error)?;
    let writes = events.iter().map(|event| {
        let client = &client;
        let usage = &usage;
        let trigger = &trigger;
        let funnel = &funnel;
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
                    cost,
                    blocked,
                    warned,
                    usage_flagged,
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
                                cost,
                                usage_flagged,
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
                AnalyticsEvent::Funnel {
                    event_id,
                    project_id,
                    day,
                    key,
                    message,
                    shown,
                    linked,
                    clicks,
                    upgrades,
                } => {
                    client
                        .execute(
                            funnel,
                            &[
                                event_id,
                                project_id,
                                day,
                                &key.tier,
                                &key.kind.as_str(),
                                &key.origin.as_str(),
                                &key.rule_id,
                                &key.message_hash,
                                message,
                                shown,
                                linked,
                                clicks,
                                upgrades,
                            ],
                        )
                        .await
                }
            }
        }
    });
    let Some(results) = within(QUERY_DEADLINE_MS, join_all(writes)).await else {
        console_error!(
            "analytics batch of {} events: no answer within the deadline, will retry",
            events.len()
        );
        return Ok(vec![false; events.len()]);
    };
    Ok(results
        .into_iter()
        .zip(events)
        .map(|(result, event)| match result {
            Ok(_) => true,
            Err(e) if is_bad_data(&e) => {
                console_error!("analytics event {} refused, dropped: {e}", event.event_id());
                true
            }
            Err(e) => {
                console_error!(
                    "analytics event {} not written, will retry: {e}",
                    event.event_id()
                );
                false
            }
        })
        .collect())
}

/// Postgres refused the values themselves (SQLSTATE class 22, data
/// exception, or 23, integrity violation): retrying cannot succeed.
fn is_bad_data(e: &tokio_postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23"))
}
