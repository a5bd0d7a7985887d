//! The upgrade funnel's rollup (`funnel_daily`) as stored, read for the
//! owner API: per message, summed over a range of days.

use super::{col, Client, StoreError};
use shared::funnel::{FunnelKey, Kind, MessageCounts, Origin};

/// Each message's sums over the `days` days ending `today` (UTC), with the
/// current name of its rule (`None`: no rule, or the rule was deleted).
pub async fn messages(
    client: &Client,
    project_id: &str,
    today: &str,
    days: i32,
) -> Result<Vec<(MessageCounts, Option<String>)>, StoreError> {
    client
        .query(
            "SELECT f.tier, f.kind, f.origin, f.rule_id, f.message_hash, max(f.message) AS message, \
               sum(f.shown)::bigint AS shown, sum(f.linked)::bigint AS linked, \
               sum(f.clicks)::bigint AS clicks, sum(f.upgrades)::bigint AS upgrades, \
               max(r.name) AS rule_name \
             FROM funnel_daily f LEFT JOIN rules r ON r.id = f.rule_id AND r.project_id = f.project_id \
             WHERE f.project_id = $1 AND f.day >= $2::text::date - ($3::int - 1) \
             GROUP BY f.tier, f.kind, f.origin, f.rule_id, f.message_hash \
             ORDER BY f.tier, f.kind, f.rule_id, f.message_hash",
            &[&project_id, &today, &days],
        )
        .await?
        .iter()
        .map(|r| {
            let kind: String = col(r, "kind")?;
            let origin: String = col(r, "origin")?;
            let key = FunnelKey {
                tier: col(r, "tier")?,
                kind: if kind == "warn" { Kind::Warn } else { Kind::Block },
                origin: match origin.as_str() {
                    "rule" => Origin::Rule,
                    "tier" => Origin::Tier,
                    _ => Origin::Default,
                },
                rule_id: col(r, "rule_id")?,
                message_hash: col(r, "message_hash")?,
            };
            Ok((
                MessageCounts {
                    key,
                    message: col(r, "message")?,
                    shown: col(r, "shown")?,
                    linked: col(r, "linked")?,
                    clicks: col(r, "clicks")?,
                    upgrades: col(r, "upgrades")?,
                },
                col(r, "rule_name")?,
            ))
        })
        .collect()
}
