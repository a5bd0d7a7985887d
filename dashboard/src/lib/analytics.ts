// Reads every per-identity daily row of a date range, following the cursor.
import { call, projectPath } from './api';
import type { IdentityRow } from './types';

export async function identityRows(projectId: string, from: string, to: string, maxPages = 40): Promise<{ rows: IdentityRow[]; complete: boolean }> {
  const rows: IdentityRow[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const q = new URLSearchParams({ from, to, limit: '500' });
    if (cursor) q.set('cursor', cursor);
    const res: { items: IdentityRow[]; nextCursor: string | null } = await call(projectPath(projectId, `/usage/by-identity?${q}`));
    rows.push(...res.items);
    cursor = res.nextCursor;
    if (!cursor) return { rows, complete: true };
  }
  return { rows, complete: false };
}
