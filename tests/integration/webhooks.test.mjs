// Webhooks (docs/API.md, "Webhooks"): a receiver in this process verifies
// every Standard Webhooks signature, sees the retries after it answered
// failures and no duplicate after its success, sees one event per identity
// and window (not one per request), the dead letter after the last attempt
// and a redelivery with the same event id. Events never carry prompt
// content, and neither does the delivery log. Needs the test stack's short
// back-off (AIRL_WEBHOOK_RETRY_BASE_MS, set by `npm test`).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BASE, api, createProject, hexSuffix, login, proxyChat, sql, uniqueId, waitFor } from './helpers.mjs';
import { startReceiver, verify } from './webhook-receiver.mjs';

let receiver;
let owner;

before(async () => {
  receiver = await startReceiver();
  owner = await login();
});

after(async () => {
  await receiver?.close();
});

async function endpoint(project, path, events, extra = {}) {
  const res = await api(`/api/projects/${project.id}/webhooks`, {
    token: owner,
    body: { url: `${receiver.url}${path}`, events, ...extra },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function deliveries(project, query = '') {
  const res = await api(`/api/projects/${project.id}/webhook-deliveries${query}`, { token: owner });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

function chat(project, identity, content, extra = {}) {
  return proxyChat(project.projectKey, { identity, messages: [{ role: 'user', content }], model: 'gpt-4o-mini', ...extra });
}

const at = (path) => receiver.received.filter((r) => r.path === path);

describe('webhook endpoints (owner API)', () => {
  test('create answers the whsec_ secret once; list, update, rotate and delete work; bad input is a 400', async () => {
    const project = await createProject(owner);
    const base = `/api/projects/${project.id}/webhooks`;
    for (const [body, field] of [
      [{ url: 'http://169.254.169.254/latest', events: ['identity.warned'] }, 'url'],
      [{ url: 'ftp://example.com/x', events: ['identity.warned'] }, 'url'],
      [{ url: `${receiver.url}/x`, events: [] }, 'events'],
      [{ url: `${receiver.url}/x`, events: ['identity.nope'] }, 'events'],
      [{ url: `${receiver.url}/x` }, 'events'],
      [{ events: ['identity.warned'] }, 'url'],
      [{ url: `${receiver.url}/x`, events: ['identity.warned'], secret: 'x' }, 'secret'],
    ]) {
      const res = await api(base, { token: owner, body });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assert.equal(res.body.field, field, res.text);
    }
    const created = await endpoint(project, '/crud', ['identity.limit_reached', 'identity.warned'], { description: 'billing' });
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(created.secret.slice(6), 'base64').length, 24);
    assert.deepEqual(created.events, ['identity.warned', 'identity.limit_reached']);
    const listed = await api(base, { token: owner });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.length, 1);
    assert.equal(listed.body[0].secret, undefined, 'the secret is never listed');
    assert.ok(!listed.text.includes(created.secret));
    const stored = await sql('SELECT secret_enc FROM webhook_endpoints WHERE id = $1', [created.id]);
    assert.ok(!stored[0].secret_enc.includes(created.secret.slice(6)), 'the secret is sealed at rest');

    const patched = await api(`${base}/${created.id}`, { method: 'PATCH', token: owner, body: { events: ['budget.threshold'], enabled: false } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.events, ['budget.threshold']);
    assert.equal(patched.body.enabled, false);
    assert.equal(patched.body.description, 'billing');
    const refused = await api(`${base}/${created.id}`, { method: 'PATCH', token: owner, body: { url: 'http://[::ffff:169.254.169.254]/' } });
    assert.equal(refused.status, 400, refused.text);

    const rotated = await api(`${base}/${created.id}/secret/rotate`, { method: 'POST', token: owner });
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.body.secret, created.secret);

    const disabledTest = await api(`${base}/${created.id}/test`, { method: 'POST', token: owner });
    assert.equal(disabledTest.status, 400, 'a disabled endpoint is not sent to');

    // Another owner sees none of it.
    const stranger = await login();
    for (const [method, p] of [
      ['GET', base],
      ['PATCH', `${base}/${created.id}`],
      ['DELETE', `${base}/${created.id}`],
      ['POST', `${base}/${created.id}/test`],
      ['POST', `${base}/${created.id}/secret/rotate`],
      ['GET', `/api/projects/${project.id}/webhook-deliveries`],
    ]) {
      const res = await api(p, { method, token: stranger, body: method === 'PATCH' ? { enabled: true } : undefined });
      assert.equal(res.status, 404, `${method} ${p} by another owner → ${res.status}`);
    }

    assert.equal((await api(`${base}/${created.id}`, { method: 'DELETE', token: owner })).status, 204);
    assert.equal((await api(`${base}/${created.id}`, { method: 'DELETE', token: owner })).status, 404);
    assert.deepEqual((await api(base, { token: owner })).body, []);
  });
});

describe('webhook deliveries', () => {
  test('a cap reached is one signed event per identity and window, retried after 500, 500 and never again after 200', { timeout: 120000 }, async (t) => {
    const canary = `CANARYHOOK${hexSuffix(8)}`;
    const project = await createProject(owner, { tiers: { free: { requests: { limit: 2, period: 'day' } } }, defaultTier: 'free' });
    const flaky = `/flaky-${hexSuffix(4)}`;
    receiver.plans.set(flaky, (n) => (n < 2 ? 500 : 200));
    const hook = await endpoint(project, flaky, ['identity.limit_reached']);
    const quiet = `/quiet-${hexSuffix(4)}`;
    await endpoint(project, quiet, ['identity.warned']); // not subscribed to caps

    const alice = uniqueId('alice');
    for (let i = 0; i < 2; i++) assert.equal((await chat(project, alice, `${canary} hello ${i}`)).status, 200);
    const blockedAt = Date.now();
    for (let i = 0; i < 3; i++) assert.equal((await chat(project, alice, `${canary} over ${i}`)).status, 429);

    await waitFor(() => at(flaky).some((r) => r.status === 200), { timeoutMs: 45000, message: 'the third attempt succeeds' });
    const first = at(flaky);
    assert.equal(first.length, 3, 'two failures and one success');
    assert.deepEqual(first.map((r) => r.status), [500, 500, 200]);
    const ids = new Set(first.map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1, 'every retry carries the same event id');
    for (const r of first) assert.ok(verify(hook.secret, r), `signature verifies: ${r.headers['webhook-signature']}`);
    assert.ok(first[1].at - first[0].at >= 90 && first[2].at - first[1].at >= 90, 'retries wait (back-off)');
    t.diagnostic(`first attempt ${first[0].at - blockedAt} ms after the first 429; retries after ${first[1].at - first[0].at} and ${first[2].at - first[1].at} ms (test back-off: 200 ms doubling, ×[0.5,1) jitter)`);
    const event = JSON.parse(first[2].body);
    assert.equal(event.type, 'identity.limit_reached');
    assert.equal(event.id, first[0].headers['webhook-id']);
    assert.equal(event.data.identity, alice);
    assert.equal(event.data.tier, 'free');
    assert.equal(event.data.metric, 'requests');
    assert.equal(event.data.window, 'day');
    assert.equal(event.data.limit, 2);
    assert.equal(event.data.used, 2);
    assert.equal(event.data.projectId, project.id);
    assert.match(event.data.windowResetsAt, /T00:00:00\.?\d*Z$|T00:00:00Z$/);

    // A second identity's event, delivered after: by then a duplicate of the
    // first (had there been one) would have arrived.
    // Bob: 12 requests at once against 2/day → 2 admitted, 10 refused, one event.
    const bob = uniqueId('bob');
    const statuses = (await Promise.all(Array.from({ length: 12 }, (_, i) => chat(project, bob, `${canary} bob ${i}`)))).map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 429).length, 10, statuses.join(','));
    await waitFor(() => at(flaky).some((r) => JSON.parse(r.body).data.identity === bob && r.status === 200), { timeoutMs: 45000, message: "bob's event delivered" });
    const aliceIds = at(flaky).filter((r) => JSON.parse(r.body).data.identity === alice);
    assert.equal(aliceIds.length, 3, 'no duplicate after the success, and one event for three blocked requests');
    const bobEvents = new Set(at(flaky).filter((r) => JSON.parse(r.body).data.identity === bob).map((r) => r.headers['webhook-id']));
    assert.equal(bobEvents.size, 1, 'one event for ten concurrent blocked requests');
    assert.equal(at(quiet).length, 0, 'an endpoint not subscribed to caps gets nothing');

    const log = await deliveries(project, `?endpoint=${hook.id}`);
    assert.equal(log.length, 2, JSON.stringify(log));
    const aliceRow = log.find((d) => d.payload.data.identity === alice);
    assert.equal(aliceRow.status, 'delivered');
    assert.equal(aliceRow.attempts, 3);
    assert.equal(aliceRow.lastStatusCode, 200);
    assert.equal(aliceRow.nextAttemptAt, null);
    assert.equal(aliceRow.eventId, event.id);

    // Privacy: the prompt reaches neither the receiver nor the log nor the table.
    const everything = JSON.stringify(receiver.received) + JSON.stringify(log);
    assert.ok(!everything.includes(canary), 'no prompt content in webhooks');
    const rows = await sql('SELECT x::text AS row FROM webhook_deliveries x WHERE project_id = $1', [project.id]);
    assert.ok(rows.length === 2 && rows.every((r) => !r.row.includes(canary)), 'no prompt content in the delivery table');
    assert.ok(rows.some((r) => r.row.includes(alice)), 'positive control: the search finds what is there');
  });

  test('a warn rule and a block rule each fire one event per window, naming the rule', { timeout: 120000 }, async () => {
    const project = await createProject(owner, {
      tiers: { free: { requests: { limit: 10, period: 'day' } }, banned: { requests: { limit: 10, period: 'day' } } },
      defaultTier: 'free',
    });
    const path = `/rules-${hexSuffix(4)}`;
    const hook = await endpoint(project, path, ['identity.warned', 'identity.blocked']);
    const warn = await api(`/api/projects/${project.id}/rules`, {
      token: owner,
      body: {
        name: 'Half used',
        priority: 1,
        condition: { type: 'usage_percent', metric: 'requests', operator: 'gte', threshold: 20 },
        action: { type: 'warn', message: 'Half way there' },
      },
    });
    assert.equal(warn.status, 201, warn.text);
    const block = await api(`/api/projects/${project.id}/rules`, {
      token: owner,
      body: { name: 'Banned tier', priority: 0, condition: { type: 'tier', tiers: ['banned'] }, action: { type: 'block', message: 'No' } },
    });
    assert.equal(block.status, 201, block.text);

    const carol = uniqueId('carol');
    for (let i = 0; i < 4; i++) assert.equal((await chat(project, carol, 'hi')).status, 200); // warned from the 2nd on
    const dave = uniqueId('dave');
    for (let i = 0; i < 3; i++) assert.equal((await chat(project, dave, 'hi', { tier: 'banned' })).status, 429);

    await waitFor(() => at(path).length >= 2, { timeoutMs: 45000, message: 'both rule events' });
    const log = await waitFor(async () => {
      const l = await deliveries(project);
      return l.length === 2 && l.every((d) => d.status === 'delivered') && l;
    }, { timeoutMs: 45000, message: 'two delivered' });
    assert.equal(at(path).length, 2, 'one event per rule and window, not one per request');
    const byType = Object.fromEntries(at(path).map((r) => [JSON.parse(r.body).type, JSON.parse(r.body)]));
    assert.equal(byType['identity.warned'].data.identity, carol);
    assert.equal(byType['identity.warned'].data.ruleId, warn.body.id);
    assert.equal(byType['identity.warned'].data.ruleName, 'Half used');
    assert.equal(byType['identity.warned'].data.used, 2, 'the request that crossed the threshold');
    assert.equal(byType['identity.warned'].data.limit, 10);
    assert.equal(byType['identity.blocked'].data.identity, dave);
    assert.equal(byType['identity.blocked'].data.ruleId, block.body.id);
    assert.equal(byType['identity.blocked'].data.tier, 'banned');
    for (const r of at(path)) assert.ok(verify(hook.secret, r));
    assert.equal(log.length, 2);
  });

  test('every attempt failing ends in the dead letter; a redelivery keeps the event id and succeeds', { timeout: 150000 }, async (t) => {
    const project = await createProject(owner);
    const path = `/down-${hexSuffix(4)}`;
    let up = false;
    receiver.plans.set(path, () => (up ? 200 : 503));
    const hook = await endpoint(project, path, ['budget.threshold']);
    const sent = await api(`/api/projects/${project.id}/webhooks/${hook.id}/test`, { token: owner, body: { type: 'budget.threshold' } });
    assert.equal(sent.status, 202, sent.text);
    const dead = await waitFor(async () => (await deliveries(project, '?status=dead'))[0], { timeoutMs: 90000, message: 'dead letter' });
    assert.equal(dead.attempts, dead.maxAttempts);
    assert.equal(dead.lastStatusCode, 503);
    assert.equal(dead.lastError, 'HTTP 503');
    assert.equal(dead.nextAttemptAt, null);
    assert.equal(dead.eventId, sent.body.eventId);
    assert.equal(at(path).length, dead.maxAttempts, 'exactly maxAttempts attempts, then none');
    assert.deepEqual((await deliveries(project, '?status=pending')), []);
    const gaps = at(path).slice(1).map((r, i) => r.at - at(path)[i].at);
    assert.ok(gaps[2] > gaps[0], `back-off grows: ${gaps}`);
    t.diagnostic(`dead letter after ${dead.attempts} attempts over ${at(path).at(-1).at - at(path)[0].at} ms; gaps ${gaps.join(', ')} ms`);

    const body = JSON.parse(at(path)[0].body);
    assert.equal(body.type, 'budget.threshold');
    assert.equal(body.data.thresholdPercent, 80);
    assert.equal(body.data.sample, true);
    for (const r of at(path)) assert.ok(verify(hook.secret, r));

    up = true;
    const again = await api(`/api/projects/${project.id}/webhook-deliveries/${dead.id}/redeliver`, { method: 'POST', token: owner });
    assert.equal(again.status, 202, again.text);
    await waitFor(async () => (await deliveries(project, '?status=delivered')).length === 1, { timeoutMs: 45000, message: 'redelivered' });
    const last = at(path).at(-1);
    assert.equal(last.status, 200);
    assert.equal(last.headers['webhook-id'], sent.body.eventId, 'the same event id');
    assert.equal(at(path).length, dead.maxAttempts + 1);
    const missing = await api(`/api/projects/${project.id}/webhook-deliveries/whd_nope/redeliver`, { method: 'POST', token: owner });
    assert.equal(missing.status, 404);
    const badStatus = await api(`/api/projects/${project.id}/webhook-deliveries?status=lost`, { token: owner });
    assert.equal(badStatus.status, 400);
  });

  test('a rotated secret signs the next delivery; a disabled endpoint gets no events', { timeout: 90000 }, async () => {
    const project = await createProject(owner, { tiers: { free: { requests: { limit: 1, period: 'day' } } }, defaultTier: 'free' });
    const path = `/rot-${hexSuffix(4)}`;
    const hook = await endpoint(project, path, ['identity.limit_reached']);
    const off = `/off-${hexSuffix(4)}`;
    await endpoint(project, off, ['identity.limit_reached'], { enabled: false });
    const rotated = await api(`/api/projects/${project.id}/webhooks/${hook.id}/secret/rotate`, { method: 'POST', token: owner });
    const erin = uniqueId('erin');
    await chat(project, erin, 'hi');
    assert.equal((await chat(project, erin, 'hi')).status, 429);
    await waitFor(() => at(path).length === 1, { timeoutMs: 45000, message: 'delivered' });
    assert.ok(verify(rotated.body.secret, at(path)[0]), 'signed with the new secret');
    assert.ok(!verify(hook.secret, at(path)[0]), 'not with the old one');
    const sent = await api(`/api/projects/${project.id}/webhooks/${hook.id}/test`, { method: 'POST', token: owner });
    assert.equal(sent.status, 202);
    await waitFor(() => at(path).length === 2, { timeoutMs: 45000, message: 'test event delivered' });
    assert.equal(JSON.parse(at(path)[1].body).type, 'webhook.test');
    assert.equal(at(off).length, 0, 'the disabled endpoint got nothing');
  });

  test('once nothing is pending, the project\'s sender sleeps instead of polling Postgres', { timeout: 90000 }, async () => {
    const project = await createProject(owner, { tiers: { free: { requests: { limit: 1, period: 'day' } } }, defaultTier: 'free' });
    const path = `/idle-${hexSuffix(4)}`;
    await endpoint(project, path, ['identity.limit_reached']);
    const gina = uniqueId('gina');
    await chat(project, gina, 'hi');
    assert.equal((await chat(project, gina, 'hi')).status, 429);
    await waitFor(() => at(path).length === 1, { timeoutMs: 45000, message: 'delivered' });
    // The sender as its object reports it (test stacks only): when it runs
    // next and how often it has run. A sender that re-arms itself with
    // nothing to send polls the database forever, once per project that
    // ever raised an event.
    const sender = async () => {
      const res = await fetch(`${BASE}/__test/webhook-outbox/${project.id}`);
      assert.equal(res.status, 200, 'the test stack serves the sender state');
      return res.json();
    };
    await waitFor(async () => (await sender()).alarmAt === null, { timeoutMs: 15000, message: 'the sender goes to sleep' });
    const [{ pending }] = await sql("SELECT count(*)::int AS pending FROM webhook_deliveries WHERE project_id = $1 AND status = 'pending'", [project.id]);
    assert.equal(pending, 0);
    const { runs } = await sender();
    // Asleep means no run at all over the next seconds (a spinning sender
    // runs hundreds of times in that window).
    const watchUntil = Date.now() + 3000;
    while (Date.now() < watchUntil) {
      const now = await sender();
      assert.equal(now.runs, runs, 'the sender did not run again');
      assert.equal(now.alarmAt, null, 'and has no run scheduled');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  test('a project budget reaching 80 % and 100 % sends one budget.threshold event each, signed', { timeout: 120000 }, async () => {
    const project = await createProject(owner, { tiers: { free: { requests: { limit: 1000, period: 'day' } } }, defaultTier: 'free' });
    const path = `/budget-${hexSuffix(4)}`;
    const hook = await endpoint(project, path, ['budget.threshold']);
    const quiet = `/caps-${hexSuffix(4)}`;
    await endpoint(project, quiet, ['identity.limit_reached']); // not subscribed to budgets
    const set = await api(`/api/projects/${project.id}/budgets`, { token: owner, body: { metric: 'requests', period: 'day', limit: 5 } });
    assert.equal(set.status, 200, set.text);
    // One request at a time over fresh identities until the budget refuses
    // one (within a deadline: a budget closes about 1.5 s after the usage
    // that fills it, however many requests fit in that time).
    let refused = false;
    for (const until = Date.now() + 15000; Date.now() < until && !refused; ) {
      const r = await chat(project, uniqueId('budget'), 'hi');
      if (r.status === 429) {
        assert.equal(r.body.error, 'project_budget_exceeded', r.text);
        refused = true;
      } else assert.equal(r.status, 200, r.text);
    }
    assert.ok(refused, 'the budget closed');
    await waitFor(() => at(path).length >= 2, { timeoutMs: 60000, message: 'both budget events delivered' });
    const events = at(path).map((r) => ({ r, e: JSON.parse(r.body) }));
    for (const { r } of events) assert.ok(verify(hook.secret, r), 'signature verifies');
    assert.deepEqual(events.map(({ e }) => e.type), ['budget.threshold', 'budget.threshold']);
    assert.deepEqual(events.map(({ e }) => e.data.thresholdPercent).sort((a, b) => a - b), [80, 100]);
    for (const { e } of events) {
      assert.equal(e.data.projectId, project.id);
      assert.equal(e.data.budgetId, 'requests-day');
      assert.equal(e.data.metric, 'requests');
      assert.equal(e.data.window, 'day');
      assert.equal(e.data.limit, 5);
      assert.ok(e.data.used >= (e.data.thresholdPercent === 100 ? 5 : 4), JSON.stringify(e.data));
    }
    // More refused traffic in the same window raises nothing new.
    for (let i = 0; i < 3; i += 1) assert.equal((await chat(project, uniqueId('late'), 'hi')).status, 429);
    const log = await deliveries(project, `?endpoint=${hook.id}`);
    assert.equal(log.length, 2, JSON.stringify(log));
    assert.equal(new Set(events.map(({ r }) => r.headers['webhook-id'])).size, 2, 'two distinct events');
    assert.equal(at(quiet).length, 0, 'an endpoint not subscribed to budgets gets nothing');
  });
});
