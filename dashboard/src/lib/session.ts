// The owner's session: the access token from the magic-link flow, kept in
// localStorage so a reload stays signed in.
import { ref } from 'vue';

const KEY = 'airl.session';

function load(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export const accessToken = ref<string | null>(load());
export const ownerEmail = ref<string | null>(null);

export function setSession(token: string | null): void {
  accessToken.value = token;
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    /* private mode: the session lives in memory only */
  }
  if (!token) ownerEmail.value = null;
}
