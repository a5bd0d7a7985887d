// What a page fetched, and whether it is still loading or failed: `load()`
// clears the error, sets `loading` until the answer is in, and keeps the
// last answer on failure (the error says why).
import { ref, type Ref } from 'vue';
import { errorText } from './api';

export function loaded<T>(fetch: () => Promise<T>) {
  const data = ref(null) as Ref<T | null>;
  const loading = ref(true);
  const error = ref<string | null>(null);
  async function load() {
    loading.value = true;
    error.value = null;
    try {
      data.value = await fetch();
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }
  return { data, loading, error, load };
}
