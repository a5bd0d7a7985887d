//! Rules as stored: a project's rules in evaluation order (priority, then
//! creation), mapped by column name. A stored condition or action that does
//! not parse is [`StoreError::Failed`] (a bug: 500).

use super::{col, Client, StoreError};
use shared::rules::{Action, Condition, Rule};

/// A project's rules in evaluation order; only the enabled ones if asked.
pub async fn load(
    client: &Client,
    project_id: &str,
    enabled_only: bool,
) -> Result<Vec<Rule>, StoreError> {
    let rows = client
        .query(
            "SELECT id, name, enabled, priority, condition::text AS condition, \
               action::text AS action FROM rules \
             WHERE project_id = $1 AND (enabled OR NOT $2) ORDER BY priority, seq",
            &[&project_id, &enabled_only],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let condition: String = col(r, "condition")?;
            let action: String = col(r, "action")?;
            Ok(Rule {
                id: col(r, "id")?,
                name: col(r, "name")?,
                enabled: col(r, "enabled")?,
                priority: col(r, "priority")?,
                condition: serde_json::from_str::<Condition>(&condition)
                    .map_err(|e| StoreError::Failed(format!("stored condition: {e}")))?,
                action: serde_json::from_str::<Action>(&action)
                    .map_err(|e| StoreError::Failed(format!("stored action: {e}")))?,
            })
        })
        .collect()
}

/// A rule as written: condition and action as JSON text.
pub struct RuleWrite<'a> {
    pub id: &'a str,
    pub project_id: &'a str,
    pub name: &'a str,
    pub enabled: bool,
    pub priority: i64,
    pub condition: &'a str,
    pub action: &'a str,
}

/// Updates a rule of a project; the number of rows changed (0: no such rule).
pub async fn update(client: &Client, r: &RuleWrite<'_>) -> Result<u64, StoreError> {
    client
        .execute(
            "UPDATE rules SET name = $3, enabled = $4, priority = $5, condition = $6::text::jsonb, \
               action = $7::text::jsonb, updated_at = now() \
             WHERE id = $1 AND project_id = $2",
            &[
                &r.id,
                &r.project_id,
                &r.name,
                &r.enabled,
                &r.priority,
                &r.condition,
                &r.action,
            ],
        )
        .await
}

/// Inserts a rule unless the project already has `max` rules; the number
/// of rows inserted (0: the project is full). The project row is locked
/// first, so concurrent creates are serialised and each count sees the
/// rules committed before it.
pub async fn insert_bounded(
    client: &Client,
    r: &RuleWrite<'_>,
    max: i64,
) -> Result<u64, StoreError> {
    client.batch_execute("BEGIN").await?;
    let result = async {
        client
            .execute(
                "SELECT 1 FROM projects WHERE id = $1 FOR UPDATE",
                &[&r.project_id],
            )
            .await?;
        client
            .execute(
                "INSERT INTO rules (id, project_id, name, enabled, priority, condition, action) \
                 SELECT $1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb \
                 WHERE (SELECT count(*) FROM rules WHERE project_id = $2) < $8",
                &[
                    &r.id,
                    &r.project_id,
                    &r.name,
                    &r.enabled,
                    &r.priority,
                    &r.condition,
                    &r.action,
                    &max,
                ],
            )
            .await
    }
    .await;
    client
        .batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await?;
    result
}

/// Deletes a rule of a project; the number of rows deleted.
pub async fn delete(client: &Client, project_id: &str, rule_id: &str) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM rules WHERE id = $1 AND project_id = $2",
            &[&rule_id, &project_id],
        )
        .await
}
