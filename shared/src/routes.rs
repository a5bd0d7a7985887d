//! The route table: every method and path the Worker serves, in one place.
//!
//! The Worker dispatches every request through [`match_route`], so a path
//! that is served is a path listed here; a known path with another method is
//! `405` with `allow` (from the same table), anything else `404`. Paths use
//! OpenAPI's template syntax (`/api/projects/{id}`), and a test checks that
//! `docs/openapi.yaml` documents exactly these routes, so the reference
//! cannot drift from the router.

/// The methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What a route does; the Worker maps each to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    Healthz,
    ProxyChat,
    ProxyChatStream,
    OpenAiChatCompletions,
    OpenAiResponses,
    AnthropicMessages,
    OpenAiEmbeddings,
    ProxyEmbeddings,
    Usage,
    MagicLink,
    Verify,
    Me,
    SignOutAll,
    ListProjects,
    CreateProject,
    GetProject,
    PatchProject,
    DeleteProject,
    RotateProjectKey,
    RotateSecretKey,
    RuleTemplates,
    ListRules,
    CreateRule,
    SimulateRules,
    PatchRule,
    DeleteRule,
    UsageSummary,
    UsageByIdentity,
    UsageTimeseries,
    RuleTriggers,
    RecentTriggers,
    CostAnalytics,
    ModelPrices,
    Identity,
    ResetIdentity,
    ServerListIdentities,
    ServerGetIdentity,
    ServerPatchIdentity,
    ServerDeleteIdentity,
    ServerGiftIdentity,
    ListIdentityRecords,
    GetIdentityRecord,
    PatchIdentityRecord,
    DeleteIdentityRecord,
    GiftIdentityRecord,
    ListBudgets,
    SetBudget,
    DeleteBudget,
    UpgradeFunnel,
    TrackedRedirect,
    ListWebhooks,
    CreateWebhook,
    PatchWebhook,
    DeleteWebhook,
    RotateWebhookSecret,
    TestWebhook,
    ListWebhookDeliveries,
    RedeliverWebhook,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub id: RouteId,
}

const fn route(method: Method, path: &'static str, id: RouteId) -> Route {
    Route { method, path, id }
}

use Method::{Delete, Get, Patch, Post};
use RouteId as R;

