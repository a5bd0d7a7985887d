//! A Postgres connection through the Hyperdrive binding.
//!
//! Hyperdrive hands out a socket to its pool; `tokio-postgres` speaks the
//! protocol over it and the connection task is driven by
//! `spawn_local`. One connection per call site: Hyperdrive pools them, so
//! opening one is cheap in production and a local TCP connect in dev.

use futures_util::future::{select, Either};
use std::future::Future;
use std::time::Duration;
use worker::{console_error, Delay, Env, Error, Result};

pub use tokio_postgres::Client;

/// Name of the Hyperdrive binding in `wrangler.toml`.
pub const HYPERDRIVE_BINDING: &str = "HYPERDRIVE";

pub async fn connect(env: &Env) -> Result<Client> {
    let hd = env.hyperdrive(HYPERDRIVE_BINDING)?;
    let mut config = tokio_postgres::Config::new();
    config
        .user(hd.user())
        .password(hd.password())
        .dbname(hd.database())
        .host(hd.host());
    let socket = hd.connect()?;
    let (client, connection) = config
        .connect_raw(socket, tokio_postgres::NoTls)
        .await
        .map_err(pg_error)?;
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = connection.await {
            console_error!("postgres connection ended: {e}");
        }
    });
    Ok(client)
}

/// Converts a Postgres error into a worker error (logged by callers, never
/// sent to clients: it may carry SQL).
pub fn pg_error(e: tokio_postgres::Error) -> Error {
    Error::RustError(format!("postgres: {e}"))
}

/// Runs `fut` until it completes or `ms` pass, whichever is first; `None`
/// when the deadline passed (the call is dropped).
pub async fn within<T>(ms: u64, fut: impl Future<Output = T>) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let delay = std::pin::pin!(Delay::from(Duration::from_millis(ms)));
    match select(fut, delay).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}
