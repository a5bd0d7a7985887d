//! Pure logic of AI Ratelimit, with no dependency on the Workers runtime:
//! errors, calendar windows, tiers, the rule engine, admission decisions, the
//! per-identity ledger, and provider translation. Everything here is tested
//! natively with `cargo test -p shared`.

pub mod budget;
pub mod chat;
pub mod decision;
pub mod error;
pub mod funnel;
pub mod identity;
pub mod ledger;
pub mod limiter_api;
pub mod period;
pub mod pricing;
pub mod project;
pub mod project_budget;
pub mod providers;
pub mod proxy_request;
pub mod routes;
pub mod rule_input;
pub mod rules;
pub mod schema;
pub mod settlement;
pub mod simulate;
pub mod sse;
pub mod templates;
pub mod tier;
pub mod url_guard;
pub mod values;
pub mod webhooks;

pub use error::{ApiError, ErrorCode};
