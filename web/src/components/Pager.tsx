import { Button } from './Button.js';

/**
 * Where a cursor-paged list stands: the page's cursor ('' for the first) and the cursors of
 * the pages before it, kept in the address so "Newer" works from a shared link or a reload.
 */
export interface PageTrail {
  cursor: string;
  trail: string[];
}

export function readPageTrail(search: URLSearchParams): PageTrail {
  return {
    cursor: search.get('cursor') ?? '',
    trail: search.has('trail') ? (search.get('trail') ?? '').split(',') : [],
  };
}

export function writePageTrail(search: URLSearchParams, { cursor, trail }: PageTrail): void {
  if (!cursor) return;
  search.set('cursor', cursor);
  search.set('trail', trail.join(','));
}

export const FIRST_PAGE: PageTrail = { cursor: '', trail: [] };

interface PagerProps {
  at: PageTrail;
  /** The answer's cursor of the next (older) page; null on the last. */
  nextCursor: string | null | undefined;
  onMove(to: PageTrail): void;
  pageNumberTestId?: string;
}

/** "← Newer · Page n · Older →" for a newest-first list paged by cursors. */
export function Pager({ at, nextCursor, onMove, pageNumberTestId }: PagerProps) {
  const pageNumber = at.cursor ? at.trail.length + 1 : 1;
  const older = (): void => {
    if (nextCursor) onMove({ cursor: nextCursor, trail: [...at.trail, at.cursor] });
  };
  const newer = (): void => {
    const trail = [...at.trail];
    const cursor = trail.pop() ?? '';
    onMove({ cursor, trail });
  };
  return (
    <nav aria-label="Pages" className="mt-3 flex items-center justify-between gap-3">
      <Button variant="secondary" onClick={newer} disabled={!at.cursor}>
        ← Newer
      </Button>
      <span className="text-sm text-slate-600" data-testid={pageNumberTestId}>
        Page {pageNumber}
      </span>
      <Button variant="secondary" onClick={older} disabled={!nextCursor}>
        Older →
      </Button>
    </nav>
  );
}