/// Every route, grouped as the reference groups them.
pub const ROUTES: &[Route] = &[
    route(Get, "/healthz", R::Healthz),
    // Proxy (project key)
    route(Post, "/api/v1/proxy/chat", R::ProxyChat),
    route(Post, "/api/v1/proxy/chat/stream", R::ProxyChatStream),
    route(Post, "/v1/chat/completions", R::OpenAiChatCompletions),
    route(Post, "/v1/responses", R::OpenAiResponses),
    route(Post, "/v1/messages", R::AnthropicMessages),
    route(Post, "/v1/embeddings", R::OpenAiEmbeddings),
    route(Post, "/api/v1/proxy/embeddings", R::ProxyEmbeddings),
    route(Get, "/api/v1/usage", R::Usage),
    // Tracked deep links (the upgrade funnel)
    route(Get, "/r/{token}", R::TrackedRedirect),
    // Owner sign-in
    route(Post, "/api/auth/magic-link", R::MagicLink),
    route(Post, "/api/auth/verify", R::Verify),
    route(Get, "/api/auth/me", R::Me),
    route(Post, "/api/auth/sign-out-all", R::SignOutAll),
    // Projects
    route(Get, "/api/projects", R::ListProjects),
    route(Post, "/api/projects", R::CreateProject),
    route(Get, "/api/projects/{id}", R::GetProject),
    route(Patch, "/api/projects/{id}", R::PatchProject),
    route(Delete, "/api/projects/{id}", R::DeleteProject),
    route(Post, "/api/projects/{id}/keys/rotate", R::RotateProjectKey),
    route(Post, "/api/projects/{id}/secret/rotate", R::RotateSecretKey),
    // Rules
    route(Get, "/api/rule-templates", R::RuleTemplates),
    route(Get, "/api/projects/{id}/rules", R::ListRules),
    route(Post, "/api/projects/{id}/rules", R::CreateRule),
    route(Post, "/api/projects/{id}/rules/simulate", R::SimulateRules),
    route(Patch, "/api/projects/{id}/rules/{ruleId}", R::PatchRule),
    route(Delete, "/api/projects/{id}/rules/{ruleId}", R::DeleteRule),
    // Usage and analytics
    route(Get, "/api/projects/{id}/usage/summary", R::UsageSummary),
    route(
        Get,
        "/api/projects/{id}/usage/by-identity",
        R::UsageByIdentity,
    ),
    route(
        Get,
        "/api/projects/{id}/usage/timeseries",
        R::UsageTimeseries,
    ),
    route(
        Get,
        "/api/projects/{id}/analytics/rule-triggers",
        R::RuleTriggers,
    ),
    route(
        Get,
        "/api/projects/{id}/analytics/recent-triggers",
        R::RecentTriggers,
    ),
    route(Get, "/api/projects/{id}/analytics/costs", R::CostAnalytics),
    route(Get, "/api/projects/{id}/prices", R::ModelPrices),
    route(Get, "/api/projects/{id}/analytics/funnel", R::UpgradeFunnel),
    route(Get, "/api/projects/{id}/identities/{identity}", R::Identity),
    route(
        Post,
        "/api/projects/{id}/identities/{identity}/reset",
        R::ResetIdentity,
    ),
    // Identity records: the owner's backend (secret key)
    route(Get, "/api/v1/identities", R::ServerListIdentities),
    route(Get, "/api/v1/identities/{identity}", R::ServerGetIdentity),
    route(
        Patch,
        "/api/v1/identities/{identity}",
        R::ServerPatchIdentity,
    ),
    route(
        Delete,
        "/api/v1/identities/{identity}",
        R::ServerDeleteIdentity,
    ),
    route(
        Post,
        "/api/v1/identities/{identity}/credits",
        R::ServerGiftIdentity,
    ),
    // Identity records: the dashboard (owner session)
    route(
        Get,
        "/api/projects/{id}/identity-records",
        R::ListIdentityRecords,
    ),
    route(
        Get,
        "/api/projects/{id}/identity-records/{identity}",
        R::GetIdentityRecord,
    ),
    route(
        Patch,
        "/api/projects/{id}/identity-records/{identity}",
        R::PatchIdentityRecord,
    ),
    route(
        Delete,
        "/api/projects/{id}/identity-records/{identity}",
        R::DeleteIdentityRecord,
    ),
    route(
        Post,
        "/api/projects/{id}/identity-records/{identity}/credits",
        R::GiftIdentityRecord,
    ),
    // Webhooks
    route(Get, "/api/projects/{id}/webhooks", R::ListWebhooks),
    route(Post, "/api/projects/{id}/webhooks", R::CreateWebhook),
    route(
        Patch,
        "/api/projects/{id}/webhooks/{webhookId}",
        R::PatchWebhook,
    ),
    route(
        Delete,
        "/api/projects/{id}/webhooks/{webhookId}",
        R::DeleteWebhook,
    ),
    route(
        Post,
        "/api/projects/{id}/webhooks/{webhookId}/secret/rotate",
        R::RotateWebhookSecret,
    ),
    route(
        Post,
        "/api/projects/{id}/webhooks/{webhookId}/test",
        R::TestWebhook,
    ),
    route(
        Get,
        "/api/projects/{id}/webhook-deliveries",
        R::ListWebhookDeliveries,
    ),
    route(
        Post,
        "/api/projects/{id}/webhook-deliveries/{deliveryId}/redeliver",
        R::RedeliverWebhook,
    ),
    // Project budgets (owner session)
    route(Get, "/api/projects/{id}/budgets", R::ListBudgets),
    route(Post, "/api/projects/{id}/budgets", R::SetBudget),
    route(
        Delete,
        "/api/projects/{id}/budgets/{budgetId}",
        R::DeleteBudget,
    ),
];

/// The most `{params}` a path template has.
pub const MAX_PARAMS: usize = 2;

/// The raw (still percent-encoded) path parameters, in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    values: [&'a str; MAX_PARAMS],
}

impl<'a> Params<'a> {
    /// The first parameter (`{id}`), empty when the route has none.
    pub fn first(&self) -> &'a str {
        self.values[0]
    }

    /// The second parameter (`{ruleId}`, `{identity}`).
    pub fn second(&self) -> &'a str {
        self.values[1]
    }
}

/// The outcome of looking a request up in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched<'a> {
    Found {
        id: RouteId,
        params: Params<'a>,
    },
    /// The path is served, with other methods: the `allow` header's value.
    WrongMethod {
        allow: String,
    },
    NotFound,
}

