//! Calls to an identity's `IdentityLimiter` Durable Object, and the
//! reservation an admitted request holds until it ends.
//!
//! The object's name comes from [`shared::ledger::limiter_name`] over the
//! project id and the identity, so tenants can never share a counter. Calls
//! are typed ([`LimiterCall`]: a call names its path and its answer type).
//! Any failure to reach the object or to read its answer is
//! `503 limiter_unavailable`; callers on the proxy path forward nothing then.
//!
//! One round trip per request: an admitted request holds a [`Reservation`],
//! a value that only [`Reservation::settle`] or [`Reservation::release`]
//! consume (no `Clone`; dropping one unconsumed releases it). A settlement is
//! not sent on its own at once: it waits in this isolate's queue of endings
//! for the identity, and the identity's next reserve or read carries it (the
//! object applies it first, in the same atomic step). When no call comes
//! within [`FOLD_MS`], one settle call carries the identity's queued
//! endings. If the isolate dies first, the object's lease alarm settles the
//! reservation at its reserved amount, as before: usage is never lost, only
//! counted at the reservation. A release is sent at once (an error path,
//! not the hot one), with whatever else is queued.

use crate::http::ApiResult;
use shared::ledger::limiter_name;
use shared::limiter_api::{
    Ending, LimiterCall, PingAnswer, PingCall, ReadAnswer, ReadCall, RecordAnswer, RecordCall,
    RecordOp, ReserveAnswer, ReserveCall, SettleCall, Subject,
};
use shared::pricing::ModelPrice;
use shared::providers::Usage;
use shared::settlement::{counted_usage, AnswerOutcome};
use shared::tier::Tier;
use shared::ApiError;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{console_error, Context, Delay, Env};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The object's stub as the runtime hands it out: its `fetch` answers
    /// the runtime's own `Response`, whose body is read in one call
    /// (`text()`). The workers-rs wrapper reads an answer through a stream
    /// reader, a call per chunk plus the lock's release: measured at about
    /// 0.4 ms of CPU per request.
    type RawStub;
    #[wasm_bindgen(method, catch)]
    fn fetch(
        this: &RawStub,
        url: &str,
        init: &worker::web_sys::RequestInit,
    ) -> Result<js_sys::Promise, JsValue>;
}

pub const BINDING: &str = "IDENTITY_LIMITER";

/// How long a settlement waits for the identity's next call before it is
/// sent on its own.
pub const FOLD_MS: u64 = 2_000;

/// An identity's counter: the object's stub and who it counts for.
pub struct Counter {
    stub: RawStub,
    name: String,
    subject: Subject,
    /// Prefix of every call's path: empty, or a path the object does not
    /// serve when a test injects a limiter fault ([`Counter::broken`]).
    prefix: &'static str,
}

impl Counter {
    pub fn open(env: &Env, project_id: &str, identity: &str) -> ApiResult<Self> {
        let fail = |e: worker::Error| {
            console_error!("limiter stub: {e}");
            ApiError::limiter_unavailable()
        };
        let name = limiter_name(project_id, identity);
        let ns = env.durable_object(BINDING).map_err(fail)?;
        let stub = ns
            .id_from_name(&name)
            .map_err(fail)?
            .get_stub()
            .map_err(fail)?
            .into_rpc::<RawStub>();
        Ok(Self {
            stub,
            name,
            subject: Subject {
                project_id: project_id.to_string(),
                identity: identity.to_string(),
                budgeted: false,
            },
            prefix: "",
        })
    }

    /// The same counter, reporting its usage to the project's budgets
    /// when `yes` (the project has budgets).
    pub fn budgeted(mut self, yes: bool) -> Self {
        self.subject.budgeted = yes;
        self
    }

    /// The same counter with every call sent where the object answers an
    /// error: the injected fault of a test stack (`FAULT_INJECTION=1`), so
    /// the fail-closed path is the real one.
    pub fn broken(self) -> Self {
        Self {
            prefix: "/__injected-fault",
            ..self
        }
    }

