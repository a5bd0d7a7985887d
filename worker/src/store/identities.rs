//! The `identity_records` index: a copy of each identity's record, written
//! after its Durable Object accepted a change, read by the list.

use super::{col, Client, StoreError};

/// Writes (or replaces) the index row of an identity; `record` is JSON text.
pub async fn upsert(
    client: &Client,
    project_id: &str,
    identity: &str,
    record: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO identity_records (project_id, identity, record, updated_at) \
             VALUES ($1, $2, $3::text::jsonb, now()) \
             ON CONFLICT (project_id, identity) \
             DO UPDATE SET record = EXCLUDED.record, updated_at = now()",
            &[&project_id, &identity, &record],
        )
        .await?;
    Ok(())
}

/// Removes the index row of an identity.
pub async fn remove(client: &Client, project_id: &str, identity: &str) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM identity_records WHERE project_id = $1 AND identity = $2",
            &[&project_id, &identity],
        )
        .await?;
    Ok(())
}

/// Up to `limit` `(identity, record as JSON text)` of a project, by
/// identity, whose identity contains `search` (case-insensitive; empty:
/// all).
pub async fn list(
    client: &Client,
    project_id: &str,
    search: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    client
        .query(
            "SELECT identity, record::text AS record FROM identity_records \
             WHERE project_id = $1 AND ($2 = '' OR strpos(lower(identity), lower($2)) > 0) \
             ORDER BY identity LIMIT $3",
            &[&project_id, &search, &limit],
        )
        .await?
        .iter()
        .map(|r| Ok((col(r, "identity")?, col(r, "record")?)))
        .collect()
}
