//! `AnalyticsRelay`: gathers the analytics events of a project's identities
//! and writes them to Postgres in batches.
//!
//! An identity's object that wrote its own events opened a Postgres session
//! for each flush, and an identity seen every few seconds flushes after
//! almost every request: with many identities that was a session per
//! request. Identities with few events per flush hand them to the relay
//! instead (a call to another object, no Postgres), and the relay writes
//! what many identities sent in one session per flush; a busy identity,
//! which fills a session on its own, still writes its batch itself. A project has [`SHARDS`] relays; an
//! identity always uses the same one.
//!
//! Invariant: an event leaves an identity's outbox only after a relay
//! stored it in its own outbox (the relay answers after the write), and
//! leaves the relay's only when Postgres is done with it (written, or
//! refused as bad data). Writes are idempotent per event id, so an event
//! handed over twice is counted once.

use crate::analytics;
use crate::outbox::{self, Backoff};
use shared::limiter_api::AnalyticsEvent;
use std::cell::Cell;
use std::collections::BTreeMap;
use worker::*;

/// Name of the binding in `wrangler.toml`.
pub const BINDING: &str = "ANALYTICS_RELAY";
/// Relays per project.
pub const SHARDS: u32 = 4;
/// How long a relay gathers events before it writes them.
const FLUSH_DELAY_MS: i64 = 1_000;
/// Events per Postgres session, and sessions per alarm.
const BATCH: i64 = 500;
const ROUNDS: usize = 4;

/// What a relay has done since its object started (test stacks read it).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayState {
    /// Postgres sessions that wrote events.
    pub sessions: u64,
    /// Events Postgres is done with.
    pub written: u64,
    /// Events waiting in the relay.
    pub pending: i64,
}

/// The relay of `project_id` that the object keyed `shard_key` uses.
fn stub(env: &Env, project_id: &str, shard_key: &str) -> Result<Stub> {
    // FNV-1a: stable across builds, unlike std's hasher.
    let hash = shard_key.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    env.durable_object(BINDING)?
        .id_from_name(&format!("{project_id}#{}", hash % SHARDS))?
        .get_stub()
}

/// Hands events to their projects' relays; `Ok` once every relay stored
/// them.
pub async fn hand_off(env: &Env, shard_key: &str, events: &[AnalyticsEvent]) -> Result<()> {
    let mut by_project: BTreeMap<&str, Vec<&AnalyticsEvent>> = BTreeMap::new();
    for event in events {
        by_project
            .entry(event.project_id())
            .or_default()
            .push(event);
    }
    for (project_id, events) in by_project {
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(serde_json::to_string(&events)?.into()));
        let req = Request::new_with_init("https://relay/events", &init)?;
        let resp = stub(env, project_id, shard_key)?
            .fetch_with_request(req)
            .await?;
        if resp.status_code() != 204 {
            return Err(Error::RustError(format!(
                "analytics relay answered {}",
                resp.status_code()
            )));
        }
    }
    Ok(())
}

/// The states of a project's relays, summed (test stacks only).
pub async fn project_state(env: &Env, project_id: &str) -> Result<RelayState> {
    let mut sum = RelayState::default();
    for shard in 0..SHARDS {
        let mut resp = env
            .durable_object(BINDING)?
            .id_from_name(&format!("{project_id}#{shard}"))?
            .get_stub()?
            .fetch_with_str("https://relay/state")
            .await?;
        let state: RelayState = resp.json().await?;
        sum.sessions += state.sessions;
        sum.written += state.written;
        sum.pending += state.pending;
    }
    Ok(sum)
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

#[durable_object]
pub struct AnalyticsRelay {
    state: State,
    env: Env,
    alarm_at: Cell<Option<i64>>,
    backoff: Backoff,
    sessions: Cell<u64>,
    written: Cell<u64>,
}

impl AnalyticsRelay {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// Sets the alarm for the next write unless one is set sooner.
    async fn arm(&self, at: i64) -> Result<()> {
        if self.alarm_at.get().is_none_or(|current| at < current) {
            self.alarm_at.set(Some(at));
            self.state
                .storage()
                .set_alarm((at - now_ms()).max(0))
                .await?;
        }
        Ok(())
    }

    /// Writes what is queued, a batch per session, for a few rounds.
    async fn flush(&self) -> Result<()> {
        let now = now_ms();
        self.alarm_at.set(None);
        if now < self.backoff.retry_at() {
            return self.arm(self.backoff.retry_at()).await;
        }
        for _ in 0..ROUNDS {
            let batch = outbox::peek(&self.sql(), BATCH)?;
            outbox::remove(&self.sql(), batch.unreadable.iter().map(String::as_str))?;
            if batch.events.is_empty() {
                return Ok(());
            }
            let done = match analytics::write_events(&self.env, &batch.events).await {
                Ok(done) => done,
                Err(e) => {
                    console_error!("analytics relay: write failed, retrying: {e}");
                    let delay = self.backoff.failed(now);
                    return self.arm(now + delay).await;
                }
            };
            self.sessions.set(self.sessions.get() + 1);
            let finished: Vec<&str> = batch
                .events
                .iter()
                .zip(&done)
                .filter(|(_, d)| **d)
                .map(|(e, _)| e.event_id())
                .collect();
            self.written.set(self.written.get() + finished.len() as u64);
            outbox::remove(&self.sql(), finished)?;
            if done.iter().any(|d| !d) {
                let delay = self.backoff.failed(now);
                return self.arm(now + delay).await;
            }
            self.backoff.succeeded();
        }
        if outbox::len(&self.sql()) > 0 {
            self.arm(now_ms()).await?;
        }
        Ok(())
    }
}

impl DurableObject for AnalyticsRelay {
    fn new(state: State, env: Env) -> Self {
        let relay = Self {
            state,
            env,
            alarm_at: Cell::new(None),
            backoff: Backoff::default(),
            sessions: Cell::new(0),
            written: Cell::new(0),
        };
        if let Err(e) = relay.sql().exec(outbox::SCHEMA, None) {
            console_error!("analytics relay schema: {e}");
        }
        relay
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match req.path().as_str() {
            "/events" => {
                let events: Vec<AnalyticsEvent> = crate::read_json(&mut req).await?;
                outbox::push(&self.sql(), &events)?;
                self.arm((now_ms() + FLUSH_DELAY_MS).max(self.backoff.retry_at()))
                    .await?;
                Ok(Response::empty()?.with_status(204))
            }
            "/state" => Response::from_json(&RelayState {
                sessions: self.sessions.get(),
                written: self.written.get(),
                pending: outbox::len(&self.sql()),
            }),
            _ => Response::error("unknown relay call", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.flush().await {
            console_error!("analytics relay alarm failed: {e}");
        }
        Response::ok("done")
    }
}
