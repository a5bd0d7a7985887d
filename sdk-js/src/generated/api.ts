/**
 * Wire types of the AI Ratelimit HTTP API, generated from docs/openapi.yaml
 * by sdk-js/scripts/generate-api.mjs. Do not edit: change the document and
 * run `npm run generate -w sdk-js`.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Checks that Postgres and the Durable Object namespace answer, and that the database has every migration this Worker needs. */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/proxy/chat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * One chat completion, counted against the identity's limits.
         * @description OpenAI chat format plus `identity`, `tier`, `identityToken` and
         *     `limitType`. Answers an OpenAI `chat.completion` with an extra
         *     `ratelimit` field, or — with `"stream": true` — an event stream
         *     exactly like `/api/v1/proxy/chat/stream`.
         */
        post: operations["proxyChat"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/proxy/chat/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A streamed chat completion (Server-Sent Events in OpenAI's chunk format).
         * @description Same body as `/api/v1/proxy/chat`; the answer is always a stream
         *     (`stream` in the body cannot turn it off). Errors before the first
         *     event (including the 429) are plain JSON answers.
         */
        post: operations["proxyChatStream"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/proxy/embeddings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Embeddings, metered against the identity's tier (OpenAI's embeddings body + `identity`, `tier`, `identityToken`).
         * @description Counts 1 request and the input tokens the provider reports
         *     (`usage.prompt_tokens`; Gemini reports none, so ⌈input characters /
         *     4⌉ is counted and reported). Embeddings share the tier-wide windows
         *     with chat; a per-model cap naming the embedding model caps them
         *     separately. OpenAI-compatible providers get the body as is; Gemini
         *     gets `batchEmbedContents`; Anthropic has no embeddings API (400).
         *     The answer is OpenAI's `list` of `embedding` objects.
         */
        post: operations["proxyEmbeddings"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/chat/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * OpenAI-compatible chat completions (any OpenAI SDK with `baseURL = <edge>/v1`).
         * @description The project key is the SDK's `apiKey` (`Authorization: Bearer pk_…`,
         *     or `x-project-key`). The identity, tier and identity token come from
         *     the headers `x-identity`, `x-tier`, `x-identity-token` (a header wins
         *     over the same field in the body). `"stream": true` streams. Errors use
         *     OpenAI's envelope so the SDKs raise their usual exceptions.
         */
        post: operations["openaiChatCompletions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/responses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * OpenAI Responses API (`client.responses.create`, the AI SDK's default `openai(model)`).
         * @description Same key, identity, tier and token headers as `/v1/chat/completions`,
         *     same limits, rules, warnings and metering. For `openai` projects the
         *     body is forwarded to the provider's `/responses` as is and its answer
         *     returned unchanged (the usage it reports is counted); for the other
         *     providers the request is translated to the provider's format and the
         *     answer back into a `response` object (`output` items, `usage` with
         *     `input_tokens` and `output_tokens`). `"stream": true` answers the
         *     Responses event stream (`response.created`, …,
         *     `response.output_text.delta`, …, `response.completed` carrying
         *     `usage`). Conversation state (`previous_response_id`, `store: true`)
         *     is the provider's storage on `openai` projects; on any other it is a
         *     400, since the proxy never keeps content. Errors use OpenAI's
         *     envelope.
         */
        post: operations["openaiResponses"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Anthropic Messages format (the Anthropic SDKs with `baseURL = <edge>`).
         * @description The project key is the SDK's `apiKey` (`x-api-key: pk_…`), or
         *     `Authorization: Bearer pk_…` / `x-project-key`; identity, tier and
         *     token come from the same headers as the OpenAI drop-in. For
         *     `anthropic` projects the body is forwarded as is and the answer
         *     returned unchanged; for the others it is translated both ways.
         *     `"stream": true` answers Anthropic's event stream (`message_start`,
         *     `content_block_*`, `message_delta` with `usage`, `message_stop`).
         *     Errors use Anthropic's envelope `{"type":"error","error":{"type",
         *     "message", "code", …}}`; the 429 is a `rate_limit_error` carrying the
         *     upgrade message, deep link and window.
         */
        post: operations["anthropicMessages"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/embeddings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * OpenAI-compatible embeddings (`client.embeddings.create` with `baseURL = <edge>/v1`).
         * @description `/api/v1/proxy/embeddings` as a drop-in: the key as bearer token,
         *     identity, tier and token from the `x-identity`, `x-tier`,
         *     `x-identity-token` headers, errors in OpenAI's envelope.
         */
        post: operations["openaiEmbeddings"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * What an identity has used and has left, per window of its tier.
         * @description With a signed identity (`x-identity-token`) the token decides identity
         *     and tier; otherwise `identity` (required) and optional `tier` come
         *     from the query, which is refused when the project requires signed
         *     identities (with `tierSource: server`, the query's `tier` is ignored).
         *     An identity record applies as on admission (its own limits, its tier
         *     unless pinned); `tier` is the tier in force. Reading never counts.
         */
        get: operations["getIdentityUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/r/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A tracked link's signed token, as issued in a 429's `deepLink`, a warning's `x-ratelimit-deeplink` or `ratelimit.warning.deepLink` (projects with `upgradeFunnel.trackedRedirect`). */
                token: string;
            };
            cookie?: never;
        };
        /**
         * Records the click and redirects to the project's deep link.
         * @description Only links this Worker signed are followed (HMAC-SHA-256 under a key
         *     derived from the server's `JWT_SECRET`); the token names the project,
         *     the tier, the message (kind, rule or tier limit, fingerprint of its
         *     copy), the request that showed it, a keyed hash of the identity and
         *     the deep link rendered for it. Links work 7 days. A forged, altered or
         *     malformed token is `400` and an expired one `410` — an HTML page,
         *     never a redirect. Each shown link counts one click however often it is
         *     opened; a click that cannot be recorded still redirects.
         */
        get: operations["followTrackedLink"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/magic-link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sends a one-time sign-in link (15 minutes, single use).
         * @description The same answer for known and unknown addresses; the first
         *     verification creates the account. At most 5 links per address per 15
         *     minutes, and (outside development) `AUTH_RATE_LIMIT_PER_IP` per
         *     minute per IP. Body cap 16 KiB.
         */
        post: operations["requestMagicLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Redeems a magic-link token for an owner session token. */
        post: operations["verifyMagicLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The signed-in owner. */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/sign-out-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ends every session of the signed-in owner, this one included.
         * @description Sessions carry the account's session epoch; this moves it on, so every session token issued before (on any device) answers 401 from the next request. Signing in again gives a new session.
         */
        post: operations["signOutAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The owner's projects, oldest first. */
        get: operations["listProjects"];
        put?: never;
        /** Creates a project; the answer carries its `sk_` secret once. */
        post: operations["createProject"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** One project. */
        get: operations["getProject"];
        put?: never;
        post?: never;
        /** Deletes the project with its rules; its keys stop working. */
        delete: operations["deleteProject"];
        options?: never;
        head?: never;
        /** Changes the fields given; the others stay. */
        patch: operations["updateProject"];
        trace?: never;
    };
    "/api/projects/{id}/keys/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Issues a new `pk_` project key; the old one stops working. */
        post: operations["rotateProjectKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/secret/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Issues a new `sk_` signing secret (shown once); the old one stops working. */
        post: operations["rotateProjectSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/rule-templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The built-in rule templates; each `rule` is a valid create body. */
        get: operations["listRuleTemplates"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/rules": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** The project's rules in evaluation order (priority, then creation). */
        get: operations["listRules"];
        put?: never;
        /** Adds a rule (at most 50 per project). Applies at once. */
        post: operations["createRule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/rules/simulate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Decides one imagined request exactly as the live path would. */
        post: operations["simulateRules"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/rules/{ruleId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The rule's id (`rule_…`). */
                ruleId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Deletes a rule. Applies at once. */
        delete: operations["deleteRule"];
        options?: never;
        head?: never;
        /** Replaces the fields given (`condition` and `action` as a whole). */
        patch: operations["updateRule"];
        trace?: never;
    };
    "/api/projects/{id}/usage/summary": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** Totals for the current calendar window (UTC). */
        get: operations["getUsageSummary"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/usage/by-identity": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** One row per identity × tier × model (× day for a range), keyset-paged. */
        get: operations["getUsageByIdentity"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/usage/timeseries": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** One entry per UTC day, oldest first, empty days included. */
        get: operations["getUsageTimeseries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/analytics/costs": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /**
         * Spend of the current window per tier, model and identity, with the tier economics.
         * @description Every amount is integer micro-dollars. With `period=month` each tier
         *     and identity carries the tier's monthly price (`tierPrices`) and the
         *     margin; with `day` or `week` those are `null`.
         */
        get: operations["getCosts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/prices": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** The shipped price table, the project's own prices, and the price in force for every model it used. */
        get: operations["getPrices"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/analytics/rule-triggers": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** How often each rule fired over the last days, and per day. */
        get: operations["getRuleTriggers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/analytics/funnel": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /**
         * The upgrade funnel per tier and per rule, and each message's click-through rate.
         * @description Over the last `days` UTC days (today included): per tier, warned →
         *     blocked → clicked → upgraded; the same per rule; and per message (a
         *     rule's or a tier's copy, told apart by a fingerprint of its words, so
         *     an edited message starts afresh) its showings, tracked showings,
         *     clicks, upgrades and CTR = clicks / linked. See docs/API.md, "Upgrade
         *     funnel", for what each count means and how tiers rank. Counts arrive
         *     with the analytics flush (within seconds).
         */
        get: operations["getUpgradeFunnel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/analytics/recent-triggers": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** The latest rule triggers, newest first. */
        get: operations["getRecentTriggers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/identities/{identity}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        /** Live usage of one identity, read from its counter (same shape as `/api/v1/usage`). */
        get: operations["getIdentity"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/identities/{identity}/reset": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Zeroes every counter of the identity (analytics history stays). */
        post: operations["resetIdentity"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/identities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Lists the project's identity records (newest change first is not guaranteed; by identity), for the owner's backend.
         * @description Authenticated with the project's secret key (`Authorization: Bearer sk_…`);
         *     a publishable key or a JWT is `401`. Up to 200 records, ordered by
         *     identity; `search` keeps those whose identity contains it (case-insensitive).
         *     Listed `credits` are as of the record's last change; read one record for its live balance.
         */
        get: operations["serverListIdentities"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/identities/{identity}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        /** One identity's record, live (credits as they are now). */
        get: operations["serverGetIdentity"];
        put?: never;
        post?: never;
        /** Deletes an identity's record (its usage counters stay). */
        delete: operations["serverDeleteIdentity"];
        options?: never;
        head?: never;
        /** Creates or changes an identity's record; the change applies to the very next request. */
        patch: operations["serverPatchIdentity"];
        trace?: never;
    };
    "/api/v1/identities/{identity}/credits": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Gifts credits (adds to the balance atomically); creates the record when there is none. */
        post: operations["serverGiftIdentity"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/identity-records": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** The dashboard's list of identity records (same as `GET /api/v1/identities`). */
        get: operations["listIdentityRecords"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/identity-records/{identity}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        /** One identity's record, live. */
        get: operations["getIdentityRecord"];
        put?: never;
        post?: never;
        /** Deletes an identity's record (its usage counters stay). */
        delete: operations["deleteIdentityRecord"];
        options?: never;
        head?: never;
        /** Creates or changes an identity's record; applies to the very next request. */
        patch: operations["patchIdentityRecord"];
        trace?: never;
    };
    "/api/projects/{id}/identity-records/{identity}/credits": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Gifts credits to an identity (adds atomically). */
        post: operations["giftIdentityRecord"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/budgets": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /**
         * The project's budgets with the project's usage in their current windows.
         * @description Usage is the sum of the reports of every identity's counter
         *     (committed + in flight), as the project's budget object holds it:
         *     up to about a second behind the identities' own counters.
         */
        get: operations["listBudgets"];
        put?: never;
        /**
         * Sets (or replaces) the budget of one metric × period.
         * @description One budget per metric and period (its id is `<metric>-<period>`,
         *     e.g. `tokens-month`); setting one that exists replaces its limit.
         *     Usage already made in the current window counts. The proxy of every
         *     Worker isolate applies a change within 30 s (this one at once).
         */
        post: operations["setBudget"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/budgets/{budgetId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The budget's id, `<metric>-<period>` (e.g. `requests-day`). */
                budgetId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Removes a budget. */
        delete: operations["deleteBudget"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** The project's webhook endpoints, oldest first (secrets are never listed). */
        get: operations["listWebhooks"];
        put?: never;
        /** Adds an endpoint (at most 10 per project); answers its `whsec_` signing secret, shown only here and by `secret/rotate`. */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/webhooks/{webhookId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Deletes an endpoint and its deliveries (pending ones are not sent). */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        /** Changes the fields given (`url`, `events`, `description`, `enabled`). */
        patch: operations["updateWebhook"];
        trace?: never;
    };
    "/api/projects/{id}/webhooks/{webhookId}/secret/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Issues a new `whsec_` signing secret (shown once); every attempt from now on, retries included, is signed with it. */
        post: operations["rotateWebhookSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/webhooks/{webhookId}/test": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Sends a sample event to this endpoint through the outbox (signed, retried, logged like any other). No body sends `webhook.test`. */
        post: operations["testWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/webhook-deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        /** The delivery log, newest first; `status=dead` is the dead letter. */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/projects/{id}/webhook-deliveries/{deliveryId}/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The delivery's id (`whd_…`). */
                deliveryId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Puts a delivery (typically a dead one) back in the outbox, due now, with a fresh series of attempts and the same event id. */
        post: operations["redeliverWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description Calendar windows in UTC — minute, hour, day (00:00), week (Monday 00:00), month (the 1st, 00:00).
         * @enum {string}
         */
        Period: "minute" | "hour" | "day" | "week" | "month";
        /**
         * @description `cost` counts money in integer micro-dollars (µUSD; 1 USD = 1000000).
         * @enum {string}
         */
        LimitType: "requests" | "tokens" | "cost";
        /** @description An amount of money in integer micro-dollars (µUSD; 1 USD = 1000000). */
        Micros: number;
        /** @description A signed amount of money in micro-dollars (a margin may be negative). */
        SignedMicros: number;
        Count: number;
        /** Format: date-time */
        Timestamp: string;
        /** Format: date */
        Day: string;
        Health: {
            /** @constant */
            ok: true;
            version: string;
            /** @constant */
            db: "ok";
            /** @constant */
            limiter: "ok";
            /** @constant */
            schema: "ok";
            /** @description The newest migration this Worker was built with (e.g. `0002_sessions_and_identities`); the database records it and every one before. */
            schemaVersion: string;
        };
        HealthUnhealthy: {
            /** @constant */
            ok: false;
            version: string;
            /** @enum {string} */
            db: "ok" | "error";
            /** @enum {string} */
            limiter: "ok" | "error";
            /**
             * @description `behind`: the database lacks migrations this Worker needs (run `npm run migrate`); `unknown`: the database did not answer.
             * @enum {string}
             */
            schema: "ok" | "behind" | "unknown";
            schemaVersion: string;
            /** @description With `schema` `behind`, the migrations the database lacks, oldest first. */
            pendingMigrations?: string[];
            /** @description With `schema` `behind` */
            message?: string;
            /** @constant */
            error: "unhealthy";
            failing: ("db" | "schema" | "limiter")[];
        };
        /** @description An OpenAI chat message. `content` may be absent or null only for `assistant` (e.g. with `tool_calls`). */
        ChatMessage: {
            /** @enum {string} */
            role: "system" | "developer" | "user" | "assistant" | "tool";
            content?: string | {
                [key: string]: unknown;
            }[] | null;
            name?: string;
            tool_calls?: {
                [key: string]: unknown;
            }[];
            tool_call_id?: string;
        };
        /**
         * @description OpenAI's chat body plus the proxy-only fields `identity`, `tier`,
         *     `identityToken` and `limitType`, which are removed before forwarding.
         *     Any other OpenAI parameter (`temperature`, `top_p`, `stop`, `tools`,
         *     `tool_choice`, `response_format`, `user`, …) is forwarded, translated
         *     for Anthropic and Google.
         */
        ProxyChatRequest: {
            /** @description User, session or device id; opaque; no control characters. Required unless `identityToken` is given (`null` counts as absent). */
            identity?: string | null;
            /** @description One of the project's tiers (default the project's default tier). An unknown tier is `400`, field `tier`. */
            tier?: string | null;
            /** @description A signed identity; when given, `identity` and `tier` are ignored. */
            identityToken?: string | null;
            /**
             * @description Accepted for compatibility; the project's tiers decide what is counted.
             * @enum {string|null}
             */
            limitType?: "requests" | "tokens" | null;
            /** @description Any model id of the project's provider; never restricted. */
            model: string;
            messages: components["schemas"]["ChatMessage"][];
            /** @description On `/api/v1/proxy/chat` and `/v1/chat/completions`, `true` streams. */
            stream?: boolean | null;
            /** @description Sizes the token reservation. */
            max_tokens?: number | null;
            /** @description Sizes the token reservation when `max_tokens` is absent. */
            max_completion_tokens?: number | null;
        } & {
            [key: string]: unknown;
        };
        /** @description OpenAI's chat body; `identity`, `tier` and `identityToken` usually come from the `x-identity`, `x-tier`, `x-identity-token` headers instead. */
        OpenAIChatRequest: components["schemas"]["ProxyChatRequest"];
        CompletionUsage: {
            prompt_tokens: components["schemas"]["Count"];
            completion_tokens: components["schemas"]["Count"];
            total_tokens: components["schemas"]["Count"];
        } & {
            [key: string]: unknown;
        };
        ChatCompletion: {
            id: string;
            /** @constant */
            object: "chat.completion";
            created: number;
            model: string;
            choices: ({
                index: number;
                message: {
                    role: string;
                    content?: string | null;
                    tool_calls?: {
                        [key: string]: unknown;
                    }[];
                } & {
                    [key: string]: unknown;
                };
                finish_reason: string | null;
            } & {
                [key: string]: unknown;
            })[];
            usage?: components["schemas"]["CompletionUsage"];
        } & {
            [key: string]: unknown;
        };
        /** @description One window of the identity's tier, as the counter holds it. */
        LimitEntry: {
            limitType: components["schemas"]["LimitType"];
            period: components["schemas"]["Period"];
            /** @description `null` for a tier-wide window. */
            model: string | null;
            /** @description `null` when unlimited. */
            limit: number | null;
            /** @description Committed usage plus the reservations of requests still in flight. */
            used: number;
            /** @description `max(limit - used, 0)`; `null` when unlimited. */
            remaining: number | null;
            /** @description The end of the window. */
            resetAt: components["schemas"]["Timestamp"];
        };
        RateLimitWarning: {
            ruleId: string;
            message: string;
            deepLink: string | null;
        };
        /** @description The limit state right after this request was admitted (its reservation included). */
        RateLimitBody: {
            tier: string;
            limits: components["schemas"]["LimitEntry"][];
            warning: components["schemas"]["RateLimitWarning"] | null;
        };
        ProxyChatCompletion: components["schemas"]["ChatCompletion"] & {
            ratelimit: components["schemas"]["RateLimitBody"];
        };
        ChatCompletionChunk: {
            id: string;
            /** @constant */
            object: "chat.completion.chunk";
            created: number;
            model: string;
            choices: ({
                index: number;
                delta: {
                    role?: string;
                    content?: string | null;
                    tool_calls?: {
                        [key: string]: unknown;
                    }[];
                } & {
                    [key: string]: unknown;
                };
                finish_reason?: string | null;
            } & {
                [key: string]: unknown;
            })[];
            usage?: components["schemas"]["CompletionUsage"] | null;
        } & {
            [key: string]: unknown;
        };
        /** @description The last event of a stream the provider broke (no `[DONE]` follows). */
        StreamErrorEvent: {
            error: {
                message: string;
                /** @constant */
                type: "provider_error";
            } & {
                [key: string]: unknown;
            };
        };
        /** @description The JSON of one `data:` line (every data line but the final `[DONE]`). */
        StreamEvent: components["schemas"]["ChatCompletionChunk"] | components["schemas"]["StreamErrorEvent"];
        /** @description `text/event-stream` text: `data: <StreamEvent JSON>` events separated by a blank line, ending with `data: [DONE]` on success. */
        EventStream: string;
        IdentityUsage: {
            identity: string;
            tier: string;
            limits: components["schemas"]["LimitEntry"][];
        };
        /** @description The flat error shape of `/api/*`. */
        Error: {
            /** @description A stable snake_case code. */
            error: string;
            /** @description A human-readable explanation. */
            message: string;
        };
        BadRequestError: components["schemas"]["Error"] & {
            /** @enum {unknown} */
            error?: "invalid_json" | "invalid_request";
            /** @description The offending field (`invalid_request`), dotted for nested ones; absent when the whole body is wrong. */
            field?: string;
        };
        ProjectKeyError: components["schemas"]["Error"] & {
            /** @enum {unknown} */
            error?: "missing_project_key" | "invalid_project_key" | "invalid_identity_token";
        };
        OriginError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "origin_not_allowed";
        };
        OwnerUnauthorizedError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "unauthorized";
        };
        InvalidTokenError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "invalid_token";
        };
        NotFoundError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "not_found";
        };
        MethodNotAllowedError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "method_not_allowed";
        };
        PayloadTooLargeError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "payload_too_large";
        };
        UnsupportedMediaTypeError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "unsupported_media_type";
        };
        RateLimitedError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "rate_limited";
        };
        InternalErrorBody: components["schemas"]["Error"] & {
            /** @constant */
            error?: "internal_error";
        };
        LimiterUnavailableError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "limiter_unavailable";
        };
        ServiceUnavailableError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "service_unavailable";
        };
        ProviderError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "provider_error";
            /** @enum {string} */
            provider: "openai" | "anthropic" | "google" | "xai" | "other";
            /** @description The provider's HTTP status (502 when it could not be reached or read). */
            status: number;
        };
        ProviderTimeoutError: components["schemas"]["Error"] & {
            /** @constant */
            error?: "provider_timeout";
            /** @enum {string} */
            provider: "openai" | "anthropic" | "google" | "xai" | "other";
        };
        /** @description What a 429 says about the refusal; the window fields describe the window that blocked. */
        LimitExceededFields: {
            /** @description From the blocking rule or the tier's `limitMessage`, variables substituted (and percent-encoded). */
            deepLink: string | null;
            /** @description The blocking rule, `null` when the tier's own limit blocked. */
            rule: {
                id: string;
                name: string;
            } | null;
            tier: string;
            limitType: components["schemas"]["LimitType"] | null;
            /** @description The blocking window's limit (`null` when it has none, e.g. a rule on an unlimited tier). */
            limit: number | null;
            /** @description The counter's `used` when the request was refused, without the refused request. */
            usage: number | null;
            period: components["schemas"]["Period"] | null;
            resetAt: components["schemas"]["Timestamp"];
            /** @description Whole seconds until `resetAt` (rounded up, at least 1), as in the `retry-after` header. */
            retryAfter: number;
        };
        LimitExceeded: components["schemas"]["Error"] & components["schemas"]["LimitExceededFields"] & {
            /** @constant */
            error?: "limit_exceeded";
            /** @description The blocking rule's message, else the tier's `limitMessage.message`, else a default; variables substituted. */
            message?: string;
        };
        /** @description The project budget that refused the request (every identity of the project together). */
        ProjectBudgetExceededFields: {
            /** @description The budget's id, `<metric>-<period>`. */
            budget: string;
            limitType: components["schemas"]["LimitType"];
            period: components["schemas"]["Period"];
            limit: number;
            /** @description The project's usage in the window, as the budget object last published it. */
            usage: number;
            resetAt: components["schemas"]["Timestamp"];
            /** @description Whole seconds until `resetAt`, as in the `retry-after` header. */
            retryAfter: number;
        };
        ProjectBudgetExceeded: components["schemas"]["Error"] & components["schemas"]["ProjectBudgetExceededFields"] & {
            /** @constant */
            error?: "project_budget_exceeded";
        };
        BudgetSet: {
            metric: components["schemas"]["LimitType"];
            period: components["schemas"]["Period"];
            limit: number;
        };
        Budget: {
            /** @description `<metric>-<period>`, e.g. `requests-day`. */
            id: string;
            metric: components["schemas"]["LimitType"];
            period: components["schemas"]["Period"];
            limit: number;
            used: components["schemas"]["Count"];
            remaining: components["schemas"]["Count"];
            /** @description `used` as a whole percentage of `limit` (rounded down; past 100 when the budget was overshot). */
            percent: number;
            /**
             * @description `warning` from 80 %, `closed` from 100 % (requests are refused).
             * @enum {string}
             */
            state: "open" | "warning" | "closed";
            resetAt: components["schemas"]["Timestamp"];
        };
        Budgets: {
            budgets: components["schemas"]["Budget"][];
            /** @description Some budget is closed. */
            closed: boolean;
            asOf: components["schemas"]["Timestamp"];
        };
        /**
         * @description OpenAI's Responses body. `input` is a string or an array of items
         *     (messages, `function_call`, `function_call_output`; translated
         *     providers refuse other item kinds and built-in tools with a 400).
         *     `max_output_tokens` sizes the reservation like `max_tokens` on chat.
         */
        ResponsesRequest: {
            model: string;
            input: string | {
                [key: string]: unknown;
            }[];
            instructions?: string | null;
            max_output_tokens?: number | null;
            stream?: boolean | null;
            /** @description `true` only on `openai` projects (provider storage). */
            store?: boolean | null;
            /** @description Only on `openai` projects (provider storage). */
            previous_response_id?: string | null;
            tools?: {
                [key: string]: unknown;
            }[];
        } & {
            [key: string]: unknown;
        };
        ResponsesUsage: {
            input_tokens: components["schemas"]["Count"];
            output_tokens: components["schemas"]["Count"];
            total_tokens: components["schemas"]["Count"];
        } & {
            [key: string]: unknown;
        };
        ResponseObject: {
            id: string;
            /** @constant */
            object: "response";
            created_at: number;
            /** @enum {unknown} */
            status: "completed" | "incomplete" | "in_progress" | "failed" | "queued" | "cancelled";
            model: string;
            output: ({
                type: string;
            } & {
                [key: string]: unknown;
            })[];
            usage?: components["schemas"]["ResponsesUsage"] | null;
        } & {
            [key: string]: unknown;
        };
        /**
         * @description One event of the Responses stream; `type` repeats the SSE event name.
         *     `response.completed` (or `response.incomplete`) carries the
         *     `response` with its `usage`; a provider failure mid-stream is an
         *     `error` event.
         */
        ResponsesStreamEvent: ({
            type: string;
            sequence_number?: number;
        } & {
            [key: string]: unknown;
        }) & (unknown & unknown);
        /** @description OpenAI's embeddings body. */
        EmbeddingsRequest: {
            model: string;
            /** @description A string, an array of strings (up to 2048), or token ids (not for Gemini). */
            input: string | (string | number | number[])[];
            /** @enum {unknown} */
            encoding_format?: "float" | "base64";
            dimensions?: number;
            user?: string;
        } & {
            [key: string]: unknown;
        };
        ProxyEmbeddingsRequest: components["schemas"]["EmbeddingsRequest"] & {
            identity?: string;
            tier?: string;
            identityToken?: string;
        };
        EmbeddingsList: {
            /** @constant */
            object: "list";
            data: ({
                /** @constant */
                object: "embedding";
                index: number;
                embedding: number[] | string;
            } & {
                [key: string]: unknown;
            })[];
            model: string;
            usage: {
                prompt_tokens: components["schemas"]["Count"];
                total_tokens: components["schemas"]["Count"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /** @description Anthropic's Messages body (`max_tokens` is required, as Anthropic requires it). */
        MessagesRequest: {
            model: string;
            messages: ({
                /** @enum {unknown} */
                role: "user" | "assistant";
                content: string | {
                    [key: string]: unknown;
                }[];
            } & {
                [key: string]: unknown;
            })[];
            max_tokens: number;
            system?: string | {
                [key: string]: unknown;
            }[];
            stream?: boolean;
        } & {
            [key: string]: unknown;
        };
        AnthropicMessage: {
            id: string;
            /** @constant */
            type: "message";
            /** @constant */
            role: "assistant";
            model: string;
            content: {
                [key: string]: unknown;
            }[];
            stop_reason: string | null;
            usage: {
                input_tokens: components["schemas"]["Count"];
                output_tokens: components["schemas"]["Count"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * @description One event of Anthropic's stream; `type` repeats the SSE event name.
         *     `message_delta` carries the usage; a provider failure mid-stream is
         *     an `error` event.
         */
        MessagesStreamEvent: ({
            /** @enum {unknown} */
            type: "message_start" | "content_block_start" | "content_block_delta" | "content_block_stop" | "message_delta" | "message_stop" | "ping" | "error";
        } & {
            [key: string]: unknown;
        }) & (unknown & unknown);
        AnthropicErrorObject: {
            /** @enum {unknown} */
            type: "invalid_request_error" | "authentication_error" | "permission_error" | "not_found_error" | "request_too_large" | "rate_limit_error" | "api_error" | "overloaded_error";
            message: string;
            /** @description The flat shape's `error` code. */
            code: string;
        } & {
            [key: string]: unknown;
        };
        /** @description Anthropic's error envelope, used on `/v1/messages`. */
        AnthropicError: {
            /** @constant */
            type: "error";
            error: components["schemas"]["AnthropicErrorObject"];
        };
        AnthropicLimitExceeded: components["schemas"]["AnthropicError"] & {
            error?: components["schemas"]["LimitExceededFields"] & {
                /** @constant */
                type?: "rate_limit_error";
                /** @constant */
                code?: "limit_exceeded";
            };
        };
        AnthropicProjectBudgetExceeded: components["schemas"]["AnthropicError"] & {
            error?: components["schemas"]["ProjectBudgetExceededFields"] & {
                /** @constant */
                type?: "rate_limit_error";
                /** @constant */
                code?: "project_budget_exceeded";
            };
        };
        OpenAIErrorObject: {
            message: string;
            /** @enum {string} */
            type: "invalid_request_error" | "authentication_error" | "permission_error" | "not_found_error" | "rate_limit_exceeded" | "api_error";
            /** @description The flat shape's `error` code. */
            code: string;
            param: null;
        } & {
            [key: string]: unknown;
        };
        /** @description OpenAI's error envelope, used on `/v1/*`. */
        OpenAIError: {
            error: components["schemas"]["OpenAIErrorObject"];
        };
        OpenAIBadRequestError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "invalid_request_error";
                /** @enum {unknown} */
                code?: "invalid_json" | "invalid_request";
                field?: string;
            };
        };
        OpenAIUnauthorizedError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "authentication_error";
                /** @enum {unknown} */
                code?: "missing_project_key" | "invalid_project_key" | "invalid_identity_token";
            };
        };
        OpenAIForbiddenError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "permission_error";
                /** @constant */
                code?: "origin_not_allowed";
            };
        };
        OpenAINotFoundError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "not_found_error";
                /** @constant */
                code?: "not_found";
            };
        };
        OpenAIMethodNotAllowedError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "invalid_request_error";
                /** @constant */
                code?: "method_not_allowed";
            };
        };
        OpenAIPayloadTooLargeError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "invalid_request_error";
                /** @constant */
                code?: "payload_too_large";
            };
        };
        OpenAIUnsupportedMediaTypeError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "invalid_request_error";
                /** @constant */
                code?: "unsupported_media_type";
            };
        };
        OpenAILimitExceeded: components["schemas"]["OpenAIError"] & {
            error?: components["schemas"]["LimitExceededFields"] & {
                /** @constant */
                type?: "rate_limit_exceeded";
                /** @constant */
                code?: "limit_exceeded";
            };
        };
        OpenAIProjectBudgetExceeded: components["schemas"]["OpenAIError"] & {
            error?: components["schemas"]["ProjectBudgetExceededFields"] & {
                /** @constant */
                type?: "rate_limit_exceeded";
                /** @constant */
                code?: "project_budget_exceeded";
            };
        };
        OpenAIInternalErrorBody: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "api_error";
                /** @constant */
                code?: "internal_error";
            };
        };
        OpenAIProviderError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "api_error";
                /** @constant */
                code?: "provider_error";
                provider: string;
                status: number;
            };
        };
        OpenAILimiterUnavailableError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "api_error";
                /** @constant */
                code?: "limiter_unavailable";
            };
        };
        OpenAIServiceUnavailableError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "api_error";
                /** @constant */
                code?: "service_unavailable";
            };
        };
        OpenAIProviderTimeoutError: components["schemas"]["OpenAIError"] & {
            error?: {
                /** @constant */
                type?: "api_error";
                /** @constant */
                code?: "provider_timeout";
                provider: string;
            };
        };
        MagicLinkRequest: {
            /** @description Trimmed and lower-cased. */
            email: string;
        };
        MagicLinkAnswer: {
            message: string;
            /** @description Only with `ENVIRONMENT=development` and no email provider configured — the link itself (its query has `token=`). */
            devLink?: string;
        };
        VerifyRequest: {
            token: string;
        };
        User: {
            id: string;
            email: string;
        };
        VerifyAnswer: {
            /** @description The owner session token (JWT) for `Authorization: Bearer`. */
            accessToken: string;
            user: components["schemas"]["User"];
        };
        /** @enum {string} */
        Provider: "openai" | "anthropic" | "google" | "xai" | "other";
        LimitSpec: {
            /** @description `null` means unlimited. */
            limit: number | null;
            period: components["schemas"]["Period"];
        };
        ModelLimits: {
            requests?: components["schemas"]["LimitSpec"];
            tokens?: components["schemas"]["LimitSpec"];
            cost?: components["schemas"]["CostLimitSpec"];
        };
        /**
         * @description A spend cap; `limit` is in micro-dollars (5000000 = $5.00). A request
         *     is admitted only when the spend so far plus its cost reservation (its
         *     token reservation at the model's dearest token price) fits the limit;
         *     settlement replaces the reservation with the exact cost. A model with
         *     no price costs 0 and is not stopped by a cost cap.
         */
        CostLimitSpec: components["schemas"]["LimitSpec"];
        LimitMessage: {
            /** @description The 429 message when the tier's own limit blocks; may use `{{tier}} {{limit}} {{usage}} {{limitType}} {{period}} {{identity}} {{resetAt}}`. No control characters. */
            message: string;
            /**
             * @description Sent with that 429. The same variables may be used; their values
             *     are percent-encoded where they are substituted. No whitespace or
             *     control characters; the schemes `javascript:`, `data:`,
             *     `vbscript:` and `file:` are refused.
             */
            deepLink?: string;
        };
        /** @description What one tier may use. Counters belong to the identity; the tier only picks the caps. */
        Tier: {
            requests?: components["schemas"]["LimitSpec"];
            tokens?: components["schemas"]["LimitSpec"];
            cost?: components["schemas"]["CostLimitSpec"];
            /** @description Per-model windows (model id → limits), checked in addition to the tier-wide ones. At most 50. */
            models?: {
                [key: string]: components["schemas"]["ModelLimits"];
            };
            limitMessage?: components["schemas"]["LimitMessage"];
            /** @description The completion part of a token reservation when a request gives no `max_tokens` (default 1024). */
            defaultMaxTokens?: number;
        };
        /** @description Tier name (1–64 letters, digits, `-`, `_`, `.`) → tier. 1 to 20 tiers. */
        Tiers: {
            [key: string]: components["schemas"]["Tier"];
        };
        ProjectFields: {
            name?: string;
            provider?: components["schemas"]["Provider"];
            /**
             * @description The provider's API root; required for `other`, an optional override
             *     otherwise (`null` clears it). In production: `https` only, and no
             *     loopback, private, link-local or metadata address.
             */
            baseUrl?: string | null;
            /** @description Write-only; stored encrypted; answers show `providerApiKeyHint`. */
            providerApiKey?: string;
            defaultTier?: string;
            tiers?: components["schemas"]["Tiers"];
            requireSignedIdentity?: boolean;
            /** @description Origins (`https://app.example.com`) allowed to call the proxy from a browser; empty means any. */
            allowedOrigins?: string[];
            tierSource?: components["schemas"]["TierSource"];
            anonymousLimits?: components["schemas"]["AnonymousLimits"];
            upgradeFunnel?: components["schemas"]["UpgradeFunnelSettings"];
            modelPrices?: components["schemas"]["ModelPrices"];
            tierPrices?: components["schemas"]["TierPrices"];
        };
        /**
         * @description `trackedRedirect` (default `false`): deep links in 429s and warnings
         *     become links to `GET /r/{token}`, which count clicks. `tierOrder`:
         *     tiers from lowest to highest, for "seen later on a higher tier"; when
         *     empty, the default tier ranks below every other tier. Each name must
         *     be one of the project's tiers; a tier removed from `tiers` leaves the
         *     order with it.
         */
        UpgradeFunnelSettings: {
            trackedRedirect?: boolean;
            tierOrder?: string[];
        };
        /** @description Micro-dollars per million tokens ($2.50 / 1M tokens = 2500000). */
        ModelPrice: {
            input: components["schemas"]["Micros"];
            output: components["schemas"]["Micros"];
            /** @description Input read from the provider's prompt cache; the input price when absent. */
            cachedInput?: components["schemas"]["Micros"];
        };
        /**
         * @description The project's own prices by canonical model id (the whole set is
         *     replaced on a patch). They win over the shipped table; a model priced
         *     nowhere costs 0.
         */
        ModelPrices: {
            [key: string]: components["schemas"]["ModelPrice"];
        };
        /** @description What one identity on a tier pays the owner per month, in micro-dollars (tier name → amount; tiers must exist). Used by the tier economics. */
        TierPrices: {
            [key: string]: components["schemas"]["Micros"];
        };
        Credits: {
            requests: number;
            tokens: number;
            cost: components["schemas"]["Micros"];
        };
        /** @description Added to the balance; at least one must be positive. `cost` credits (micro-dollars) admit requests past a cost cap, each consuming its cost reservation. */
        CreditsGift: {
            requests?: number;
            tokens?: number;
            cost?: components["schemas"]["Micros"];
        };
        /** @description Caps that replace the tier's for this identity (same shape as a tier's caps; no `limitMessage` or `defaultMaxTokens`). */
        IdentityLimits: {
            requests?: components["schemas"]["LimitSpec"];
            tokens?: components["schemas"]["LimitSpec"];
            cost?: components["schemas"]["CostLimitSpec"];
            models?: {
                [key: string]: components["schemas"]["ModelLimits"];
            };
        } | null;
        /** @description The fields given are set; `null` clears one. Unknown fields are `400`. */
        IdentityRecordPatch: {
            /** @description One of the project's tiers. */
            tier?: string | null;
            limits?: components["schemas"]["IdentityLimits"];
            /** @description Sets the balance (use `POST …/credits` to add). */
            credits?: components["schemas"]["CreditsGift"];
            /** @description Until this time (`2026-12-31T00:00:00Z`) the identity is admitted past every cap and rule. */
            unlimitedUntil?: string | null;
            blocked?: boolean;
            blockMessage?: string | null;
            /** @description Owner-defined */
            metadata?: Record<string, never> | null;
        };
        IdentityRecord: {
            identity: string;
            tier: string | null;
            limits: components["schemas"]["IdentityLimits"];
            credits: components["schemas"]["Credits"];
            unlimitedUntil: string | null;
            blocked: boolean;
            blockMessage: string | null;
            metadata: Record<string, never>;
            updatedAt: components["schemas"]["Timestamp"];
        };
        IdentityRecordList: {
            identities: components["schemas"]["IdentityRecord"][];
        };
        /**
         * @description Where a request's tier comes from. `request` (the default): a signed
         *     token's `tier` claim, else the request's `tier`, else the identity's
         *     record, else `defaultTier`. `server`: a signed token's claim, else the
         *     identity's record, else `defaultTier`; a `tier` in a plain request is
         *     ignored, and answers report the tier in force.
         * @enum {string}
         */
        TierSource: "request" | "server";
        /**
         * @description Caps per client IP (`CF-Connecting-IP`) over every request without a
         *     signed identity token, whatever `identity` it names; `null` or absent:
         *     none.
         */
        AnonymousLimits: {
            requests?: components["schemas"]["LimitSpec"];
            tokens?: components["schemas"]["LimitSpec"];
        } | null;
        /** @description Without `tiers` a project gets `free` (100 requests/day) and `pro` (5000 requests/day); without `defaultTier`, `free` if it exists. */
        ProjectCreate: components["schemas"]["ProjectFields"] & Record<string, never>;
        ProjectPatch: components["schemas"]["ProjectFields"];
        ProjectBase: {
            id: string;
            name: string;
            provider: components["schemas"]["Provider"];
            /** @description The URL requests go to (the override, else the provider's default). */
            baseUrl: string | null;
            /** @description The `baseUrl` the owner set, `null` when the default is used. */
            baseUrlOverride: string | null;
            /** @description Like `sk-…abcd`; `null` when no key was given. */
            providerApiKeyHint: string | null;
            /** @description The publishable key apps send as `x-project-key`. */
            projectKey: string;
            defaultTier: string;
            tiers: components["schemas"]["Tiers"];
            requireSignedIdentity: boolean;
            allowedOrigins: string[];
            tierSource: components["schemas"]["TierSource"];
            anonymousLimits: components["schemas"]["AnonymousLimits"];
            modelPrices: components["schemas"]["ModelPrices"];
            tierPrices: components["schemas"]["TierPrices"];
            upgradeFunnel: components["schemas"]["UpgradeFunnelSettings"] & Record<string, never>;
            createdAt: components["schemas"]["Timestamp"];
            updatedAt: components["schemas"]["Timestamp"];
        };
        Project: components["schemas"]["ProjectBase"];
        ProjectWithSecret: components["schemas"]["ProjectBase"] & {
            /** @description The signing secret for identity tokens, shown only here and by `secret/rotate`. */
            secretKey: string;
        };
        SecretAnswer: {
            secretKey: string;
        };
        UsageCondition: {
            /**
             * @description `usage_percent`: the highest percentage over the tier-wide windows
             *     of `metric` with a finite limit (never matches without one), 0–1000.
             *     `usage_absolute`: the highest `used` among those windows (the
             *     `day` window when the tier caps the metric nowhere), 0–2^53.
             *     Usage includes the request being decided (for `cost`, its cost
             *     reservation; thresholds are micro-dollars).
             * @enum {string}
             */
            type: "usage_percent" | "usage_absolute";
            metric: components["schemas"]["LimitType"];
            /** @enum {string} */
            operator: "gte" | "gt" | "lte" | "lt" | "eq";
            threshold: number;
        };
        TierCondition: {
            /** @constant */
            type: "tier";
            tiers: string[];
        };
        ModelCondition: {
            /** @constant */
            type: "model";
            models: string[];
        };
        /** @description `all` (and) / `any` (or); nests at most 5 levels. */
        GroupCondition: {
            /** @enum {string} */
            type: "all" | "any";
            conditions: components["schemas"]["Condition"][];
        };
        Condition: components["schemas"]["UsageCondition"] | components["schemas"]["TierCondition"] | components["schemas"]["ModelCondition"] | components["schemas"]["GroupCondition"];
        Action: {
            /**
             * @description `warn` admits and attaches the message; `block` answers 429 without counting; `allow` admits past the tier's limits.
             * @enum {string}
             */
            type: "warn" | "block" | "allow";
            /** @description May use the message variables; no control characters except newline and tab. Blank or `null` means none. */
            message?: string | null;
            /** @description No whitespace or control characters; `javascript:`, `data:`, `vbscript:` and `file:` are refused. Substituted variables are percent-encoded. */
            deepLink?: string | null;
        };
        RuleCreate: {
            name: string;
            /** @default true */
            enabled: boolean;
            /**
             * @description Lower runs first; ties in creation order.
             * @default 0
             */
            priority: number;
            condition: components["schemas"]["Condition"];
            action: components["schemas"]["Action"];
        };
        RulePatch: {
            name?: string;
            enabled?: boolean;
            priority?: number;
            condition?: components["schemas"]["Condition"];
            action?: components["schemas"]["Action"];
        };
        Rule: {
            id: string;
            name: string;
            enabled: boolean;
            priority: number;
            condition: components["schemas"]["Condition"];
            action: components["schemas"]["Action"];
        };
        RuleTemplate: {
            id: string;
            name: string;
            description: string;
            rule: components["schemas"]["RuleCreate"];
        };
        /** @description A rule of the simulator's draft; `id` is optional (`draft-<index>` when absent). */
        DraftRule: {
            id?: string | null;
            name: string;
            enabled?: boolean;
            priority?: number;
            condition: components["schemas"]["Condition"];
            action: components["schemas"]["Action"];
        };
        SimulateRequest: {
            /** @description One of the project's tiers (default the project's default tier). */
            tier?: string | null;
            model?: string | null;
            /** @description What the counter holds before the request, in every window. */
            usage?: {
                requests?: number | null;
                tokens?: number | null;
                /** @description Spend so far in micro-dollars. */
                cost?: number | null;
            };
            /** @description Tokens the simulated request adds (default 0); it always adds 1 request. */
            requestTokens?: number | null;
            /** @description The cost reservation (micro-dollars) the simulated request adds (default 0). */
            requestCost?: number | null;
            /** @description A draft rule set to try instead of the saved rules. */
            rules?: components["schemas"]["DraftRule"][] | null;
        };
        SimulateAnswer: {
            /** @enum {string} */
            decision: "allow" | "warn" | "block";
            /** @description The deciding block/allow rule, else the warn rule; `null` when none matched. */
            matchedRule: {
                id: string;
                name: string;
            } | null;
            message: string | null;
            deepLink: string | null;
            /** @description Every rule in evaluation order; disabled ones with `matched false` and reason `disabled`. */
            trace: {
                ruleId: string;
                matched: boolean;
                reason: string;
            }[];
        };
        UsageSummary: {
            /** @enum {string} */
            period: "day" | "week" | "month";
            /** @description Start of the current window. */
            from: components["schemas"]["Timestamp"];
            /** @description End of the current window (the instant the next one starts). */
            to: components["schemas"]["Timestamp"];
            requests: components["schemas"]["Count"];
            tokens: {
                input: components["schemas"]["Count"];
                output: components["schemas"]["Count"];
                total: components["schemas"]["Count"];
            };
            /** @description Identities with at least one admitted or blocked request. */
            identities: components["schemas"]["Count"];
            blocked: components["schemas"]["Count"];
            warned: components["schemas"]["Count"];
            /**
             * @description Answers whose provider-reported usage had a count out of range
             *     (negative, fractional, or above 10,000,000). Such a count is never
             *     trusted as it stands (clamped to 10,000,000, or ignored), and the
             *     answer is counted at least at its reservation. Non-zero means the
             *     provider (or whatever answers at the project's base URL) reports
             *     usage wrongly.
             */
            usageFlagged: components["schemas"]["Count"];
            /** @description What the window's requests cost, in micro-dollars. */
            cost: components["schemas"]["Micros"];
            byTier: {
                [key: string]: {
                    requests: components["schemas"]["Count"];
                    tokens: components["schemas"]["Count"];
                    blocked: components["schemas"]["Count"];
                    cost: components["schemas"]["Micros"];
                };
            };
        };
        UsageByIdentityRow: {
            /** @description The UTC day of the row (with a `from`/`to` range, rows of several days are listed, oldest day first). */
            date: components["schemas"]["Day"];
            identity: string;
            tier: string;
            model: string;
            requests: components["schemas"]["Count"];
            inputTokens: components["schemas"]["Count"];
            outputTokens: components["schemas"]["Count"];
            /** @description inputTokens + outputTokens. */
            tokens: components["schemas"]["Count"];
            /** @description Requests refused with a 429 (by the tier's cap or a rule). */
            blocked: components["schemas"]["Count"];
            /** @description Admitted requests that carried a warning. */
            warned: components["schemas"]["Count"];
            cost: components["schemas"]["Micros"];
        };
        UsageByIdentity: {
            items: components["schemas"]["UsageByIdentityRow"][];
            /** @description `null` on the last page. */
            nextCursor: string | null;
        };
        TimeseriesDay: {
            date: components["schemas"]["Day"];
            requests: components["schemas"]["Count"];
            tokens: components["schemas"]["Count"];
            blocked: components["schemas"]["Count"];
            cost: components["schemas"]["Micros"];
        };
        PriceInForce: {
            /** @description `false`: no project price and not in the shipped table — the model costs 0. */
            priced: boolean;
            /** @enum {string|null} */
            source: "project" | "table" | null;
            /** @description The table or project model id that priced it (a dated snapshot is priced as its family). */
            pricedAs: string | null;
            price: components["schemas"]["ModelPriceOut"] | null;
        };
        /** @description Micro-dollars per million tokens. */
        ModelPriceOut: {
            input: components["schemas"]["Micros"];
            output: components["schemas"]["Micros"];
            cachedInput: components["schemas"]["Micros"];
        };
        Prices: {
            /** @enum {string} */
            currency: "USD";
            /** @description Always "micro per million tokens". */
            unit: string;
            table: {
                /** @description Where the shipped prices come from. */
                source: string;
                date: components["schemas"]["Day"];
                models: {
                    provider: string;
                    model: string;
                    input: components["schemas"]["Micros"];
                    output: components["schemas"]["Micros"];
                    cachedInput: components["schemas"]["Micros"];
                }[];
            };
            /** @description The project's own prices. */
            modelPrices: {
                [key: string]: components["schemas"]["ModelPriceOut"];
            };
            /** @description Every model the project used in the last 30 days, with the price in force. */
            models: (components["schemas"]["PriceInForce"] & {
                model: string;
                requests: components["schemas"]["Count"];
                cost: components["schemas"]["Micros"];
            })[];
        };
        IdentitySpend: {
            identity: string;
            /** @description The identity's tier on its latest day in the window. */
            tier: string;
            requests: components["schemas"]["Count"];
            tokens: components["schemas"]["Count"];
            cost: components["schemas"]["Micros"];
            /** @description The tier's monthly price (`period=month` and a price set), else `null`. */
            tierPrice: components["schemas"]["Micros"] | null;
            /** @description tierPrice − cost; negative when the identity costs more than its tier pays. */
            margin: components["schemas"]["SignedMicros"] | null;
        };
        Costs: {
            /** @enum {string} */
            period: "day" | "week" | "month";
            from: components["schemas"]["Timestamp"];
            to: components["schemas"]["Timestamp"];
            /** @enum {string} */
            currency: "USD";
            /** @enum {string} */
            unit: "micro";
            /** @description The sum of the window's request costs. */
            cost: components["schemas"]["Micros"];
            byTier: {
                tier: string;
                requests: components["schemas"]["Count"];
                cost: components["schemas"]["Micros"];
                /** @description Identities whose latest day in the window was on this tier. */
                identities: components["schemas"]["Count"];
                tierPrice: components["schemas"]["Micros"] | null;
                /** @description tierPrice × identities. */
                revenue: components["schemas"]["Micros"] | null;
                margin: components["schemas"]["SignedMicros"] | null;
            }[];
            /** @description Dearest first. */
            byModel: (components["schemas"]["PriceInForce"] & {
                model: string;
                requests: components["schemas"]["Count"];
                tokens: components["schemas"]["Count"];
                cost: components["schemas"]["Micros"];
            })[];
            /** @description The `limit` dearest identities. */
            byIdentity: components["schemas"]["IdentitySpend"][];
            /** @description Identities (among them) that cost more than their tier pays. */
            unprofitable: components["schemas"]["IdentitySpend"][];
        };
        RuleTriggers: {
            stats: {
                ruleId: string;
                ruleName: string;
                triggerCount: components["schemas"]["Count"];
                uniqueIdentities: components["schemas"]["Count"];
                lastTriggered: components["schemas"]["Timestamp"];
            }[];
            byDay: {
                date: components["schemas"]["Day"];
                count: components["schemas"]["Count"];
            }[];
        };
        FunnelStages: {
            /** @description Warnings shown. */
            warned: components["schemas"]["Count"];
            /** @description 429 messages shown (blocked requests */
            blocked: components["schemas"]["Count"];
            /** @description Of those */
            linked: components["schemas"]["Count"];
            /** @description Tracked links followed (each shown link once). */
            clicked: components["schemas"]["Count"];
            /** @description Identities seen later on a higher tier */
            upgraded: components["schemas"]["Count"];
            /** @description `clicked / linked`; `null` when no tracked link was shown. */
            clickThroughRate: number | null;
        };
        UpgradeFunnel: {
            days: number;
            from: components["schemas"]["Day"];
            to: components["schemas"]["Day"];
            trackedRedirect: boolean;
            tierOrder: string[];
            /** @description Every tier of the project, ranked tiers from lowest to highest, then unranked ones by name. */
            tiers: (components["schemas"]["FunnelStages"] & {
                tier: string;
                /** @description `null`: not in `tierOrder`, never "higher". */
                rank: number | null;
            })[];
            /** @description Rules that warned or blocked in the range. */
            rules: (components["schemas"]["FunnelStages"] & {
                ruleId: string;
                /** @description `null` when the rule was deleted. */
                ruleName: string | null;
            })[];
            messages: {
                tier: string;
                /** @enum {string} */
                kind: "warn" | "block";
                /**
                 * @description Whose copy — a rule's message, the tier's `limitMessage`, or the built-in text.
                 * @enum {string}
                 */
                origin: "rule" | "tier" | "default";
                ruleId: string | null;
                ruleName: string | null;
                /** @description Fingerprint of the copy (16 hex digits). */
                messageHash: string;
                /** @description The copy as written (a template: `{{usage}}` etc. unrendered). */
                message: string;
                shown: components["schemas"]["Count"];
                linked: components["schemas"]["Count"];
                clicks: components["schemas"]["Count"];
                upgrades: components["schemas"]["Count"];
                clickThroughRate: number | null;
            }[];
        };
        RecentTrigger: {
            ruleId: string;
            ruleName: string;
            identity: string;
            tier: string;
            /** @enum {string} */
            action: "warn" | "block" | "allow";
            /** @description The highest percentage of a finite tier-wide limit when the rule fired. */
            usagePercent: number | null;
            triggeredAt: components["schemas"]["Timestamp"];
        };
        /**
         * @description `identity.warned`: a warn rule fired for an identity; `identity.limit_reached`: an identity hit a tier cap (its requests get 429 `limit_exceeded`);
         *     `identity.blocked`: a block rule fired; `budget.threshold`: a project budget reached 80 % or 100 %.
         *     Identity events are sent once per identity, rule or cap, and window — not on every request past it.
         * @enum {string}
         */
        WebhookEventType: "identity.warned" | "identity.limit_reached" | "identity.blocked" | "budget.threshold";
        WebhookFields: {
            /** @description Where events are POSTed. Production takes `https` to public addresses only (no loopback, private, link-local or metadata addresses — the provider URL guard). */
            url?: string;
            events?: components["schemas"]["WebhookEventType"][];
            description?: string;
            /** @description A disabled endpoint gets no new events; its pending deliveries wait until it is enabled again. */
            enabled?: boolean;
        };
        WebhookCreate: components["schemas"]["WebhookFields"] & Record<string, never>;
        WebhookPatch: components["schemas"]["WebhookFields"];
        WebhookEndpointBase: {
            id: string;
            url: string;
            description: string;
            events: components["schemas"]["WebhookEventType"][];
            enabled: boolean;
            createdAt: components["schemas"]["Timestamp"];
            updatedAt: components["schemas"]["Timestamp"];
        };
        WebhookEndpoint: components["schemas"]["WebhookEndpointBase"];
        WebhookEndpointWithSecret: components["schemas"]["WebhookEndpointBase"] & {
            secret: components["schemas"]["WebhookSecret"];
        };
        /** @description The signing secret. The HMAC key is the base64-decoded part after `whsec_` (Standard Webhooks). */
        WebhookSecret: string;
        WebhookSecretAnswer: {
            secret: components["schemas"]["WebhookSecret"];
        };
        WebhookTestRequest: {
            /** @description The sample to send (`webhook.test` by default); samples carry `"sample": true` in `data`. */
            type?: components["schemas"]["WebhookEventType"] | "webhook.test";
        };
        WebhookTestAnswer: {
            eventId: string;
            type: string;
            endpointId: string;
        };
        /**
         * @description `pending`: waiting for its next attempt; `delivered`: the endpoint answered 2xx; `dead`: every attempt failed (the dead letter).
         * @enum {string}
         */
        WebhookDeliveryStatus: "pending" | "delivered" | "dead";
        WebhookDelivery: {
            id: string;
            endpointId: string;
            url: string;
            /** @description The `webhook-id` header; the same on every attempt and redelivery. */
            eventId: string;
            type: string;
            status: components["schemas"]["WebhookDeliveryStatus"];
            attempts: components["schemas"]["Count"];
            maxAttempts: number;
            /** @description When a pending delivery is tried next; `null` otherwise. */
            nextAttemptAt: components["schemas"]["Timestamp"] | null;
            lastAttemptAt: components["schemas"]["Timestamp"] | null;
            /** @description The endpoint's last HTTP status; `null` when it gave none (no answer, connection refused). */
            lastStatusCode: number | null;
            /** @description Why the last attempt failed (`HTTP 500`, `connection failed`, …). The endpoint's answer body is never read or kept. */
            lastError: string | null;
            createdAt: components["schemas"]["Timestamp"];
            deliveredAt: components["schemas"]["Timestamp"] | null;
            payload: components["schemas"]["WebhookEvent"];
        };
        /**
         * @description The body POSTed to an endpoint. Headers: `webhook-id` (= `id`), `webhook-timestamp` (Unix seconds of the attempt) and
         *     `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`. Ids, tier, rule, metric, window and
         *     numbers only: never prompt or answer content.
         */
        WebhookEvent: {
            id: string;
            type: string;
            timestamp: components["schemas"]["Timestamp"];
            data: {
                projectId?: string;
                identity?: string;
                tier?: string;
                ruleId?: string;
                ruleName?: string;
                metric?: string;
                window?: components["schemas"]["Period"];
                model?: string;
                limit?: number | null;
                used?: number;
                usagePercent?: number;
                /** @enum {integer} */
                thresholdPercent?: 80 | 100;
                budgetId?: string;
                windowResetsAt?: components["schemas"]["Timestamp"];
                occurredAt?: components["schemas"]["Timestamp"];
                /** @description Present (true) on test-sends. */
                sample?: boolean;
                /** @description The text of a `webhook.test` event. */
                message?: string;
            };
        };
    };
    responses: {
        /**
         * @description A non-stream answer is an OpenAI `chat.completion` with the extra
         *     `ratelimit` field. With `stream` the answer is `text/event-stream`
         *     (see `ProxyStreamOk`).
         */
        ProxyChatOk: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                "x-ratelimit-warning": components["headers"]["RateLimitWarning"];
                "x-ratelimit-deeplink": components["headers"]["RateLimitDeepLink"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ProxyChatCompletion"];
                "text/event-stream": components["schemas"]["EventStream"];
            };
        };
        /**
         * @description Server-Sent Events in OpenAI's format, whatever the provider:
         *     `data: <chat.completion.chunk JSON>\n\n` per event; the last chunk
         *     before the end has `choices: []` and `usage`; then `data: [DONE]\n\n`.
         *     A provider failure after the stream started is one event
         *     `data: {"error": {"message", "type": "provider_error"}}` and the
         *     stream ends without `[DONE]`. Each event's JSON is described by
         *     `StreamEvent` (`x-sse-data`).
         */
        ProxyStreamOk: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                "x-ratelimit-warning": components["headers"]["RateLimitWarning"];
                "x-ratelimit-deeplink": components["headers"]["RateLimitDeepLink"];
                [name: string]: unknown;
            };
            content: {
                "text/event-stream": components["schemas"]["EventStream"];
            };
        };
        /** @description `invalid_json` (not JSON) or `invalid_request` (a field is missing or wrong; `field` names it). */
        ProxyBadRequest: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["BadRequestError"];
            };
        };
        /** @description `missing_project_key`, `invalid_project_key` (unknown, malformed or rotated key) or `invalid_identity_token`. */
        ProxyUnauthorized: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ProjectKeyError"];
            };
        };
        /** @description `origin_not_allowed`: the `Origin` is not in the project's `allowedOrigins`. */
        ProxyForbidden: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OriginError"];
            };
        };
        /** @description `payload_too_large`: the body is over `MAX_BODY_BYTES` (default 1 MiB). */
        ProxyPayloadTooLarge: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PayloadTooLargeError"];
            };
        };
        /** @description `unsupported_media_type`: a content type that is not JSON. */
        ProxyUnsupportedMediaType: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["UnsupportedMediaTypeError"];
            };
        };
        /**
         * @description `limit_exceeded`: a limit or a blocking rule refused the request.
         *     Nothing was forwarded or counted. The `x-ratelimit-*` headers
         *     describe the blocking window when it has a finite limit.
         *     Or `project_budget_exceeded`: a budget of the whole project is used
         *     up (docs/API.md, "Project budgets"); nothing forwarded or counted,
         *     no `x-ratelimit-*` headers, `retry-after` until its window ends.
         */
        ProxyLimitExceeded: {
            headers: {
                "retry-after": components["headers"]["RetryAfter"];
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["LimitExceeded"] | components["schemas"]["ProjectBudgetExceeded"];
            };
        };
        /** @description `internal_error`: an unexpected failure (the cause is logged, never sent). */
        ProxyInternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InternalErrorBody"];
            };
        };
        /** @description `provider_error`: the provider answered an error status or could not be reached; `provider` and `status` say which. Not counted. */
        ProxyProviderError: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ProviderError"];
            };
        };
        /** @description `limiter_unavailable`: the identity's counter could not be reached; or `service_unavailable`: the database is slow or down and this Worker has no recent copy of the project (a project it has seen within the last 15 minutes keeps being served from memory). Nothing was forwarded, nothing counted. */
        ProxyUnavailable: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["LimiterUnavailableError"] | components["schemas"]["ServiceUnavailableError"];
            };
        };
        /** @description `provider_timeout`: no answer head within `PROVIDER_TIMEOUT_MS`. Not counted. */
        ProxyProviderTimeout: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ProviderTimeoutError"];
            };
        };
        /**
         * @description A `response` object, or with `stream` the Responses event stream
         *     (`event: <type>` + `data: <JSON with that type>` per event).
         */
        ResponsesOk: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                "x-ratelimit-warning": components["headers"]["RateLimitWarning"];
                "x-ratelimit-deeplink": components["headers"]["RateLimitDeepLink"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ResponseObject"];
                "text/event-stream": components["schemas"]["EventStream"];
            };
        };
        /**
         * @description An Anthropic `message`, or with `stream` Anthropic's event stream
         *     (`event: <type>` + `data: <JSON with that type>` per event).
         */
        MessagesOk: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                "x-ratelimit-warning": components["headers"]["RateLimitWarning"];
                "x-ratelimit-deeplink": components["headers"]["RateLimitDeepLink"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["AnthropicMessage"];
                "text/event-stream": components["schemas"]["EventStream"];
            };
        };
        /** @description OpenAI's embeddings `list` (the provider's own answer for OpenAI-compatible providers). */
        EmbeddingsOk: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                "x-ratelimit-warning": components["headers"]["RateLimitWarning"];
                "x-ratelimit-deeplink": components["headers"]["RateLimitDeepLink"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["EmbeddingsList"];
            };
        };
        /** @description Any error of `/v1/messages`, in Anthropic's envelope; `error.code` is the flat shape's code. */
        AnthropicErrorAnswer: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["AnthropicError"];
            };
        };
        /** @description `limit_exceeded` (or `project_budget_exceeded`) as Anthropic's `rate_limit_error`, with the fields of the flat 429 inside `error`. */
        AnthropicLimitExceededAnswer: {
            headers: {
                "retry-after": components["headers"]["RetryAfter"];
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["AnthropicLimitExceeded"] | components["schemas"]["AnthropicProjectBudgetExceeded"];
            };
        };
        /** @description `invalid_json` or `invalid_request` (`field` names the field), type `invalid_request_error`. */
        OpenAIBadRequest: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIBadRequestError"];
            };
        };
        /** @description `missing_project_key`, `invalid_project_key` or `invalid_identity_token`, type `authentication_error`. */
        OpenAIUnauthorized: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIUnauthorizedError"];
            };
        };
        /** @description `origin_not_allowed`, type `permission_error`. */
        OpenAIForbidden: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIForbiddenError"];
            };
        };
        /** @description `payload_too_large`, type `invalid_request_error`. */
        OpenAIPayloadTooLarge: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIPayloadTooLargeError"];
            };
        };
        /** @description `unsupported_media_type`, type `invalid_request_error`. */
        OpenAIUnsupportedMediaType: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIUnsupportedMediaTypeError"];
            };
        };
        /** @description `limit_exceeded` (or `project_budget_exceeded`), type `rate_limit_exceeded`, with the fields of the flat 429 inside `error`. */
        OpenAILimitExceeded: {
            headers: {
                "retry-after": components["headers"]["RetryAfter"];
                "x-request-id": components["headers"]["RequestId"];
                "x-ratelimit-overhead-ms": components["headers"]["OverheadMs"];
                "x-ratelimit-limit": components["headers"]["RateLimitLimit"];
                "x-ratelimit-remaining": components["headers"]["RateLimitRemaining"];
                "x-ratelimit-reset": components["headers"]["RateLimitReset"];
                "x-ratelimit-policy": components["headers"]["RateLimitPolicy"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAILimitExceeded"] | components["schemas"]["OpenAIProjectBudgetExceeded"];
            };
        };
        /** @description `internal_error`, type `api_error`. */
        OpenAIInternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIInternalErrorBody"];
            };
        };
        /** @description `provider_error`, type `api_error`, with `provider` and `status`. */
        OpenAIProviderError: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIProviderError"];
            };
        };
        /** @description `limiter_unavailable` or `service_unavailable`, type `api_error` (see the flat routes). Nothing was forwarded. */
        OpenAIUnavailable: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAILimiterUnavailableError"] | components["schemas"]["OpenAIServiceUnavailableError"];
            };
        };
        /** @description `provider_timeout`, type `api_error`. */
        OpenAIProviderTimeout: {
            headers: {
                "x-request-id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OpenAIProviderTimeoutError"];
            };
        };
        /** @description `invalid_json` or `invalid_request` (`field` names the field, dotted for nested ones, e.g. `tiers.free.requests.limit`). */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["BadRequestError"];
            };
        };
        /** @description `missing_project_key`, `invalid_project_key` or `invalid_identity_token`. */
        ProjectKeyUnauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ProjectKeyError"];
            };
        };
        /** @description `origin_not_allowed`. */
        OriginNotAllowed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OriginError"];
            };
        };
        /** @description `unauthorized`: no secret key, something else than an `sk_…` (a publishable key, a JWT), or a secret that is unknown or was rotated. */
        SecretKeyUnauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OwnerUnauthorizedError"];
            };
        };
        /** @description The identity's record after the call. */
        IdentityRecordOk: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["IdentityRecord"];
            };
        };
        /** @description `unauthorized`: no, malformed or expired session token, or its account is gone. */
        OwnerUnauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OwnerUnauthorizedError"];
            };
        };
        /** @description `invalid_token`: the sign-in token is unknown, used or expired. */
        InvalidToken: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InvalidTokenError"];
            };
        };
        /** @description `not_found`: no such project or rule for this owner (another owner's is the same 404), or no such route. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["NotFoundError"];
            };
        };
        /** @description `method_not_allowed`: the path exists but not with this method. */
        MethodNotAllowed: {
            headers: {
                allow: components["headers"]["Allow"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["MethodNotAllowedError"];
            };
        };
        /** @description `payload_too_large`. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PayloadTooLargeError"];
            };
        };
        /** @description `unsupported_media_type`. */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["UnsupportedMediaTypeError"];
            };
        };
        /** @description `rate_limited`: too many sign-in links for this address (5 per 15 minutes) or IP. */
        RateLimited: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["RateLimitedError"];
            };
        };
        /** @description `internal_error`. */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InternalErrorBody"];
            };
        };
        /** @description `service_unavailable`: the database did not answer within its deadline (connect 3 s, query 5 s) or is down. Retry later; nothing was changed by a request that got this answer only if it was a read. */
        ServiceUnavailable: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ServiceUnavailableError"];
            };
        };
        /** @description The project's budgets after the call. */
        BudgetsOk: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Budgets"];
            };
        };
        /** @description `limiter_unavailable`: the identity's counter could not be reached; or `service_unavailable`: the database is slow or down. */
        Unavailable: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["LimiterUnavailableError"] | components["schemas"]["ServiceUnavailableError"];
            };
        };
    };
    parameters: {
        /** @description The project's id (`prj_…`). Another owner's project is a 404. */
        ProjectId: string;
        /** @description The endpoint's id (`whk_…`). */
        WebhookId: string;
        /** @description Keeps the records whose identity contains this text (case-insensitive), at most 256 characters. */
        IdentitySearch: string;
        /** @description The identity, percent-encoded (UTF-8). */
        IdentityPath: string;
        /** @description Whose caps are shown (default the project's default tier). */
        TierQuery: string;
        /** @description The identity (wins over a body `identity`). */
        IdentityHeader: string;
        /** @description The tier (wins over a body `tier`). */
        TierHeader: string;
        /** @description A signed identity (HS256 JWT signed with the project's `sk_…`). */
        IdentityTokenHeader: string;
    };
    requestBodies: never;
    headers: {
        /** @description The request's id (`req_…`), also the key of its idempotent settlement. */
        RequestId: string;
        /** @description Milliseconds the proxy spent before forwarding (admission). */
        OverheadMs: string;
        /** @description The limit of the tightest window that applies (absent when no finite limit applies). */
        RateLimitLimit: string;
        /** @description What is left in that window after this request's reservation. */
        RateLimitRemaining: string;
        /** @description Whole seconds until that window resets (rounded up, at least 1). */
        RateLimitReset: string;
        /** @description `<limit>;w=<seconds>` with the window's nominal length (60, 3600, 86400, 604800, 2592000). */
        RateLimitPolicy: string;
        /** @description Only when a warn rule fired — its message, UTF-8 percent-encoded. */
        RateLimitWarning: string;
        /** @description Only when the firing warn rule has a deep link. */
        RateLimitDeepLink: string;
        /** @description Whole seconds until the blocking window resets (rounded up, at least 1). */
        RetryAfter: string;
        /** @description The methods the path serves. */
        Allow: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Everything answers. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description A dependency failed; `failing` names it. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthUnhealthy"];
                };
            };
        };
    };
    proxyChat: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProxyChatRequest"];
            };
        };
        responses: {
            200: components["responses"]["ProxyChatOk"];
            400: components["responses"]["ProxyBadRequest"];
            401: components["responses"]["ProxyUnauthorized"];
            403: components["responses"]["ProxyForbidden"];
            413: components["responses"]["ProxyPayloadTooLarge"];
            415: components["responses"]["ProxyUnsupportedMediaType"];
            429: components["responses"]["ProxyLimitExceeded"];
            500: components["responses"]["ProxyInternalError"];
            502: components["responses"]["ProxyProviderError"];
            503: components["responses"]["ProxyUnavailable"];
            504: components["responses"]["ProxyProviderTimeout"];
        };
    };
    proxyChatStream: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProxyChatRequest"];
            };
        };
        responses: {
            200: components["responses"]["ProxyStreamOk"];
            400: components["responses"]["ProxyBadRequest"];
            401: components["responses"]["ProxyUnauthorized"];
            403: components["responses"]["ProxyForbidden"];
            413: components["responses"]["ProxyPayloadTooLarge"];
            415: components["responses"]["ProxyUnsupportedMediaType"];
            429: components["responses"]["ProxyLimitExceeded"];
            500: components["responses"]["ProxyInternalError"];
            502: components["responses"]["ProxyProviderError"];
            503: components["responses"]["ProxyUnavailable"];
            504: components["responses"]["ProxyProviderTimeout"];
        };
    };
    proxyEmbeddings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProxyEmbeddingsRequest"];
            };
        };
        responses: {
            200: components["responses"]["EmbeddingsOk"];
            400: components["responses"]["ProxyBadRequest"];
            401: components["responses"]["ProxyUnauthorized"];
            403: components["responses"]["ProxyForbidden"];
            413: components["responses"]["ProxyPayloadTooLarge"];
            415: components["responses"]["ProxyUnsupportedMediaType"];
            429: components["responses"]["ProxyLimitExceeded"];
            500: components["responses"]["ProxyInternalError"];
            502: components["responses"]["ProxyProviderError"];
            503: components["responses"]["ProxyUnavailable"];
            504: components["responses"]["ProxyProviderTimeout"];
        };
    };
    openaiChatCompletions: {
        parameters: {
            query?: never;
            header?: {
                /** @description The identity (wins over a body `identity`). */
                "x-identity"?: components["parameters"]["IdentityHeader"];
                /** @description The tier (wins over a body `tier`). */
                "x-tier"?: components["parameters"]["TierHeader"];
                /** @description A signed identity (HS256 JWT signed with the project's `sk_…`). */
                "x-identity-token"?: components["parameters"]["IdentityTokenHeader"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OpenAIChatRequest"];
            };
        };
        responses: {
            200: components["responses"]["ProxyChatOk"];
            400: components["responses"]["OpenAIBadRequest"];
            401: components["responses"]["OpenAIUnauthorized"];
            403: components["responses"]["OpenAIForbidden"];
            413: components["responses"]["OpenAIPayloadTooLarge"];
            415: components["responses"]["OpenAIUnsupportedMediaType"];
            429: components["responses"]["OpenAILimitExceeded"];
            500: components["responses"]["OpenAIInternalError"];
            502: components["responses"]["OpenAIProviderError"];
            503: components["responses"]["OpenAIUnavailable"];
            504: components["responses"]["OpenAIProviderTimeout"];
        };
    };
    openaiResponses: {
        parameters: {
            query?: never;
            header?: {
                /** @description The identity (wins over a body `identity`). */
                "x-identity"?: components["parameters"]["IdentityHeader"];
                /** @description The tier (wins over a body `tier`). */
                "x-tier"?: components["parameters"]["TierHeader"];
                /** @description A signed identity (HS256 JWT signed with the project's `sk_…`). */
                "x-identity-token"?: components["parameters"]["IdentityTokenHeader"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ResponsesRequest"];
            };
        };
        responses: {
            200: components["responses"]["ResponsesOk"];
            400: components["responses"]["OpenAIBadRequest"];
            401: components["responses"]["OpenAIUnauthorized"];
            403: components["responses"]["OpenAIForbidden"];
            413: components["responses"]["OpenAIPayloadTooLarge"];
            415: components["responses"]["OpenAIUnsupportedMediaType"];
            429: components["responses"]["OpenAILimitExceeded"];
            500: components["responses"]["OpenAIInternalError"];
            502: components["responses"]["OpenAIProviderError"];
            503: components["responses"]["OpenAIUnavailable"];
            504: components["responses"]["OpenAIProviderTimeout"];
        };
    };
    anthropicMessages: {
        parameters: {
            query?: never;
            header?: {
                /** @description The identity (wins over a body `identity`). */
                "x-identity"?: components["parameters"]["IdentityHeader"];
                /** @description The tier (wins over a body `tier`). */
                "x-tier"?: components["parameters"]["TierHeader"];
                /** @description A signed identity (HS256 JWT signed with the project's `sk_…`). */
                "x-identity-token"?: components["parameters"]["IdentityTokenHeader"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MessagesRequest"];
            };
        };
        responses: {
            200: components["responses"]["MessagesOk"];
            400: components["responses"]["AnthropicErrorAnswer"];
            401: components["responses"]["AnthropicErrorAnswer"];
            403: components["responses"]["AnthropicErrorAnswer"];
            413: components["responses"]["AnthropicErrorAnswer"];
            415: components["responses"]["AnthropicErrorAnswer"];
            429: components["responses"]["AnthropicLimitExceededAnswer"];
            500: components["responses"]["AnthropicErrorAnswer"];
            502: components["responses"]["AnthropicErrorAnswer"];
            503: components["responses"]["AnthropicErrorAnswer"];
            504: components["responses"]["AnthropicErrorAnswer"];
        };
    };
    openaiEmbeddings: {
        parameters: {
            query?: never;
            header?: {
                /** @description The identity (wins over a body `identity`). */
                "x-identity"?: components["parameters"]["IdentityHeader"];
                /** @description The tier (wins over a body `tier`). */
                "x-tier"?: components["parameters"]["TierHeader"];
                /** @description A signed identity (HS256 JWT signed with the project's `sk_…`). */
                "x-identity-token"?: components["parameters"]["IdentityTokenHeader"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EmbeddingsRequest"];
            };
        };
        responses: {
            200: components["responses"]["EmbeddingsOk"];
            400: components["responses"]["OpenAIBadRequest"];
            401: components["responses"]["OpenAIUnauthorized"];
            403: components["responses"]["OpenAIForbidden"];
            413: components["responses"]["OpenAIPayloadTooLarge"];
            415: components["responses"]["OpenAIUnsupportedMediaType"];
            429: components["responses"]["OpenAILimitExceeded"];
            500: components["responses"]["OpenAIInternalError"];
            502: components["responses"]["OpenAIProviderError"];
            503: components["responses"]["OpenAIUnavailable"];
            504: components["responses"]["OpenAIProviderTimeout"];
        };
    };
    getIdentityUsage: {
        parameters: {
            query?: {
                /** @description The identity (1–256 characters, no control characters). Required without a token. */
                identity?: string;
                /** @description Whose caps are shown (default the project's default tier). Ignored with a token. */
                tier?: string;
            };
            header?: {
                /** @description A signed identity (HS256 JWT signed with the project's `sk_…`). */
                "x-identity-token"?: components["parameters"]["IdentityTokenHeader"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One entry per window the tier defines. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IdentityUsage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["ProjectKeyUnauthorized"];
            403: components["responses"]["OriginNotAllowed"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    followTrackedLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A tracked link's signed token, as issued in a 429's `deepLink`, a warning's `x-ratelimit-deeplink` or `ratelimit.warning.deepLink` (projects with `upgradeFunnel.trackedRedirect`). */
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Redirect to the deep link (`location`); the click is counted. */
            302: {
                headers: {
                    /** @description The project's deep link as rendered for the message. */
                    location?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not a link this Worker signed (or its target is not an allowed deep link). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            405: components["responses"]["MethodNotAllowed"];
            /** @description The link has expired. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description The server cannot check links (no `JWT_SECRET`). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
    requestMagicLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MagicLinkRequest"];
            };
        };
        responses: {
            /** @description Accepted (the link is emailed, or logged in development). */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MagicLinkAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    verifyMagicLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["VerifyRequest"];
            };
        };
        responses: {
            /** @description Signed in. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerifyAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["InvalidToken"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The owner. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    signOutAll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every session of the account has ended. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["OwnerUnauthorized"];
            500: components["responses"]["InternalError"];
        };
    };
    listProjects: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Project"][];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createProject: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProjectCreate"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getProject: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The project. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Project"];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteProject: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted (no body). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateProject: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProjectPatch"];
            };
        };
        responses: {
            /** @description The project after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Project"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    rotateProjectKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The project with its new `projectKey`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Project"];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    rotateProjectSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new secret. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SecretAnswer"];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listRuleTemplates: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array, in display order. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleTemplate"][];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listRules: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"][];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createRule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RuleCreate"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    simulateRules: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SimulateRequest"];
            };
        };
        responses: {
            /** @description The decision and the trace of every rule. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SimulateAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteRule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The rule's id (`rule_…`). */
                ruleId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted (no body). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateRule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The rule's id (`rule_…`). */
                ruleId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RulePatch"];
            };
        };
        responses: {
            /** @description The rule after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUsageSummary: {
        parameters: {
            query?: {
                period?: "day" | "week" | "month";
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The totals. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UsageSummary"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUsageByIdentity: {
        parameters: {
            query?: {
                /** @description The UTC day (default today). Not together with `from`/`to`. */
                date?: string;
                /** @description First day of a range (with `to`), as an alternative to `date`, where the server supports ranges. */
                from?: string;
                /** @description Last day of a range (inclusive, with `from`; at most 31 days). */
                to?: string;
                limit?: number;
                /** @description The previous page's `nextCursor`. */
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of rows. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UsageByIdentity"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUsageTimeseries: {
        parameters: {
            query?: {
                days?: number;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array ending with today. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TimeseriesDay"][];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCosts: {
        parameters: {
            query?: {
                period?: "day" | "week" | "month";
                limit?: number;
                /** @description Only this identity's spend (every section). */
                identity?: string;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The window's spend. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Costs"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPrices: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prices in micro-dollars per million tokens. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Prices"];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getRuleTriggers: {
        parameters: {
            query?: {
                days?: number;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Statistics per rule and counts per day. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleTriggers"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUpgradeFunnel: {
        parameters: {
            query?: {
                days?: number;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The funnel. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UpgradeFunnel"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getRecentTriggers: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecentTrigger"][];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getIdentity: {
        parameters: {
            query?: {
                /** @description Whose caps are shown (default the project's default tier). */
                tier?: components["parameters"]["TierQuery"];
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The identity's windows under the tier. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IdentityUsage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    resetIdentity: {
        parameters: {
            query?: {
                /** @description Whose caps are shown (default the project's default tier). */
                tier?: components["parameters"]["TierQuery"];
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The identity's windows after the reset. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IdentityUsage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    serverListIdentities: {
        parameters: {
            query?: {
                /** @description Keeps the records whose identity contains this text (case-insensitive), at most 256 characters. */
                search?: components["parameters"]["IdentitySearch"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The records. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IdentityRecordList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["SecretKeyUnauthorized"];
            500: components["responses"]["InternalError"];
        };
    };
    serverGetIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["IdentityRecordOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["SecretKeyUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    serverDeleteIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["SecretKeyUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    serverPatchIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["IdentityRecordPatch"];
            };
        };
        responses: {
            200: components["responses"]["IdentityRecordOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["SecretKeyUnauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    serverGiftIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreditsGift"];
            };
        };
        responses: {
            200: components["responses"]["IdentityRecordOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["SecretKeyUnauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listIdentityRecords: {
        parameters: {
            query?: {
                /** @description Keeps the records whose identity contains this text (case-insensitive), at most 256 characters. */
                search?: components["parameters"]["IdentitySearch"];
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The records. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IdentityRecordList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
        };
    };
    getIdentityRecord: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["IdentityRecordOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    deleteIdentityRecord: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    patchIdentityRecord: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["IdentityRecordPatch"];
            };
        };
        responses: {
            200: components["responses"]["IdentityRecordOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    giftIdentityRecord: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The identity, percent-encoded (UTF-8). */
                identity: components["parameters"]["IdentityPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreditsGift"];
            };
        };
        responses: {
            200: components["responses"]["IdentityRecordOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listBudgets: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["BudgetsOk"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    setBudget: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BudgetSet"];
            };
        };
        responses: {
            200: components["responses"]["BudgetsOk"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    deleteBudget: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The budget's id, `<metric>-<period>` (e.g. `requests-day`). */
                budgetId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed (no body). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listWebhooks: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"][];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookCreate"];
            };
        };
        responses: {
            /** @description Created, with the signing secret. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted (no body). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookPatch"];
            };
        };
        responses: {
            /** @description The endpoint after the change. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    rotateWebhookSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new secret. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookSecretAnswer"];
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    testWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The endpoint's id (`whk_…`). */
                webhookId: components["parameters"]["WebhookId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["WebhookTestRequest"];
            };
        };
        responses: {
            /** @description Queued; its delivery appears in the delivery log. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookTestAnswer"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                status?: components["schemas"]["WebhookDeliveryStatus"];
                /** @description Only this endpoint's deliveries (`whk_…`). */
                endpoint?: string;
                /** @description At most this many (1–200, default 50). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bare array. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDelivery"][];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    redeliverWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project's id (`prj_…`). Another owner's project is a 404. */
                id: components["parameters"]["ProjectId"];
                /** @description The delivery's id (`whd_…`). */
                deliveryId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Pending again. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        /** @constant */
                        status: "pending";
                    };
                };
            };
            401: components["responses"]["OwnerUnauthorized"];
            404: components["responses"]["NotFound"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
}
