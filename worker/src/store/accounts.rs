//! Accounts, sessions and sign-in links as stored: the counted inserts
//! behind the sign-in rate limits, redeeming a link, the account upsert,
//! and the session check (the account's session epoch).

use super::{col, Client, StoreError};

/// An account as a session sees it.
pub struct Account {
    pub id: String,
    pub session_epoch: i64,
}

/// Records a sign-in attempt from `ip` unless it already made `limit` in
/// the last minute (counted under the address's lock). True when recorded.
pub async fn count_ip_attempt(
    client: &mut Client,
    ip: &str,
    limit: i64,
) -> Result<bool, StoreError> {
    client
        .serialised_by(
            &format!("ip:{ip}"),
            "INSERT INTO auth_attempts (ip) SELECT $1 \
             WHERE (SELECT count(*) FROM auth_attempts WHERE ip = $1 \
                    AND created_at > now() - interval '1 minute') < $2 \
             RETURNING 1",
            &[&ip, &limit],
        )
        .await
}

/// Stores a sign-in link (its token's hash) valid for `ttl_minutes`,
/// unless `email` already got `per_window` links in the last 15 minutes
/// (counted under the address's lock). True when stored.
pub async fn insert_magic_link(
    client: &mut Client,
    token_hash: &str,
    email: &str,
    ttl_minutes: i32,
    per_window: i64,
) -> Result<bool, StoreError> {
    client
        .serialised_by(
            &format!("email:{email}"),
            "INSERT INTO magic_links (token_hash, email, expires_at) \
             SELECT $1, $2, now() + make_interval(mins => $3::int) \
             WHERE (SELECT count(*) FROM magic_links WHERE email = $2 \
                    AND created_at > now() - interval '15 minutes') < $4 \
             RETURNING 1",
            &[&token_hash, &email, &ttl_minutes, &per_window],
        )
        .await
}

/// Marks an unused, unexpired link used; its email, or `None` when the
/// link is unknown, used or expired (two redeems: one wins).
pub async fn redeem_magic_link(
    client: &Client,
    token_hash: &str,
) -> Result<Option<String>, StoreError> {
    let row = client
        .query_opt(
            "UPDATE magic_links SET used_at = now() \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() \
             RETURNING email",
            &[&token_hash],
        )
        .await?;
    row.as_ref().map(|r| col(r, "email")).transpose()
}

/// The account of `email`, created with `new_id` if there is none.
pub async fn upsert(client: &Client, new_id: &str, email: &str) -> Result<Account, StoreError> {
    let row = client
        .query_one(
            "INSERT INTO accounts (id, email) VALUES ($1, $2) \
             ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email \
             RETURNING id, email, session_epoch",
            &[&new_id, &email],
        )
        .await?;
    Ok(Account {
        id: col(&row, "id")?,
        session_epoch: col(&row, "session_epoch")?,
    })
}

/// `(id, email)` of the account `id` while its session epoch is `epoch`.
pub async fn by_session(
    client: &Client,
    id: &str,
    epoch: i64,
) -> Result<Option<(String, String)>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id, email FROM accounts WHERE id = $1 AND session_epoch = $2",
            &[&id, &epoch],
        )
        .await?;
    row.as_ref()
        .map(|r| Ok((col(r, "id")?, col(r, "email")?)))
        .transpose()
}

/// Moves the account's session epoch on, ending every session issued before.
pub async fn end_all_sessions(client: &Client, id: &str) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE accounts SET session_epoch = session_epoch + 1 WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(())
}