/// Matches `path` against one template; `{x}` matches one non-empty
/// segment. Answers the parameters and how many literal segments matched.
fn match_template<'a>(template: &str, path: &'a str) -> Option<(Params<'a>, usize)> {
    let mut params = Params::default();
    let mut n = 0;
    let mut literals = 0;
    let mut segments = path.split('/');
    for t in template.split('/') {
        let s = segments.next()?;
        if t.starts_with('{') {
            if s.is_empty() || n == MAX_PARAMS {
                return None;
            }
            params.values[n] = s;
            n += 1;
        } else if t == s {
            literals += 1;
        } else {
            return None;
        }
    }
    segments.next().is_none().then_some((params, literals))
}

/// Finds the route for `method` (None: a method the API never uses, such
/// as HEAD or PUT) and `path`. When several templates match, the most
/// specific ones (most literal segments) name the resource:
/// `/rules/simulate` is the simulator, never a rule called `simulate`.
pub fn match_route(method: Option<Method>, path: &str) -> Matched<'_> {
    let mut best: Vec<(&Route, Params<'_>)> = Vec::new();
    let mut best_literals = 0;
    for r in ROUTES {
        if let Some((params, literals)) = match_template(r.path, path) {
            if best.is_empty() || literals > best_literals {
                best.clear();
                best_literals = literals;
            }
            if literals == best_literals {
                best.push((r, params));
            }
        }
    }
    if let Some((r, params)) = best.iter().find(|(r, _)| Some(r.method) == method) {
        return Matched::Found {
            id: r.id,
            params: *params,
        };
    }
    if best.is_empty() {
        return Matched::NotFound;
    }
    let mut allow: Vec<&str> = best.iter().map(|(r, _)| r.method.as_str()).collect();
    allow.push("OPTIONS");
    Matched::WrongMethod {
        allow: allow.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: Method, path: &str) -> Option<(RouteId, Params<'_>)> {
        match match_route(Some(method), path) {
            Matched::Found { id, params } => Some((id, params)),
            _ => None,
        }
    }

    #[test]
    fn every_route_matches_its_own_template_with_sample_params() {
        for r in ROUTES {
            let path = r
                .path
                .replace("{id}", "p1")
                .replace("{ruleId}", "r1")
                .replace("{identity}", "u%201");
            assert_eq!(
                found(r.method, &path).map(|f| f.0),
                Some(r.id),
                "{}",
                r.path
            );
        }
    }

    #[test]
    fn params_come_out_in_template_order() {
        let (id, p) = found(Method::Patch, "/api/projects/abc/rules/r9")
            .unwrap_or((R::Healthz, Params::default()));
        assert_eq!(id, R::PatchRule);
        assert_eq!((p.first(), p.second()), ("abc", "r9"));
    }

    #[test]
    fn literal_segments_win_over_params_by_table_order() {
        assert_eq!(
            found(Method::Post, "/api/projects/p/rules/simulate").map(|f| f.0),
            Some(R::SimulateRules)
        );
    }

    #[test]
    fn a_known_path_with_another_method_lists_the_allowed_ones() {
        assert_eq!(
            match_route(Some(Method::Delete), "/api/projects"),
            Matched::WrongMethod {
                allow: "GET, POST, OPTIONS".into()
            }
        );
        assert_eq!(
            match_route(None, "/v1/chat/completions"),
            Matched::WrongMethod {
                allow: "POST, OPTIONS".into()
            }
        );
        assert_eq!(
            match_route(Some(Method::Get), "/api/projects/p/rules/r"),
            Matched::WrongMethod {
                allow: "PATCH, DELETE, OPTIONS".into()
            }
        );
    }

    #[test]
    fn unknown_paths_empty_params_and_trailing_segments_are_not_found() {
        for path in [
            "/",
            "/api/projects/",
            "/api/projects//rules",
            "/api/projects/p/rules/r/x",
            "/v1/models",
            "/healthz/x",
        ] {
            assert_eq!(
                match_route(Some(Method::Get), path),
                Matched::NotFound,
                "{path}"
            );
        }
    }

    #[test]
    fn no_two_routes_share_a_method_and_template() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {}",
                    a.method.as_str(),
                    a.path
                );
            }
        }
    }
}
