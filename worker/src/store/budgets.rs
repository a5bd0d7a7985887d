//! Project budgets as stored: the copy of a project's budget list that the
//! proxy's project cache loads (the project's `ProjectBudget` object holds
//! the list in force; the owner API writes this copy after the object took
//! a change). One row per project with budgets, the list as JSON.

use super::{col, Client, StoreError};
use shared::project_budget::BudgetSpec;

/// A project's budgets (none when it has no row).
pub async fn load(client: &Client, project_id: &str) -> Result<Vec<BudgetSpec>, StoreError> {
    let row = client
        .query_opt(
            "SELECT budgets::text AS budgets FROM project_budgets WHERE project_id = $1",
            &[&project_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    let text: String = col(&row, "budgets")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Failed(format!("stored budgets: {e}")))
}

/// Replaces a project's budgets (an empty list removes its row).
pub async fn replace(
    client: &Client,
    project_id: &str,
    budgets: &[BudgetSpec],
) -> Result<(), StoreError> {
    if budgets.is_empty() {
        client
            .execute(
                "DELETE FROM project_budgets WHERE project_id = $1",
                &[&project_id],
            )
            .await?;
        return Ok(());
    }
    let text = serde_json::to_string(budgets)
        .map_err(|e| StoreError::Failed(format!("budgets json: {e}")))?;
    client
        .execute(
            "INSERT INTO project_budgets (project_id, budgets) VALUES ($1, $2::text::jsonb) \
             ON CONFLICT (project_id) DO UPDATE SET budgets = excluded.budgets, updated_at = now()",
            &[&project_id, &text],
        )
        .await?;
    Ok(())
}
