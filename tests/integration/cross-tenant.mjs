// The cross-tenant matrix: every `/api/projects/:id/*` route of the dashboard
// API (docs/API.md, "Owner API"). `owner-cross-tenant.test.mjs` calls each one as an
// owner who does not own the project (→ 404, nothing changed) and as the
// owner (→ not 404, so the matrix cannot pass by the route not existing).
//
// A descriptor is `{method, path: (projectId, ctx) => string, body?, query?}`;
// `ctx` holds ids the route needs besides the project (see `matrixContext`).
// When you add a route under /api/projects/:id, add it here.

import { api } from './helpers.mjs';

const enc = encodeURIComponent;

/** A valid rule body (docs/API.md, "Rules"), used to create and patch rules. */
export const SAMPLE_RULE = {
  name: 'Free tier 80% warning',
  enabled: true,
  priority: 10,
  condition: {
    type: 'all',
    conditions: [
      { type: 'tier', tiers: ['free'] },
      { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 80 },
    ],
  },
  action: { type: 'warn', message: 'You have used 80% of your free requests' },
};

/** A webhook endpoint nobody listens on (connection refused: its deliveries end dead). */
export const SAMPLE_WEBHOOK = { url: 'http://127.0.0.1:9/matrix', events: ['identity.limit_reached'] };

/** @type {{method: string, path: (projectId: string, ctx: Record<string,string>) => string, body?: any}[]} */
export const PROJECT_ROUTES = [
  // Projects
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}` },
  { method: 'PATCH', path: (id) => `/api/projects/${enc(id)}`, body: { name: 'renamed by the matrix' } },
  { method: 'DELETE', path: (id) => `/api/projects/${enc(id)}` },
  { method: 'POST', path: (id) => `/api/projects/${enc(id)}/keys/rotate` },
  { method: 'POST', path: (id) => `/api/projects/${enc(id)}/secret/rotate` },
  // Rules
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/rules` },
  { method: 'POST', path: (id) => `/api/projects/${enc(id)}/rules`, body: SAMPLE_RULE },
  {
    method: 'PATCH',
    path: (id, ctx) => `/api/projects/${enc(id)}/rules/${enc(ctx.ruleId)}`,
    body: { enabled: false },
  },
  { method: 'DELETE', path: (id, ctx) => `/api/projects/${enc(id)}/rules/${enc(ctx.ruleId)}` },
  {
    method: 'POST',
    path: (id) => `/api/projects/${enc(id)}/rules/simulate`,
    body: { tier: 'free', usage: { requests: 2, tokens: 0 } },
  },
  // Usage and analytics
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/usage/summary?period=day` },
  {
    method: 'GET',
    path: (id) => `/api/projects/${enc(id)}/usage/by-identity?date=${new Date().toISOString().slice(0, 10)}&limit=10`,
  },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/usage/timeseries?days=7` },
  { method: 'GET', path: (id, ctx) => `/api/projects/${enc(id)}/identities/${enc(ctx.identity)}` },
  { method: 'POST', path: (id, ctx) => `/api/projects/${enc(id)}/identities/${enc(ctx.identity)}/reset` },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/analytics/rule-triggers?days=7` },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/analytics/recent-triggers?limit=50` },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/analytics/costs?period=month` },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/prices` },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/analytics/funnel?days=30` },
  // Identity records
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/identity-records?search=matrix` },
  { method: 'GET', path: (id, ctx) => `/api/projects/${enc(id)}/identity-records/${enc(ctx.identity)}` },
  {
    method: 'PATCH',
    path: (id, ctx) => `/api/projects/${enc(id)}/identity-records/${enc(ctx.identity)}`,
    body: { blocked: true, blockMessage: 'Blocked by the matrix' },
  },
  {
    method: 'POST',
    path: (id, ctx) => `/api/projects/${enc(id)}/identity-records/${enc(ctx.identity)}/credits`,
    body: { requests: 1000 },
  },
  { method: 'DELETE', path: (id, ctx) => `/api/projects/${enc(id)}/identity-records/${enc(ctx.identity)}` },
  // Webhooks
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/webhooks` },
  { method: 'POST', path: (id) => `/api/projects/${enc(id)}/webhooks`, body: SAMPLE_WEBHOOK },
  { method: 'PATCH', path: (id, ctx) => `/api/projects/${enc(id)}/webhooks/${enc(ctx.webhookId)}`, body: { enabled: false } },
  { method: 'DELETE', path: (id, ctx) => `/api/projects/${enc(id)}/webhooks/${enc(ctx.webhookId)}` },
  { method: 'POST', path: (id, ctx) => `/api/projects/${enc(id)}/webhooks/${enc(ctx.webhookId)}/secret/rotate` },
  { method: 'POST', path: (id, ctx) => `/api/projects/${enc(id)}/webhooks/${enc(ctx.webhookId)}/test` },
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/webhook-deliveries?status=dead` },
  { method: 'POST', path: (id, ctx) => `/api/projects/${enc(id)}/webhook-deliveries/${enc(ctx.deliveryId)}/redeliver` },
  // Project budgets
  { method: 'GET', path: (id) => `/api/projects/${enc(id)}/budgets` },
  { method: 'POST', path: (id) => `/api/projects/${enc(id)}/budgets`, body: { metric: 'requests', period: 'day', limit: 1 } },
  { method: 'DELETE', path: (id) => `/api/projects/${enc(id)}/budgets/requests-month` },
];