    /// Sends one call and decodes exactly its answer type.
    pub async fn send<C: LimiterCall>(&self, call: &C) -> ApiResult<C::Answer> {
        let path = C::PATH;
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            console_error!("limiter {path} {what}: {e}");
            ApiError::limiter_unavailable()
        };
        let text = serde_json::to_string(call).map_err(|e| fail("encode", &e))?;
        let init = worker::web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&text));
        let prefix = self.prefix;
        let js = |what: &'static str| move |e: JsValue| fail(what, &format!("{e:?}"));
        let promise = self
            .stub
            .fetch(&format!("https://limiter{prefix}{path}"), &init)
            .map_err(js("fetch"))?;
        let resp: worker::web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(js("fetch"))?
            .dyn_into()
            .map_err(js("answer"))?;
        if resp.status() != 200 {
            return Err(fail("status", &resp.status()));
        }
        let body = JsFuture::from(resp.text().map_err(js("read"))?)
            .await
            .map_err(js("read"))?
            .as_string()
            .unwrap_or_default();
        serde_json::from_str::<C::Answer>(&body).map_err(|e| fail("decode", &e))
    }

    /// Sends a call that carries the identity's queued endings; they are
    /// queued again if the call fails.
    async fn send_with_endings<C: LimiterCall>(
        &self,
        make: impl FnOnce(Vec<Ending>) -> C,
    ) -> ApiResult<C::Answer> {
        let endings = take_endings(&self.name);
        let carried = endings.clone();
        let answer = self.send(&make(endings)).await;
        if answer.is_err() {
            requeue(&self.name, carried);
        }
        answer
    }

    /// Decides and, when admitted, reserves. The reservation is returned
    /// unless the request was blocked.
    pub async fn reserve(
        self,
        request: shared::ledger::ReserveRequest,
        prompt_tokens: u64,
        price: Option<ModelPrice>,
        tiers: BTreeMap<String, Tier>,
        tier_pinned: bool,
        funnel: Option<shared::funnel::FunnelPolicy>,
    ) -> ApiResult<(ReserveAnswer, Option<Reservation>)> {
        let request_id = request.request_id.clone();
        let estimate = request.estimate_tokens;
        let subject = self.subject.clone();
        let answer = self
            .send_with_endings(|endings| ReserveCall {
                subject,
                request,
                endings,
                tiers,
                tier_pinned,
                funnel,
            })
            .await?;
        let admitted = answer.decision.verdict != shared::decision::Verdict::Block;
        let reservation = admitted.then(|| Reservation {
            held: Some(Held {
                counter: self,
                request_id,
                prompt_tokens,
                estimate,
                price,
            }),
        });
        Ok((answer, reservation))
    }

    /// Reads or changes the identity's record.
    pub async fn record(
        &self,
        op: RecordOp,
        tiers: BTreeMap<String, Tier>,
    ) -> ApiResult<RecordAnswer> {
        self.send(&RecordCall { op, tiers }).await
    }

    /// Usage of every window of `tier` (queued endings applied first).
    /// With `tiers`, the identity's record may put another tier or its own
    /// limits in force (unless `tier_pinned`), as on admission.
    pub async fn read(
        &self,
        tier_name: &str,
        tier: Tier,
        tiers: BTreeMap<String, Tier>,
        tier_pinned: bool,
    ) -> ApiResult<ReadAnswer> {
        let subject = Some(self.subject.clone());
        self.send_with_endings(|endings| ReadCall {
            tier,
            tier_name: tier_name.to_string(),
            tiers,
            tier_pinned,
            endings,
            subject,
        })
        .await
    }

    /// Sends the identity's queued endings now (nothing when none are queued).
    pub async fn flush(&self) -> ApiResult<()> {
        let endings = take_endings(&self.name);
        if endings.is_empty() {
            return Ok(());
        }
        let call = SettleCall {
            subject: self.subject.clone(),
            endings,
        };
        if let Err(e) = self.send(&call).await {
            requeue(&self.name, call.endings);
            return Err(e);
        }
        Ok(())
    }
}

struct Queued {
    endings: Vec<Ending>,
    /// A flush is scheduled for this identity.
    timer: bool,
}

thread_local! {
    /// Endings not yet delivered, per limiter name (this isolate only).
    static QUEUE: RefCell<HashMap<String, Queued>> = RefCell::new(HashMap::new());
}

fn take_endings(name: &str) -> Vec<Ending> {
    QUEUE.with(|q| {
        q.borrow_mut()
            .get_mut(name)
            .map(|e| std::mem::take(&mut e.endings))
            .unwrap_or_default()
    })
}

fn requeue(name: &str, endings: Vec<Ending>) {
    if endings.is_empty() {
        return;
    }
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let entry = q.entry(name.to_string()).or_insert_with(|| Queued {
            endings: Vec::new(),
            timer: false,
        });
        entry.endings.extend(endings);
    });
}

/// Queues an ending; answers whether the caller must schedule the flush.
fn queue(name: &str, ending: Ending) -> bool {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let entry = q.entry(name.to_string()).or_insert_with(|| Queued {
            endings: Vec::new(),
            timer: false,
        });
        entry.endings.push(ending);
        !std::mem::replace(&mut entry.timer, true)
    })
}

