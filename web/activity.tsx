/**
 * "Activity", for admins on the People page: the audit trail of operator actions (`GET /audit`),
 * newest first, each in plain words with its time, a page at a time ("Show more" follows the
 * API's cursor). Callers' numbers come masked (`+*******0301`) and stay so; a person's id is
 * named from the people list when it is known.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AuditAction, AuditEntry, AuditPage } from './api.js';
import { formatTime } from './format.js';
import { Problem, pageSize, useLoad } from './session.js';

const counted = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** What a person's change changed (the trail keeps a phone only as changed or removed). */
function changeParts(detail: AuditEntry['detail']): string[] {
  const parts: string[] = [];
  if (typeof detail?.role === 'string') parts.push(`role ${detail.role}`);
  if (detail?.disabled === true) parts.push('disabled');
  if (detail?.disabled === false) parts.push('enabled');
  if (detail?.phone === 'changed' || detail?.phone === 'removed') parts.push(`phone ${detail.phone}`);
  return parts;
}

/** One entry as a sentence: who, then what they did. */
function sentenceOf(entry: AuditEntry, names: ReadonlyMap<string, string>): string {
  const who = entry.actor.kind === 'person' ? entry.actor.name : 'A machine key';
  const { customer, person } = entry.target;
  const caller = customer ?? 'a caller';
  const whom = (person === undefined ? undefined : names.get(person)) ?? 'a person';
  const detail = entry.detail;
  // A phrase for every action: one added to the API fails to compile here until it has one.
  const WORDS: Readonly<Record<AuditAction, () => string>> = {
    'callback.resolved': () => `marked ${caller} called back`,
    'callback.unreachable': () => `closed ${caller} as unreachable`,
    'callback.called': () => `called ${caller} back`,
    'contact.erased': () => {
      const counts =
        typeof detail?.calls === 'number' && typeof detail.resolutions === 'number'
          ? `: ${counted(detail.calls, 'call', 'calls')}, ${counted(detail.resolutions, 'resolution', 'resolutions')}`
          : '';
      return `erased a caller${customer === undefined ? '' : ` (${customer})`}${counts}`;
    },
    'person.invited': () => `invited ${whom}${typeof detail?.role === 'string' ? ` as ${detail.role}` : ''}`,
    'person.changed': () => {
      const parts = changeParts(detail);
      return `changed ${whom}${parts.length === 0 ? '' : `: ${parts.join(', ')}`}`;
    },
    'reconcile.started': () => 'started a reconciliation',
  };
  // An action a newer API knows and this page does not: its name.
  return `${who} ${WORDS[entry.action]?.() ?? entry.action}`;
}

/**
 * The trail, newest first. `version` changes when the page did something (an invitation, a
 * change): the first page is loaded again, with it.
 */
export function Activity({ names, version }: { names: ReadonlyMap<string, string>; version: number }) {
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  // The cursor asked for by "Show more", for the version it was shown at.
  const [asked, setAsked] = useState<{ version: number; cursor: string }>();
  const after = asked?.version === version ? asked.cursor : undefined;
  const [state, retry] = useLoad(
    async (api) => ({
      after,
      page: await api.get<AuditPage>(`audit?limit=${pageSize(location.search)}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`),
    }),
    [version, after],
  );
  const list = useRef<HTMLOListElement>(null);
  /** After "Show more", the first entry it added takes the focus (the button may be gone). */
  const focusAt = useRef<number | undefined>(undefined);
  // Each loaded page once: the first replaces the list, the next ones extend it.
  useEffect(() => {
    if (state.status !== 'ok') return;
    const { after: from, page } = state.data;
    setItems((previous) => {
      if (from === undefined) return page.items;
      focusAt.current = previous.length;
      return [...previous, ...page.items.filter((entry) => !previous.some((p) => p.id === entry.id))];
    });
    setCursor(page.nextCursor);
  }, [state]);
  useEffect(() => {
    if (focusAt.current === undefined) return;
    list.current?.querySelectorAll('li')[focusAt.current]?.focus();
    focusAt.current = undefined;
  }, [items]);
  return (
    <section aria-labelledby="activity-title" class="activity" aria-busy={state.status === 'loading'}>
      <h2 id="activity-title">Activity</h2>
      <p class="hint">Who did what, newest first. Callers’ numbers are masked.</p>
      {state.status === 'error' ? <Problem error={state.error} retry={retry} /> : null}
      {state.status === 'ok' && state.data.after === undefined && state.data.page.items.length === 0 ? (
        <p class="empty">Nothing yet.</p>
      ) : null}
      <ol class="activity-list" ref={list}>
        {items.map((entry) => (
          <li key={entry.id} tabIndex={-1} data-action={entry.action} data-id={entry.id}>
            <span class="what">{sentenceOf(entry, names)}</span>
            <time dateTime={entry.at}>{formatTime(entry.at)}</time>
          </li>
        ))}
      </ol>
      {cursor !== null ? (
        <button type="button" class="secondary" onClick={() => setAsked({ version, cursor })} disabled={state.status === 'loading'}>
          Show more
        </button>
      ) : null}
    </section>
  );
}
