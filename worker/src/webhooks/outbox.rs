//! `WebhookOutbox`: one Durable Object per project that sends the project's
//! due webhook deliveries from its alarm (see the module above for the
//! design). It keeps only its project id in storage; the rows in Postgres
//! are the outbox, so the dashboard reads the same state the sender acts on.
//!
//! Each alarm: lease up to [`BATCH`] due rows (a lease of [`LEASE_MS`]
//! makes a row due again if this object dies mid-send), send them
//! concurrently, each within [`SEND_DEADLINE_MS`], record each outcome,
//! repeat while rows are due (at most [`ROUNDS`] rounds), then set the
//! alarm for the next due row.

use crate::config::Config;
use crate::crypto::{open, Purpose};
use crate::store::webhooks::{self as stored, Attempt, DueDelivery};
use crate::store::{self, Client};
use futures_util::future::{join_all, select, Either};
use shared::webhooks::{next_run_in_ms, retry_delay_ms, sign};
use std::time::Duration;
use worker::*;

const BATCH: i64 = 20;
const ROUNDS: usize = 5;
const LEASE_MS: i64 = 120_000;
const SEND_DEADLINE_MS: u64 = 10_000;
/// When Postgres fails in an alarm, try again this much later.
const STORE_RETRY_MS: i64 = 60_000;
const PROJECT_KEY: &str = "project";

/// Wakes the project's outbox object: it sends what is due now.
pub async fn wake(env: &Env, project_id: &str) -> std::result::Result<(), String> {
    let fail = |e: Error| format!("outbox stub: {e}");
    let ns = env.durable_object(super::OUTBOX_BINDING).map_err(fail)?;
    let stub = ns
        .id_from_name(project_id)
        .map_err(fail)?
        .get_stub()
        .map_err(fail)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(project_id.to_string().into()));
    let req = Request::new_with_init("https://outbox/wake", &init)
        .map_err(|e| format!("outbox request: {e}"))?;
    let resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| format!("outbox wake: {e}"))?;
    if resp.status_code() != 204 {
        return Err(format!("outbox wake answered {}", resp.status_code()));
    }
    Ok(())
}

/// What a project's sender is doing: when it runs next (ms since the
/// epoch; `None`: it sleeps until woken) and how many times it has run
/// since its object started.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderState {
    pub alarm_at: Option<i64>,
    pub runs: u64,
}

/// The project's [`SenderState`]. Served to tests only
/// (`FAULT_INJECTION=1`): an idle project's sender must sleep, not poll
/// Postgres.
pub async fn sender_state(env: &Env, project_id: &str) -> std::result::Result<SenderState, String> {
    let fail = |e: Error| format!("outbox state: {e}");
    let stub = env
        .durable_object(super::OUTBOX_BINDING)
        .map_err(fail)?
        .id_from_name(project_id)
        .map_err(fail)?
        .get_stub()
        .map_err(fail)?;
    let mut resp = stub
        .fetch_with_str("https://outbox/state")
        .await
        .map_err(fail)?;
    resp.json().await.map_err(fail)
}

/// Delivered rows are pruned at most this often per project.
const PRUNE_EVERY_MS: i64 = 3_600_000;

#[durable_object]
pub struct WebhookOutbox {
    state: State,
    env: Env,
    /// When this object last pruned old delivered rows (0: not yet).
    pruned_at: std::cell::Cell<i64>,
    /// Alarm runs since this object started.
    runs: std::cell::Cell<u64>,
}

impl WebhookOutbox {
    async fn project_id(&self) -> Result<Option<String>> {
        self.state.storage().get::<String>(PROJECT_KEY).await
    }

    async fn run(&self) -> Result<()> {
        let Some(project_id) = self.project_id().await? else {
            return Ok(());
        };
        let cfg = Config::get(&self.env);
        let client = match store::connect(&self.env).await {
            Ok(c) => c,
            Err(e) => {
                console_error!("webhook outbox {project_id}: database: {e:?}");
                return self.state.storage().set_alarm(STORE_RETRY_MS).await;
            }
        };
        match self.deliver_due(&client, &cfg, &project_id).await {
            Ok(Some(next)) => self.state.storage().set_alarm(next).await,
            Ok(None) => Ok(()),
            Err(e) => {
                console_error!("webhook outbox {project_id}: {e:?}");
                self.state.storage().set_alarm(STORE_RETRY_MS).await
            }
        }
    }

