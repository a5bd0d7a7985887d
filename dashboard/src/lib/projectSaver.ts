// Saving a change to the project (PATCH /api/projects/{id}) from a page:
// one busy flag, one success message, one error, and the updated project
// handed back to the page's owner.
import { ref } from 'vue';
import { call, errorText, projectPath } from './api';
import type { Project } from './types';

export function projectSaver(projectId: () => string, saved: (p: Project) => void) {
  const saving = ref(false);
  const message = ref<string | null>(null);
  const error = ref<string | null>(null);
  /** PATCHes `body`; on success shows `done`, hands the project on and runs `then`. */
  async function save(body: Record<string, unknown>, done: string, then?: () => Promise<void>) {
    saving.value = true;
    message.value = null;
    error.value = null;
    try {
      saved(await call<Project>(projectPath(projectId()), { method: 'PATCH', body }));
      message.value = done;
      if (then) await then();
    } catch (e) {
      error.value = errorText(e);
    } finally {
      saving.value = false;
    }
  }
  /** Shows a problem found before anything was sent. */
  function refuse(why: string) {
    message.value = null;
    error.value = why;
  }
  return { saving, message, error, save, refuse };
}
