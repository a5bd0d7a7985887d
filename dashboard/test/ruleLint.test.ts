import { describe, expect, test } from 'vitest';
import { covers, lintRules, usageToTrigger } from '../src/lib/ruleLint';
import type { Project, RuleDraft } from '../src/lib/types';

const project = {
  id: 'p', name: 'p', provider: 'openai', baseUrl: null, baseUrlOverride: null, providerApiKeyHint: null, projectKey: 'pk_x', defaultTier: 'free',
  tiers: { free: { requests: { limit: 10, period: 'day' } }, pro: { requests: { limit: null, period: 'day' } } },
  requireSignedIdentity: false, allowedOrigins: [],
} as Project;
const pctRule = (name: string, tiers: string[], op: 'gte' | 'gt', threshold: number, action: 'warn' | 'block' | 'allow', priority = 0): RuleDraft => ({
  name, enabled: true, priority,
  condition: { type: 'all', conditions: [{ type: 'tier', tiers }, { type: 'usage_percent', metric: 'requests', operator: op, threshold }] },
  action: { type: action },
});

describe('lintRules', () => {
  test('a later warning covered by an earlier warning is shadowed', () => {
    const f = lintRules([pctRule('80', ['free'], 'gte', 80, 'warn', 1), pctRule('90', ['free'], 'gte', 90, 'warn', 2)], project);
    expect(f.map((x) => [x.ruleIndex, x.kind])).toEqual([[1, 'shadowed']]);
  });
  test('the order matters: the finer rule first shadows nothing', () => {
    expect(lintRules([pctRule('90', ['free'], 'gte', 90, 'warn', 1), pctRule('80', ['free'], 'gte', 80, 'warn', 2)], project)).toEqual([]);
  });
  test('a block before anything it covers shadows it; a warn before a block does not', () => {
    const f = lintRules([pctRule('b', ['free'], 'gte', 50, 'block', 0), pctRule('w', ['free'], 'gte', 90, 'warn', 5)], project);
    expect(f.map((x) => x.kind)).toEqual(['shadowed']);
    expect(lintRules([pctRule('w', ['free'], 'gte', 50, 'warn', 0), pctRule('b', ['free'], 'gt', 100, 'block', 5)], project)).toEqual([]);
  });
  test('never fires: unknown tier, or a percentage of an unlimited tier', () => {
    const f = lintRules([pctRule('ghost', ['gold'], 'gte', 80, 'warn'), pctRule('pro%', ['pro'], 'gte', 80, 'warn')], project);
    expect(f.map((x) => [x.ruleIndex, x.kind])).toEqual([[0, 'never'], [1, 'never']]);
    expect(f[1]?.message).toMatch(/unlimited/);
  });
  test('covers: tier subsets and thresholds', () => {
    expect(covers({ type: 'tier', tiers: ['free', 'pro'] }, { type: 'tier', tiers: ['free'] })).toBe(true);
    expect(covers({ type: 'tier', tiers: ['free'] }, { type: 'tier', tiers: ['free', 'pro'] })).toBe(false);
  });
  test('the proof usage makes the condition hold for the request being decided', () => {
    // 80% of 10 = 8: with 7 before, the request being decided is the 8th.
    expect(usageToTrigger(pctRule('80', ['free'], 'gte', 80, 'warn').condition, project, 'free').requests).toBe(7);
    // > 100% of 10: the 11th request, so 10 before.
    expect(usageToTrigger(pctRule('100', ['free'], 'gt', 100, 'block').condition, project, 'free').requests).toBe(10);
  });
});