/** Placeholders used in test names: `PATCH /api/projects/:id/rules/:ruleId`. */
export function routeLabel(route) {
  const p = route.path('\u0000id', { ruleId: '\u0000ruleId', identity: '\u0000identity', webhookId: '\u0000webhookId', deliveryId: '\u0000deliveryId' });
  return `${route.method} ${decodeURIComponent(p).replace(/\u0000/g, ':').replace(/\?.*$/, '')}`;
}

/**
 * The ids the routes need besides the project, made by its owner: a rule
 * (when the rules API exists; else a placeholder id), an identity, which
 * gets an identity record (so that reading and deleting it is not a 404),
 * and a (disabled) webhook endpoint with one (test) delivery.
 */
export async function matrixContext(token, projectId, { identity = 'matrix-identity' } = {}) {
  const ctx = { ruleId: 'rule_matrix_placeholder', identity };
  const rule = await api(`/api/projects/${enc(projectId)}/rules`, { token, body: SAMPLE_RULE });
  if (rule.status === 201 && rule.body?.id) ctx.ruleId = rule.body.id;
  await api(`/api/projects/${enc(projectId)}/identity-records/${enc(identity)}`, { method: 'PATCH', token, body: { metadata: { matrix: true } } });
  ctx.webhookId = 'whk_matrix_placeholder';
  ctx.deliveryId = 'whd_matrix_placeholder';
  const hook = await api(`/api/projects/${enc(projectId)}/webhooks`, { token, body: SAMPLE_WEBHOOK });
  if (hook.status === 201) {
    ctx.webhookId = hook.body.id;
    await api(`/api/projects/${enc(projectId)}/webhooks/${enc(hook.body.id)}/test`, { method: 'POST', token });
    // Disabled at once: its delivery stays in the log without being retried
    // against nobody (each project's retries would hold database connections).
    await api(`/api/projects/${enc(projectId)}/webhooks/${enc(hook.body.id)}`, { method: 'PATCH', token, body: { enabled: false } });
    const log = await api(`/api/projects/${enc(projectId)}/webhook-deliveries`, { token });
    if (log.status === 200 && log.body[0]) ctx.deliveryId = log.body[0].id;
  }
  // A budget the matrix's DELETE can find (generous: it never refuses the matrix's own requests).
  await api(`/api/projects/${enc(projectId)}/budgets`, { token, body: { metric: 'requests', period: 'month', limit: 1_000_000 } });
  return ctx;
}

/** Calls one matrix route. */
export function callRoute(route, token, projectId, ctx) {
  return api(route.path(projectId, ctx), { method: route.method, token, body: route.body });
}

/** True when the Worker has no such route yet (its generic 404). */
export function isMissingRoute(res) {
  return res.status === 404 && res.body?.error === 'not_found' && res.body?.message === 'Route not found';
}
