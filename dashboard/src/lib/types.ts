// Wire types of the owner API (docs/API.md, "Owner API").

export type Metric = 'requests' | 'tokens' | 'cost';
export type Period = 'minute' | 'hour' | 'day' | 'week' | 'month';
export const PERIODS: Period[] = ['minute', 'hour', 'day', 'week', 'month'];
export const PERIOD_SECONDS: Record<Period, number> = { minute: 60, hour: 3600, day: 86400, week: 604800, month: 2592000 };

export interface LimitSpec {
  limit: number | null;
  period: Period;
}
export interface ModelLimits {
  requests?: LimitSpec;
  tokens?: LimitSpec;
  /** Micro-dollars. */
  cost?: LimitSpec;
}
export interface Tier {
  requests?: LimitSpec;
  tokens?: LimitSpec;
  /** Micro-dollars. */
  cost?: LimitSpec;
  models?: Record<string, ModelLimits>;
  limitMessage?: { message: string; deepLink?: string | null };
  defaultMaxTokens?: number;
}
export type Provider = 'openai' | 'anthropic' | 'google' | 'xai' | 'other';
export interface Project {
  id: string;
  name: string;
  provider: Provider;
  baseUrl: string | null;
  baseUrlOverride: string | null;
  providerApiKeyHint: string | null;
  projectKey: string;
  defaultTier: string;
  tiers: Record<string, Tier>;
  requireSignedIdentity: boolean;
  allowedOrigins: string[];
  /** Where a request's tier comes from (docs/API.md, "Tier trust"). */
  tierSource?: TierSource;
  /** Per-IP caps for unsigned requests (docs/API.md, "Per-IP caps for unsigned traffic"). */
  anonymousLimits?: { requests?: LimitSpec; tokens?: LimitSpec } | null;
  /** The project's own prices, µUSD per million tokens (docs/API.md, "Cost"). */
  modelPrices?: Record<string, ModelPrice>;
  /** What one identity on a tier pays per month, µUSD. */
  tierPrices?: Record<string, number>;
  /** Tracked redirects and the tier order of the upgrade funnel (docs/API.md, "Upgrade funnel"). */
  upgradeFunnel?: UpgradeFunnelSettings;
  createdAt?: string;
  updatedAt?: string;
  secretKey?: string;
}

export type Condition =
  | { type: 'usage_percent' | 'usage_absolute'; metric: Metric; operator: Operator; threshold: number }
  | { type: 'tier'; tiers: string[] }
  | { type: 'model'; models: string[] }
  | { type: 'all' | 'any'; conditions: Condition[] };
export type Operator = 'gte' | 'gt' | 'lte' | 'lt' | 'eq';
export type ActionType = 'warn' | 'block' | 'allow';
export interface Action {
  type: ActionType;
  message?: string | null;
  deepLink?: string | null;
}
export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  priority: number;
  condition: Condition;
  action: Action;
}
export type RuleDraft = Omit<Rule, 'id'> & { id?: string };
export interface RuleTemplate {
  id: string;
  name: string;
  description: string;
  rule: RuleDraft;
}
export interface SimulateAnswer {
  decision: 'allow' | 'warn' | 'block';
  matchedRule: { id: string; name: string } | null;
  message: string | null;
  deepLink: string | null;
  trace: { ruleId: string; matched: boolean; reason: string }[];
}
export interface Summary {
  period: string;
  from: string;
  to: string;
  requests: number;
  tokens: { input: number; output: number; total: number };
  identities: number;
  blocked: number;
  warned: number;
  /** Answers whose provider usage had a count out of range (clamped or ignored). */
  usageFlagged: number;
  /** Micro-dollars. */
  cost: number;
  byTier: Record<string, { requests: number; tokens: number; blocked: number; cost: number }>;
}
export interface DayPoint {
  date: string;
  requests: number;
  tokens: number;
  blocked: number;
  cost: number;
}
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
}
export interface PriceInForce {
  priced: boolean;
  source: 'project' | 'table' | null;
  pricedAs: string | null;
  price: Required<ModelPrice> | null;
}
export interface Prices {
  currency: string;
  unit: string;
  table: { source: string; date: string; models: ({ provider: string; model: string } & Required<ModelPrice>)[] };
  modelPrices: Record<string, Required<ModelPrice>>;
  models: ({ model: string; requests: number; cost: number } & PriceInForce)[];
}
export interface IdentitySpend {
  identity: string;
  tier: string;
  requests: number;
  tokens: number;
  cost: number;
  tierPrice: number | null;
  margin: number | null;
}
export interface Costs {
  period: string;
  from: string;
  to: string;
  currency: string;
  unit: string;
  cost: number;
  byTier: { tier: string; requests: number; cost: number; identities: number; tierPrice: number | null; revenue: number | null; margin: number | null }[];
  byModel: ({ model: string; requests: number; tokens: number; cost: number } & PriceInForce)[];
  byIdentity: IdentitySpend[];
  unprofitable: IdentitySpend[];
}
export interface IdentityRow {
  date: string;
  identity: string;
  tier: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  tokens: number;
  blocked: number;
  warned: number;
  cost: number;
}
export interface TriggerStats {
  stats: { ruleId: string; ruleName: string; triggerCount: number; uniqueIdentities: number; lastTriggered: string }[];
  byDay: { date: string; count: number }[];
}
export interface RecentTrigger {
  ruleId: string;
  ruleName: string;
  identity: string;
  tier: string;
  action: string;
  usagePercent: number | null;
  triggeredAt: string;
}
export interface UsageLimit {
  limitType: Metric;
  period: Period;
  model: string | null;
  limit: number | null;
  used: number;
  remaining: number | null;
  resetAt: string;
}
export interface IdentityUsage {
  identity: string;
  tier: string;
  limits: UsageLimit[];
}

