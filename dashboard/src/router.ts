// A small history router: the paths of the dashboard, matched in order.
// Pages serves every unknown path with index.html, so deep links work.
import { computed, ref } from 'vue';
import { accessToken } from './lib/session';

export type RouteName =
  | 'signin'
  | 'verify'
  | 'projects'
  | 'new-project'
  | 'overview'
  | 'tiers'
  | 'costs'
  | 'prices'
  | 'rules'
  | 'identities'
  | 'identity'
  | 'settings'
  | 'budgets'
  | 'funnel'
  | 'webhooks'
  | 'not-found';

interface Pattern {
  name: RouteName;
  re: RegExp;
  keys: string[];
  public?: boolean;
}

const patterns: Pattern[] = [
  { name: 'signin', re: /^\/signin$/, keys: [], public: true },
  { name: 'verify', re: /^\/auth\/verify$/, keys: [], public: true },
  { name: 'projects', re: /^\/(?:projects)?$/, keys: [] },
  { name: 'new-project', re: /^\/projects\/new$/, keys: [] },
  { name: 'overview', re: /^\/projects\/([^/]+)$/, keys: ['id'] },
  { name: 'tiers', re: /^\/projects\/([^/]+)\/tiers$/, keys: ['id'] },
  { name: 'costs', re: /^\/projects\/([^/]+)\/costs$/, keys: ['id'] },
  { name: 'prices', re: /^\/projects\/([^/]+)\/prices$/, keys: ['id'] },
  { name: 'rules', re: /^\/projects\/([^/]+)\/rules$/, keys: ['id'] },
  { name: 'identities', re: /^\/projects\/([^/]+)\/identities$/, keys: ['id'] },
  { name: 'identity', re: /^\/projects\/([^/]+)\/identities\/([^/]+)$/, keys: ['id', 'identity'] },
  { name: 'settings', re: /^\/projects\/([^/]+)\/settings$/, keys: ['id'] },
  { name: 'budgets', re: /^\/projects\/([^/]+)\/budgets$/, keys: ['id'] },
  { name: 'funnel', re: /^\/projects\/([^/]+)\/funnel$/, keys: ['id'] },
  { name: 'webhooks', re: /^\/projects\/([^/]+)\/webhooks$/, keys: ['id'] },
];

const location = ref({ path: window.location.pathname, search: window.location.search });

export const route = computed(() => {
  const path = location.value.path.replace(/\/+$/, '') || '/';
  for (const p of patterns) {
    const m = p.re.exec(path);
    if (m) {
      const params: Record<string, string> = {};
      p.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1] ?? '');
        } catch {
          params[k] = m[i + 1] ?? '';
        }
      });
      return { name: p.name, params, query: new URLSearchParams(location.value.search), public: !!p.public, path };
    }
  }
  return { name: 'not-found' as RouteName, params: {} as Record<string, string>, query: new URLSearchParams(location.value.search), public: true, path };
});

export function navigate(to: string, { replace = false } = {}): void {
  const url = new URL(to, window.location.origin);
  if (replace) window.history.replaceState(null, '', url.pathname + url.search);
  else window.history.pushState(null, '', url.pathname + url.search);
  location.value = { path: url.pathname, search: url.search };
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  location.value = { path: window.location.pathname, search: window.location.search };
});

/** Routes that need a session send a signed-out owner to sign-in. */
export function guard(): void {
  if (!route.value.public && !accessToken.value) {
    const next = route.value.path === '/' ? '' : `?next=${encodeURIComponent(route.value.path)}`;
    navigate(`/signin${next}`, { replace: true });
  }
}