    /// Sends due rows; answers when the next one is due (ms from now).
    async fn deliver_due(
        &self,
        client: &Client,
        cfg: &Config,
        project_id: &str,
    ) -> std::result::Result<Option<i64>, store::StoreError> {
        let now = Date::now().as_millis() as i64;
        if now - self.pruned_at.get() >= PRUNE_EVERY_MS {
            stored::prune_delivered(client, project_id).await?;
            self.pruned_at.set(now);
        }
        for _ in 0..ROUNDS {
            let due = stored::claim_due(client, project_id, BATCH, LEASE_MS).await?;
            if due.is_empty() {
                break;
            }
            let sends = due.iter().map(|d| attempt(cfg, project_id, d));
            for (d, outcome) in due.iter().zip(join_all(sends).await) {
                stored::record_attempt(client, &d.id, &outcome.as_attempt(cfg, d.attempts)).await?;
            }
        }
        Ok(next_run_in_ms(
            stored::next_due_in_ms(client, project_id).await?,
        ))
    }
}

/// What one send did (no response body is read or kept).
struct Outcome {
    status_code: Option<i32>,
    error: Option<String>,
}

impl Outcome {
    fn delivered(&self) -> bool {
        matches!(self.status_code, Some(c) if (200..300).contains(&c))
    }

    fn as_attempt(&self, cfg: &Config, attempts_before: i32) -> Attempt<'_> {
        let attempts = u32::try_from(attempts_before)
            .unwrap_or(0)
            .saturating_add(1);
        let delivered = self.delivered();
        Attempt {
            status_code: self.status_code,
            error: self.error.as_deref(),
            delivered,
            retry_in_ms: if delivered {
                None
            } else {
                retry_delay_ms(
                    attempts,
                    cfg.webhook_retry_base_ms,
                    cfg.webhook_retry_max_ms,
                    js_sys::Math::random(),
                )
            },
        }
    }
}

fn failed(error: impl Into<String>) -> Outcome {
    Outcome {
        status_code: None,
        error: Some(error.into()),
    }
}

/// Signs and POSTs one delivery. The URL is checked again (the guard may
/// be stricter than when the endpoint was saved) and redirects are not
/// followed: a 3xx is a failed attempt.
async fn attempt(cfg: &Config, project_id: &str, d: &DueDelivery) -> Outcome {
    if let Err(e) = shared::webhooks::check_endpoint_url(&d.url, cfg.production) {
        return failed(format!("URL refused: {}", e.message()));
    }
    let secret = match open(
        &cfg.opening_keys(),
        Purpose::WebhookSecret,
        project_id,
        &d.secret_enc,
    ) {
        Ok(s) => s,
        Err(e) => {
            console_error!("webhook secret of delivery {}: {e}", d.id);
            return failed("signing secret unavailable");
        }
    };
    let timestamp = (Date::now().as_millis() / 1000) as i64;
    let Some(signature) = sign(&secret, &d.event_id, timestamp, &d.payload) else {
        return failed("signing secret unusable");
    };
    let headers = Headers::new();
    for (k, v) in [
        ("content-type", "application/json"),
        ("user-agent", "AI-Ratelimit-Webhooks/1"),
        ("webhook-id", d.event_id.as_str()),
        ("webhook-timestamp", &timestamp.to_string()),
        ("webhook-signature", &signature),
    ] {
        if headers.set(k, v).is_err() {
            return failed("header");
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_redirect(RequestRedirect::Manual)
        .with_headers(headers)
        .with_body(Some(d.payload.clone().into()));
    let Ok(request) = Request::new_with_init(&d.url, &init) else {
        return failed("URL not usable");
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let sending = Box::pin(async move { Fetch::Request(request).send_with_signal(&signal).await });
    let deadline = Box::pin(Delay::from(Duration::from_millis(SEND_DEADLINE_MS)));
    match select(sending, deadline).await {
        Either::Left((Ok(resp), _)) => {
            let code = resp.status_code();
            Outcome {
                status_code: Some(i32::from(code)),
                error: (!(200..300).contains(&code)).then(|| format!("HTTP {code}")),
            }
        }
        Either::Left((Err(e), _)) => {
            console_error!("webhook delivery {} failed: {e}", d.id);
            failed("connection failed")
        }
        Either::Right(_) => {
            controller.abort();
            failed(format!("no answer within {} s", SEND_DEADLINE_MS / 1000))
        }
    }
}

impl DurableObject for WebhookOutbox {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            pruned_at: std::cell::Cell::new(0),
            runs: std::cell::Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.path() == "/state" {
            // Test stacks only; see `sender_state`.
            return Response::from_json(&SenderState {
                alarm_at: self.state.storage().get_alarm().await?,
                runs: self.runs.get(),
            });
        }
        if req.path() != "/wake" {
            return Response::error("unknown outbox call", 404);
        }
        let project_id = req.text().await?;
        if self.project_id().await?.as_deref() != Some(project_id.as_str()) {
            self.state.storage().put(PROJECT_KEY, &project_id).await?;
        }
        self.state.storage().set_alarm(0).await?;
        Ok(Response::empty()?.with_status(204))
    }

    async fn alarm(&self) -> Result<Response> {
        self.runs.set(self.runs.get().saturating_add(1));
        if let Err(e) = self.run().await {
            console_error!("webhook outbox alarm failed: {e}");
        }
        Response::ok("done")
    }
}
