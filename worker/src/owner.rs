//! The dashboard API router (docs/API.md, "Owner API"): auth, projects,
//! rules, analytics, webhooks. The route was matched in the route table
//! (`shared::routes`); every `/api/projects/{id}/*` route loads the project
//! through [`projects::load_owned`], which filters by the authenticated owner.

use crate::auth::{self, require_owner};
use crate::config::Config;
use crate::http::percent_decode;
use crate::http::ApiResult;
use crate::webhooks::api as webhooks;
use crate::{analytics_api, budgets_api, cost_api, funnel_api, identities, projects, rules_api};
use shared::routes::{Params, RouteId};
use shared::ApiError;
use worker::{Env, Request, Response};

pub async fn route(
    req: Request,
    env: &Env,
    cfg: &Config,
    route: RouteId,
    params: Params<'_>,
) -> ApiResult<Response> {
    match route {
        RouteId::MagicLink => return auth::magic_link(req, env, cfg).await,
        RouteId::Verify => return auth::verify(req, env, cfg).await,
        RouteId::Me => return auth::me(req, env, cfg).await,
        RouteId::SignOutAll => return auth::sign_out_all(req, env, cfg).await,
        RouteId::ServerListIdentities
        | RouteId::ServerGetIdentity
        | RouteId::ServerPatchIdentity
        | RouteId::ServerDeleteIdentity
        | RouteId::ServerGiftIdentity => {
            return identities::server(req, env, cfg, route, params).await
        }
        _ => {}
    }
    let (owner, client) = require_owner(&req, env, cfg).await?;
    let id = params.first();
    match route {
        RouteId::ListProjects => projects::list(&client, &owner).await,
        RouteId::CreateProject => projects::create(req, &client, &owner, cfg).await,
        RouteId::GetProject => projects::get(&client, &owner, id).await,
        RouteId::PatchProject => projects::patch(req, &client, &owner, id, cfg).await,
        RouteId::DeleteProject => projects::delete(&client, &owner, id).await,
        RouteId::RotateProjectKey => projects::rotate_key(&client, &owner, id).await,
        RouteId::RotateSecretKey => projects::rotate_secret(&client, &owner, id, cfg).await,
        RouteId::RuleTemplates => rules_api::templates(),
        RouteId::ListRules => rules_api::list(&client, &owner, id).await,
        RouteId::CreateRule => rules_api::create(req, &client, &owner, id).await,
        RouteId::SimulateRules => rules_api::simulate(req, &client, &owner, id).await,
        RouteId::PatchRule => rules_api::patch(req, &client, &owner, id, params.second()).await,
        RouteId::DeleteRule => rules_api::delete(&client, &owner, id, params.second()).await,
        RouteId::UsageSummary => analytics_api::summary(&req, &client, &owner, id).await,
        RouteId::UsageByIdentity => analytics_api::by_identity(&req, &client, &owner, id).await,
        RouteId::UsageTimeseries => analytics_api::timeseries(&req, &client, &owner, id).await,
        RouteId::RuleTriggers => analytics_api::rule_triggers(&req, &client, &owner, id).await,
        RouteId::RecentTriggers => analytics_api::recent_triggers(&req, &client, &owner, id).await,
        RouteId::CostAnalytics => cost_api::costs(&req, &client, &owner, id).await,
        RouteId::ModelPrices => cost_api::prices(&client, &owner, id).await,
        RouteId::UpgradeFunnel => funnel_api::report(&req, &client, &owner, id).await,
        RouteId::Identity => {
            let identity = percent_decode(params.second())?;
            analytics_api::identity(&req, env, &client, &owner, id, &identity).await
        }
        RouteId::ResetIdentity => {
            let identity = percent_decode(params.second())?;
            analytics_api::reset_identity(&req, env, &client, &owner, id, &identity).await
        }
        RouteId::ListBudgets => budgets_api::list(env, &client, &owner, id).await,
        RouteId::SetBudget => budgets_api::set(req, env, &client, &owner, id).await,
        RouteId::DeleteBudget => {
            budgets_api::delete(env, &client, &owner, id, params.second()).await
        }
        RouteId::ListIdentityRecords
        | RouteId::GetIdentityRecord
        | RouteId::PatchIdentityRecord
        | RouteId::DeleteIdentityRecord
        | RouteId::GiftIdentityRecord => {
            identities::dashboard(req, env, &client, &owner, route, params).await
        }
        RouteId::ListWebhooks => webhooks::list(&client, &owner, id).await,
        RouteId::CreateWebhook => webhooks::create(req, &client, &owner, id, cfg).await,
        RouteId::PatchWebhook => {
            webhooks::patch(req, &client, &owner, id, params.second(), cfg).await
        }
        RouteId::DeleteWebhook => webhooks::delete(&client, &owner, id, params.second()).await,
        RouteId::RotateWebhookSecret => {
            webhooks::rotate_secret(&client, &owner, id, params.second(), cfg).await
        }
        RouteId::TestWebhook => {
            webhooks::test_send(req, env, &client, &owner, id, params.second()).await
        }
        RouteId::ListWebhookDeliveries => webhooks::deliveries(&req, &client, &owner, id).await,
        RouteId::RedeliverWebhook => {
            webhooks::redeliver(env, &client, &owner, id, params.second()).await
        }
        // Served by the Worker's entry, never routed here.
        RouteId::Healthz
        | RouteId::ProxyChat
        | RouteId::ProxyChatStream
        | RouteId::OpenAiChatCompletions
        | RouteId::OpenAiResponses
        | RouteId::AnthropicMessages
        | RouteId::OpenAiEmbeddings
        | RouteId::ProxyEmbeddings
        | RouteId::Usage
        | RouteId::TrackedRedirect
        | RouteId::MagicLink
        | RouteId::Verify
        | RouteId::Me
        | RouteId::SignOutAll
        | RouteId::ServerListIdentities
        | RouteId::ServerGetIdentity
        | RouteId::ServerPatchIdentity
        | RouteId::ServerDeleteIdentity
        | RouteId::ServerGiftIdentity => Err(ApiError::not_found("Route")),
    }
}
