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