/// After [`FOLD_MS`], sends what no other call carried, and forgets the
/// identity's queue entry when it is empty.
async fn flush_later(counter: Counter) {
    Delay::from(Duration::from_millis(FOLD_MS)).await;
    QUEUE.with(|q| {
        if let Some(e) = q.borrow_mut().get_mut(&counter.name) {
            e.timer = false;
        }
    });
    if let Err(e) = counter.flush().await {
        console_error!("settle flush failed (the lease alarm is the backstop): {e}");
    }
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        if q.get(&counter.name)
            .is_some_and(|e| e.endings.is_empty() && !e.timer)
        {
            q.remove(&counter.name);
        }
    });
}

struct Held {
    counter: Counter,
    request_id: String,
    /// Prompt estimate and the whole reservation, for [`counted_usage`].
    prompt_tokens: u64,
    estimate: u64,
    /// The model's price in force at admission: the settlement is priced
    /// with it (no price: the request costs 0).
    price: Option<ModelPrice>,
}

impl Held {
    fn cost(&self, usage: &Usage) -> u64 {
        self.price.map_or(0, |p| p.cost(usage))
    }
}

/// An admitted request's reservation. Only [`Reservation::settle`] and
/// [`Reservation::release`] consume it; a reservation dropped unconsumed is
/// released (queued, sent with the identity's next call or by the lease
/// alarm's expiry at the latest).
#[must_use = "a reservation must be settled or released"]
pub struct Reservation {
    held: Option<Held>,
}

impl Reservation {
    /// The provider answered an error before any byte: not counted. Sent
    /// at once.
    pub async fn release(mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let counter = &held.counter;
        let mut endings = take_endings(&counter.name);
        endings.push(Ending::Release {
            request_id: held.request_id.clone(),
        });
        let call = SettleCall {
            subject: counter.subject.clone(),
            endings,
        };
        if let Err(e) = counter.send(&call).await {
            console_error!("release {}: {e}", held.request_id);
            requeue(&counter.name, call.endings);
        }
    }

    /// Settles once `outcome` resolves (in `waitUntil`, after the last
    /// byte): the provider's usage when the answer completed, else at least
    /// the reservation.
    pub fn settle(mut self, ctx: &Context, outcome: impl Future<Output = AnswerOutcome> + 'static) {
        let Some(held) = self.held.take() else {
            return;
        };
        ctx.wait_until(async move {
            let usage = counted_usage(&outcome.await, held.prompt_tokens, held.estimate);
            let ending = Ending::Settle {
                cost: held.cost(&usage),
                request_id: held.request_id,
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                flagged: usage.flagged,
            };
            if queue(&held.counter.name, ending) {
                flush_later(held.counter).await;
            }
        });
    }
}

impl Reservation {
    /// A whole (non-stream) answer was read: settles it as completed with
    /// the usage it reported and gives back its value; when it could not be
    /// read (`Err`), releases the reservation and gives back the error.
    pub async fn settle_read<T>(
        self,
        ctx: &Context,
        read: Result<(T, Option<Usage>), ApiError>,
    ) -> Result<T, ApiError> {
        match read {
            Ok((value, usage)) => {
                self.settle(
                    ctx,
                    std::future::ready(AnswerOutcome {
                        usage,
                        output_chars: 0,
                        completed: true,
                    }),
                );
                Ok(value)
            }
            Err(e) => {
                self.release().await;
                Err(e)
            }
        }
    }
}

impl Reservation {
    /// Counts the reservation as this request's usage at once (per-IP
    /// caps count reservations, not the provider's usage). Queued like a
    /// settlement: the counter's next call carries it, or it is sent after
    /// [`FOLD_MS`], or the lease alarm counts the same amount.
    pub fn settle_at_estimate(mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let usage = Usage::new(
            held.prompt_tokens,
            held.estimate.saturating_sub(held.prompt_tokens),
        );
        let ending = Ending::Settle {
            cost: held.cost(&usage),
            request_id: held.request_id,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            flagged: false,
        };
        if queue(&held.counter.name, ending) {
            wasm_bindgen_futures::spawn_local(flush_later(held.counter));
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            let ending = Ending::Release {
                request_id: held.request_id,
            };
            if queue(&held.counter.name, ending) {
                wasm_bindgen_futures::spawn_local(flush_later(held.counter));
            }
        }
    }
}

/// Proves the namespace works: a ping on a dedicated health object.
pub async fn ping(env: &Env) -> ApiResult<()> {
    object_state(env, "__health", "__health").await.map(|_| ())
}

/// An identity's object as it stands (its alarm, its open leases): the
/// health check, and a test stack's view of an object.
pub async fn object_state(env: &Env, project_id: &str, identity: &str) -> ApiResult<PingAnswer> {
    Counter::open(env, project_id, identity)?
        .send(&PingCall {})
        .await
}
