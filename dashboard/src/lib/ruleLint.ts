// Static checks of a rule list: rules that can never fire, and rules that an
// earlier rule always pre-empts (shadowed). Each finding carries a simulator
// input that demonstrates it ("prove it").
import type { Condition, Project, Rule, RuleDraft } from './types';

export interface Finding {
  ruleIndex: number;
  kind: 'never' | 'shadowed' | 'disabled';
  message: string;
  /** A simulate body (without `rules`) that shows the finding. */
  proof?: { tier: string; usage: { requests: number; tokens: number; cost?: number }; requestTokens?: number; requestCost?: number; model?: string };
}

type Atom = Exclude<Condition, { type: 'all' | 'any' }>;

/** The conjunction a condition is, when it is one (`all` of atoms, or an atom). */
function conjunction(c: Condition): Atom[] | null {
  if (c.type === 'all') {
    const out: Atom[] = [];
    for (const s of c.conditions) {
      const sub = conjunction(s);
      if (!sub) return null;
      out.push(...sub);
    }
    return out;
  }
  if (c.type === 'any') return c.conditions.length === 1 && c.conditions[0] ? conjunction(c.conditions[0]) : null;
  return [c as Atom];
}

/** Does atom `a` hold whenever atom `b` holds? */
function implies(b: Atom, a: Atom): boolean {
  if (a.type === 'tier' && b.type === 'tier') return b.tiers.every((t) => a.tiers.includes(t));
  if (a.type === 'model' && b.type === 'model') return b.models.every((m) => a.models.includes(m));
  if ((a.type === 'usage_percent' || a.type === 'usage_absolute') && b.type === a.type && b.metric === a.metric) {
    const up = (o: string) => o === 'gte' || o === 'gt';
    if (up(a.operator) && (up(b.operator) || b.operator === 'eq')) {
      // b: x ≥/>/= tb  ⇒  a: x ≥/> ta
      if (a.operator === 'gte') return b.threshold >= a.threshold;
      return b.operator === 'gt' ? b.threshold >= a.threshold : b.threshold > a.threshold;
    }
    const down = (o: string) => o === 'lte' || o === 'lt';
    if (down(a.operator) && (down(b.operator) || b.operator === 'eq')) {
      if (a.operator === 'lte') return b.threshold <= a.threshold;
      return b.operator === 'lt' ? b.threshold <= a.threshold : b.threshold < a.threshold;
    }
    if (a.operator === 'eq' && b.operator === 'eq') return a.threshold === b.threshold;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Does condition `earlier` hold whenever `later` holds (as far as we can tell)? */
export function covers(earlier: Condition, later: Condition): boolean {
  const e = conjunction(earlier);
  const l = conjunction(later);
  if (!e || !l) return false;
  return e.every((ea) => l.some((la) => implies(la, ea)));
}

function tiersOf(c: Condition, project: Project): string[] {
  const all = Object.keys(project.tiers);
  const conj = conjunction(c);
  if (!conj) return all;
  let tiers = all;
  for (const a of conj) if (a.type === 'tier') tiers = tiers.filter((t) => a.tiers.includes(t));
  return tiers;
}

/** Why a condition can never hold for this project, or null. */
function neverReason(c: Condition, project: Project): string | null {
  if ((c.type === 'all' || c.type === 'any') && c.conditions.length === 0) {
    return c.type === 'any' ? 'an empty "any" never matches' : null;
  }
  if (c.type === 'tier') {
    const known = c.tiers.filter((t) => t in project.tiers);
    if (known.length === 0) return `none of its tiers (${c.tiers.join(', ') || 'none'}) exists in this project`;
  }
  if (c.type === 'model' && c.models.length === 0) return 'it lists no model';
  if (c.type === 'usage_percent' || c.type === 'usage_absolute') {
    if ((c.operator === 'lt' && c.threshold <= 0) || (c.type === 'usage_absolute' && c.operator === 'lte' && c.threshold < 1)) {
      return `usage is never ${c.operator === 'lt' ? 'below' : 'at most'} ${c.threshold} (the request being decided counts)`;
    }
  }
  if (c.type === 'any') {
    const reasons = c.conditions.map((s) => neverReason(s, project));
    return reasons.every((r) => r) ? `no branch can match: ${reasons.join('; ')}` : null;
  }
  if (c.type === 'all') {
    for (const s of c.conditions) {
      const r = neverReason(s, project);
      if (r) return r;
    }
    const tiers = tiersOf(c, project);
    if (tiers.length === 0) return 'its tier conditions exclude each other';
    const conj = conjunction(c);
    if (conj) {
      for (const a of conj) {
        if (a.type !== 'usage_percent') continue;
        const finite = tiers.some((t) => {
          const spec = project.tiers[t]?.[a.metric];
          return spec && spec.limit !== null;
        });
        if (!finite) return `no tier it applies to (${tiers.join(', ')}) has a finite ${a.metric} cap, and a percentage of "unlimited" never matches`;
      }
    }
  }
  if (c.type === 'usage_percent') {
    const finite = Object.values(project.tiers).some((t) => t[c.metric] && t[c.metric]?.limit !== null);
    if (!finite) return `no tier has a finite ${c.metric} cap, and a percentage of "unlimited" never matches`;
  }
  return null;
}

/** Usage (before the request) at which a condition holds, for a simulate proof. */
export function usageToTrigger(c: Condition, project: Project, tier: string): { requests: number; tokens: number; cost: number; requestTokens: number; requestCost: number } {
  const conj = conjunction(c) || [];
  let requests = 0;
  let tokens = 0;
  let cost = 0;
  for (const a of conj) {
    if (a.type !== 'usage_percent' && a.type !== 'usage_absolute') continue;
    let target = a.threshold;
    if (a.type === 'usage_percent') {
      const limit = project.tiers[tier]?.[a.metric]?.limit;
      if (limit === null || limit === undefined) continue;
      target = (a.threshold / 100) * limit;
    }
    const off = a.operator === 'gt' ? 1 : 0;
    // The request being decided adds 1 request (and requestTokens tokens).
    const needed = a.operator === 'lt' || a.operator === 'lte' ? 0 : Math.max(0, Math.ceil(target + (a.operator === 'gt' && Number.isInteger(target) ? off : 0)) - 1);
    if (a.metric === 'requests') requests = Math.max(requests, needed);
    else if (a.metric === 'tokens') tokens = Math.max(tokens, needed + 1);
    else cost = Math.max(cost, needed + 1);
  }
  // The request being decided reserves 1 token and 1 µUSD: the proof's usage plus it reaches the threshold.
  return { requests, tokens, cost, requestTokens: 1, requestCost: 1 };
}

export function lintRules(rules: (Rule | RuleDraft)[], project: Project): Finding[] {
  const findings: Finding[] = [];
  const order = rules.map((r, i) => ({ r, i })).sort((a, b) => a.r.priority - b.r.priority || a.i - b.i);
  order.forEach(({ r, i }, pos) => {
    const tier = tiersOf(r.condition, project)[0] || project.defaultTier;
    const model = (() => {
      const conj = conjunction(r.condition);
      const m = conj?.find((a) => a.type === 'model');
      return m && m.type === 'model' ? m.models[0] : undefined;
    })();
    const trigger = usageToTrigger(r.condition, project, tier);
    const proof = {
      tier,
      usage: { requests: trigger.requests, tokens: trigger.tokens, cost: trigger.cost },
      requestTokens: trigger.requestTokens,
      requestCost: trigger.requestCost,
      ...(model ? { model } : {}),
    };
    if (!r.enabled) {
      findings.push({ ruleIndex: i, kind: 'disabled', message: `“${r.name}” is disabled: it never fires until you enable it.` });
      return;
    }
    const never = neverReason(r.condition, project);
    if (never) {
      findings.push({ ruleIndex: i, kind: 'never', message: `“${r.name}” can never fire: ${never}.`, proof });
      return;
    }
    for (const { r: e } of order.slice(0, pos)) {
      if (!e.enabled || neverReason(e.condition, project)) continue;
      const decides = e.action.type === 'block' || (e.action.type === 'allow' && r.action.type !== 'warn');
      const sameWarn = e.action.type === 'warn' && r.action.type === 'warn';
      if ((decides || sameWarn) && covers(e.condition, r.condition)) {
        const why = sameWarn
          ? `only the first matching warning is attached, and “${e.name}” (priority ${e.priority}) matches whenever it does`
          : `“${e.name}” (priority ${e.priority}, ${e.action.type}) matches whenever it does and decides first`;
        findings.push({ ruleIndex: i, kind: 'shadowed', message: `“${r.name}” is shadowed: ${why}.`, proof });
        return;
      }
    }
  });
  return findings;
}