export type TierSource = 'request' | 'server';

/** An identity record (docs/API.md, "Identity records"). */
export interface IdentityRecord {
  identity: string;
  tier: string | null;
  limits: { requests?: LimitSpec; tokens?: LimitSpec; cost?: LimitSpec; models?: Record<string, ModelLimits> } | null;
  credits: { requests: number; tokens: number; cost?: number };
  unlimitedUntil: string | null;
  blocked: boolean;
  blockMessage: string | null;
  metadata: Record<string, unknown>;
  updatedAt: string;
}

/** A project budget with the project's usage in its current window (`GET /api/projects/{id}/budgets`). */
export interface Budget {
  id: string;
  metric: Metric;
  period: Period;
  limit: number;
  used: number;
  remaining: number;
  percent: number;
  state: 'open' | 'warning' | 'closed';
  resetAt: string;
}
export interface Budgets {
  budgets: Budget[];
  closed: boolean;
  asOf: string;
}

export interface UpgradeFunnelSettings {
  trackedRedirect: boolean;
  tierOrder: string[];
}

/** warned → blocked → clicked → upgraded, and clicks / tracked showings. */
export interface FunnelStages {
  warned: number;
  blocked: number;
  linked: number;
  clicked: number;
  upgraded: number;
  clickThroughRate: number | null;
}

export interface FunnelMessage {
  tier: string;
  kind: 'warn' | 'block';
  origin: 'rule' | 'tier' | 'default';
  ruleId: string | null;
  ruleName: string | null;
  messageHash: string;
  message: string;
  shown: number;
  linked: number;
  clicks: number;
  upgrades: number;
  clickThroughRate: number | null;
}

export interface UpgradeFunnel {
  days: number;
  from: string;
  to: string;
  trackedRedirect: boolean;
  tierOrder: string[];
  tiers: (FunnelStages & { tier: string; rank: number | null })[];
  rules: (FunnelStages & { ruleId: string; ruleName: string | null })[];
  messages: FunnelMessage[];
}

/** Webhooks (docs/API.md, "Webhooks"). */
export type WebhookEventType = 'identity.warned' | 'identity.limit_reached' | 'identity.blocked' | 'budget.threshold';
export const WEBHOOK_EVENTS: { type: WebhookEventType; label: string }[] = [
  { type: 'identity.warned', label: 'An identity crossed a warn rule' },
  { type: 'identity.limit_reached', label: 'An identity hit a tier cap (429)' },
  { type: 'identity.blocked', label: 'A block rule fired for an identity' },
  { type: 'budget.threshold', label: 'The project budget reached 80% or 100%' },
];
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead';
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  url: string;
  eventId: string;
  type: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  payload: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
}
