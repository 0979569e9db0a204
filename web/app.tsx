/**
 * The operator dashboard: the callback worklist first, then the numbers of a range, the recently
 * resolved callbacks, a page per contact (`#/contact/+15551234567`), and for admins the people
 * who may sign in (`#/people`, web/people.tsx). People sign in with their e-mail (Cognito, the
 * tokens in this tab's sessionStorage until "Sign out"); a machine's operator key is kept the
 * same way until "Forget key".
 */
import { useCallback, useEffect, useErrorBoundary, useMemo, useRef, useState } from 'preact/hooks';
import {
  ACCOUNT_DISABLED,
  type ContactDetail,
  createApi,
  type HealthReport,
  KeyRefusedError,
  type OpenCallbackItem,
  type OpenPage,
  type ResolvedCallbackItem,
  type ResolvedPage,
  SESSION_ENDED,
  type StatsResponse,
  UnavailableError,
} from './api.js';
import {
  type AuthConfig,
  loadTokens,
  personOf,
  refresh,
  SignInError,
  saveTokens,
  setNewPassword,
  signIn,
  signOut,
  type Tokens,
  tokensKept,
} from './auth.js';
import { StackedBars } from './chart.js';
import { defaultCountry, formatDuration, formatPhone, formatTime, lastDays, percent, timeZone } from './format.js';
import { PEOPLE_ROUTE, PeoplePage } from './people.js';
import { FormEnd, Problem, pageSize, type Session, SessionContext, useLoad, useSession, useSubmit } from './session.js';

const KEY_STORAGE = 'mcl.operatorKey';

/**
 * A missed call's status, why it was missed, and who resolved a callback, as the API sends them
 * (lib's MissedStatus, MissedReason and ResolvedBy).
 */
type MissedStatus = OpenCallbackItem['lastStatus'];
type MissedReason = OpenCallbackItem['lastReason'];
type ResolvedBy = ResolvedCallbackItem['resolvedBy'];
// A label for every value: a status, a reason or a resolver added to the API fails to compile here
// until it has one. The charts' series follow these keys, in this order, and take their colours
// from it: the four reasons that are also statuses come first, coloured as in the status chart.
const STATUS_LABELS: Readonly<Record<MissedStatus, string>> = {
  'no-answer': 'No answer',
  busy: 'Busy',
  failed: 'Failed',
  canceled: 'Canceled',
};
const REASON_LABELS: Readonly<Record<MissedReason, string>> = {
  'no-answer': 'No answer',
  busy: 'Busy',
  failed: 'Failed',
  canceled: 'Canceled',
  abandoned: 'Hung up while ringing',
  'short-abandoned': 'Hung up within seconds',
  'queue-abandoned': 'Hung up in the queue',
  'queue-full': 'Queue full',
  'queue-left': 'Left the queue',
  ivr: 'Hung up in the menu',
  voicemail: 'Left a voicemail',
};
const REASONS = Object.keys(REASON_LABELS) as MissedReason[];
const RESOLVED_LABELS: Readonly<Record<ResolvedBy, string>> = {
  callback: 'Called back',
  'returned-call': 'They called again',
  operator: 'Marked by a person',
  unreachable: 'Closed as unreachable',
};
/** How a resolution came, naming the person who did it when one signed in ("Called back by Ana"). */
function resolvedByText(by: ResolvedBy, person: { name: string } | undefined): string {
  if (person === undefined || by === 'returned-call') return RESOLVED_LABELS[by];
  if (by === 'operator') return `Marked called back by ${person.name}`;
  return `${RESOLVED_LABELS[by]} by ${person.name}`;
}
const RANGES = [
  { label: 'Today', days: 1 },
  { label: '7 days', days: 7 },
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
] as const;

function Phone({ phone, link = true }: { phone: string; link?: boolean }) {
  const { country } = useSession();
  const text = formatPhone(phone, country);
  return link ? (
    <a class="phone" href={`#/contact/${encodeURIComponent(phone)}`}>
      {text}
    </a>
  ) : (
    <span class="phone">{text}</span>
  );
}

// ---- the key --------------------------------------------------------------------------------

function KeyForm({ refused, onKey, onSignIn }: { refused: boolean; onKey: (key: string) => void; onSignIn?: () => void }) {
  const [value, setValue] = useState('');
  return (
    <main class="narrow">
      <h1>Missed calls</h1>
      <form
        class="key"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim() !== '') onKey(value.trim());
        }}
      >
        <label for="key">Operator API key</label>
        <input
          id="key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
        />
        {refused ? (
          <p class="problem" role="alert">
            That key was refused. Check it and enter it again.
          </p>
        ) : null}
        <button type="submit">Open the dashboard</button>
        <p class="hint">The key stays in this browser tab (sessionStorage) until the tab closes or you choose “Forget key”.</p>
        {onSignIn ? (
          <button type="button" class="link" onClick={onSignIn}>
            Sign in with your e-mail instead
          </button>
        ) : null}
      </form>
    </main>
  );
}

// ---- the worklist ---------------------------------------------------------------------------

/** "Mark called back" with an optional note: POST /callbacks/{phone}/resolve. */
function ResolveAction({ phone, onResolved }: { phone: string; onResolved: (message: string) => void }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const result = await api.post<{ resolved: { secondsToCallback: number }[]; alreadyResolved?: unknown }>(
      `callbacks/${encodeURIComponent(phone)}/resolve`,
      note.trim() === '' ? undefined : { note: note.trim() },
    );
    const seconds = result.resolved[0]?.secondsToCallback;
    onResolved(seconds === undefined ? 'Already marked as called back.' : `Marked as called back after ${formatDuration(seconds)}.`);
  });
  if (!open) {
    return (
      <button type="button" class="resolve" onClick={() => setOpen(true)}>
        Mark called back
      </button>
    );
  }
  return (
    <form class="resolve-form" onSubmit={submit}>
      <label>
        Note (optional)
        <textarea maxLength={500} rows={2} value={note} onInput={(event) => setNote(event.currentTarget.value)} />
      </label>
      <FormEnd busy={busy} error={error} onCancel={() => setOpen(false)}>
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save as called back'}
        </button>
      </FormEnd>
    </form>
  );
}

/** The agent's phone for "Call back" as last typed in this browser; until then a signed-in person's profile phone. */
const AGENT_STORAGE = 'mcl.agentPhone';
type AttemptOutcome = NonNullable<NonNullable<OpenCallbackItem['attempts']>['last'][number]['outcome']>;
const ATTEMPT_LABELS: Readonly<Record<AttemptOutcome, string>> = {
  reached: 'reached',
  voicemail: 'voicemail',
  'no-answer': 'no answer',
  busy: 'busy',
  failed: 'failed',
  'agent-missed': 'you did not pick up',
  'too-short': 'too short',
};

type AttemptView = NonNullable<OpenCallbackItem['attempts']>['last'][number];
const PROGRESS_LABELS: Readonly<Record<NonNullable<AttemptView['progress']>, string>> = {
  placing: 'Placing the call…',
  'ringing-agent': 'Ringing your phone…',
  'calling-customer': 'Calling the customer…',
};
const attemptText = (a: AttemptView): string =>
  a.outcome !== undefined ? ATTEMPT_LABELS[a.outcome] : a.progress === 'calling-customer' ? 'calling the customer' : 'ringing the agent';

/**
 * "Call back" through Twilio (POST /callbacks/{phone}/call): asks once for the agent's phone,
 * then follows the call on the contact (GET /contacts/{phone}) until its attempt has an outcome.
 */
function CallBackAction({ phone, onDone }: { phone: string; onDone: (message: string, resolved: boolean) => void }) {
  const { api, phone: profilePhone } = useSession();
  const [open, setOpen] = useState(false);
  const [agent, setAgent] = useState(() => localStorage.getItem(AGENT_STORAGE) ?? profilePhone ?? '');
  const [progress, setProgress] = useState<string>();
  const { busy, error, submit } = useSubmit(async () => {
    localStorage.setItem(AGENT_STORAGE, agent.trim());
    const placed = await api.post<{ callSid: string; attemptId: string }>(
      `callbacks/${encodeURIComponent(phone)}/call`,
      { agent: agent.trim() },
      { 'Idempotency-Key': crypto.randomUUID() },
    );
    setOpen(false);
    setProgress('Ringing your phone…');
    for (let i = 0; i < 120; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const contact = await api.get<ContactDetail>(`contacts/${encodeURIComponent(phone)}`);
      if (contact.callback === null) {
        setProgress(undefined);
        onDone('Reached: the callback is resolved.', true);
        return;
      }
      const attempt = contact.callback.attempts?.last.find((a) => a.id === placed.attemptId);
      if (attempt?.outcome !== undefined) {
        setProgress(undefined);
        onDone(`Call back: ${ATTEMPT_LABELS[attempt.outcome]}. The callback stays open.`, false);
        return;
      }
      setProgress(PROGRESS_LABELS[attempt?.progress ?? 'ringing-agent']);
    }
    setProgress(undefined);
  });
  if (progress !== undefined) {
    return (
      <p class="calling" role="status">
        {progress}
      </p>
    );
  }
  if (!open) {
    return (
      <button
        type="button"
        class="secondary call-back"
        onClick={() => {
          // The phone given on any item (or an earlier visit) since this one was drawn.
          setAgent(localStorage.getItem(AGENT_STORAGE) ?? (agent || profilePhone) ?? '');
          setOpen(true);
        }}
      >
        Call back
      </button>
    );
  }
  return (
    <form class="resolve-form" onSubmit={submit}>
      <label>
        Your phone (Twilio rings it first)
        <input inputMode="tel" autocomplete="tel" required value={agent} onInput={(event) => setAgent(event.currentTarget.value)} />
      </label>
      <FormEnd busy={busy} error={error} onCancel={() => setOpen(false)}>
        <button type="submit" disabled={busy || agent.trim() === ''}>
          {busy ? 'Calling…' : 'Ring me, then them'}
        </button>
      </FormEnd>
    </form>
  );
}

/** After CALLBACK_MAX_ATTEMPTS failed calls back: close it as unreachable (not "called back"). */
function UnreachableAction({ phone, onResolved }: { phone: string; onResolved: (message: string) => void }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const { busy, error, submit } = useSubmit(async () => {
    await api.post(`callbacks/${encodeURIComponent(phone)}/resolve`, { unreachable: true });
    onResolved('Closed as unreachable.');
  });
  if (!open) {
    return (
      <button type="button" class="secondary unreachable" onClick={() => setOpen(true)}>
        Close as unreachable
      </button>
    );
  }
  return (
    <form class="resolve-form" onSubmit={submit}>
      <p class="hint">They were not reached after several calls back. A new missed call opens a new callback.</p>
      <FormEnd busy={busy} error={error} onCancel={() => setOpen(false)}>
        <button type="submit" disabled={busy}>
          {busy ? 'Closing…' : 'Close it'}
        </button>
      </FormEnd>
    </form>
  );
}

function WorkItem({
  item,
  now,
  onResolved,
  onCalled,
}: {
  item: OpenCallbackItem;
  now: number;
  onResolved: (message: string) => void;
  onCalled: (message: string) => void;
}) {
  const waited = (now - Date.parse(item.openSince)) / 1000;
  const calls = item.openMissedCount;
  const { country } = useSession();
  return (
    <li class="work-item" data-phone={item.phone} data-open-since={item.openSince}>
      <div class="who">
        <Phone phone={item.phone} />
        <a class="call" href={`tel:${item.phone}`}>
          Call
        </a>
      </div>
      <p class="facts">
        <span class="waited" title={`Waiting since ${formatTime(item.openSince)}`}>
          waiting <strong>{formatDuration(waited)}</strong>
        </span>
        <span class="count" data-count={calls}>
          {calls} {calls === 1 ? 'call' : 'calls'}
        </span>
        <span>
          last:{' '}
          <span class="reason" data-reason={item.lastReason}>
            {REASON_LABELS[item.lastReason].toLowerCase()}
          </span>
          , {formatTime(item.lastMissedAt)}
        </span>
        {item.line === '' ? null : <span>to {formatPhone(item.line, country)}</span>}
        {item.textBack?.state === 'sent' && item.textBack.sentAt ? (
          <span class="texted" title={`Text-back ${item.textBack.messageSid ?? ''}`}>
            texted {formatTime(item.textBack.sentAt)}
          </span>
        ) : null}
      </p>
      {item.voicemail === undefined ? null : <Voicemail voicemail={item.voicemail} />}
      {item.attempts === undefined && item.calling === undefined ? null : (
        <p class="attempts">
          {item.calling === undefined ? null : (
            <span class="being-called">being called by {item.calling.person?.name ?? formatPhone(item.calling.agent, country)}</span>
          )}
          {item.attempts === undefined ? null : (
            <span class="tried" data-count={item.attempts.count}>
              {item.attempts.count} {item.attempts.count === 1 ? 'attempt' : 'attempts'}:{' '}
              {item.attempts.last.map((a) => `${attemptText(a)} ${formatTime(a.at)}${a.person ? ` (${a.person.name})` : ''}`).join(', ')}
            </span>
          )}
        </p>
      )}
      <div class="act">
        <CallBackAction phone={item.phone} onDone={(message, resolved) => (resolved ? onResolved(message) : onCalled(message))} />
        <ResolveAction phone={item.phone} onResolved={onResolved} />
        {item.canCloseUnreachable ? <UnreachableAction phone={item.phone} onResolved={onResolved} /> : null}
      </div>
    </li>
  );
}

function Worklist({ onResolved }: { onResolved: () => void }) {
  const [items, setItems] = useState<OpenCallbackItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState<string | undefined>();
  const [announce, setAnnounce] = useState('');
  const { country } = useSession();
  const [state, retry] = useLoad(
    async (api) => ({
      after: more,
      page: await api.get<OpenPage>(
        `callbacks?state=open&limit=${pageSize(location.search)}${more ? `&cursor=${encodeURIComponent(more)}` : ''}`,
      ),
    }),
    [more],
  );
  // Each loaded page once: the first replaces the list, the next ones extend it.
  useEffect(() => {
    if (state.status !== 'ok') return;
    const { after, page } = state.data;
    setItems((previous) =>
      after === undefined ? page.items : [...previous.filter((p) => !page.items.some((i) => i.phone === p.phone)), ...page.items],
    );
    setCursor(page.nextCursor);
  }, [state]);
  const now = Date.now();
  return (
    <section aria-labelledby="worklist-title" class="worklist" aria-busy={state.status === 'loading'}>
      <h2 id="worklist-title">To call back</h2>
      <p class="hint">Who has waited longest first.</p>
      <p class="sr-status" role="status">
        {announce}
      </p>
      {state.status === 'error' ? <Problem error={state.error} retry={retry} /> : null}
      {state.status !== 'loading' && items.length === 0 && state.status === 'ok' ? (
        <p class="empty">Nobody is waiting for a callback.</p>
      ) : null}
      <ol class="work">
        {items.map((item) => (
          <WorkItem
            key={item.phone}
            item={item}
            now={now}
            onResolved={(message) => {
              setItems((previous) => previous.filter((other) => other.phone !== item.phone));
              setAnnounce(`${formatPhone(item.phone, country)}: ${message}`);
              onResolved();
            }}
            onCalled={(message) => {
              setAnnounce(`${formatPhone(item.phone, country)}: ${message}`);
              retry();
            }}
          />
        ))}
      </ol>
      {cursor !== null ? (
        <button type="button" class="secondary" onClick={() => setMore(cursor)} disabled={state.status === 'loading'}>
          Show more
        </button>
      ) : null}
    </section>
  );
}

// ---- the numbers ----------------------------------------------------------------------------

function Tile({ label, value, hint }: { label: string; value: string | number; hint?: string }) {
  return (
    <div class="tile" data-tile={label}>
      <span class="value">{value}</span>
      <span class="label">{label}</span>
      {hint ? <span class="hint">{hint}</span> : null}
    </div>
  );
}

function medianText(stats: StatsResponse): string {
  const median = stats.callbacks.medianSecondsToCallback;
  if (median !== null) return `≤ ${formatDuration(median)}`;
  return stats.callbacks.resolved.total === stats.callbacks.resolved.unreachable ? '–' : '> 72 h';
}

function Numbers({ version }: { version: number }) {
  const [days, setDays] = useState<number>(7);
  const [state, retry] = useLoad(
    async (api) => {
      const { from, to } = lastDays(days, new Date());
      return { days, stats: await api.get<StatsResponse>(`stats?from=${from}&to=${to}`) };
    },
    [days, version],
  );
  // Until the chosen range has loaded, the section shows the last one and says it is busy.
  const stats = state.data?.stats;
  const busy = state.status === 'loading' || state.data?.days !== days;
  // The reasons of this range only (ten mostly empty legend entries say little), each in its own colour.
  const seen = REASONS.filter((key) => (stats?.byReason[key] ?? 0) > 0);
  const calledBack = stats === undefined ? 0 : stats.callbacks.resolved.total - stats.callbacks.resolved.unreachable;
  return (
    <section aria-labelledby="numbers-title" class="numbers" aria-busy={busy} data-days={state.data?.days}>
      <div class="section-head">
        <h2 id="numbers-title">At a glance</h2>
        <fieldset class="ranges">
          <legend class="sr-only">Range</legend>
          {RANGES.map((range) => (
            <button key={range.days} type="button" aria-pressed={range.days === days} onClick={() => setDays(range.days)}>
              {range.label}
            </button>
          ))}
        </fieldset>
      </div>
      {state.status === 'error' ? <Problem error={state.error} retry={retry} /> : null}
      {stats === undefined ? (
        state.status === 'loading' ? (
          <p class="empty">Loading…</p>
        ) : null
      ) : (
        <>
          <div class="tiles">
            <Tile label="Open now" value={stats.openNow} />
            <Tile label="Missed calls" value={stats.totals.total} />
            <Tile label="Called back" value={calledBack} />
            <Tile
              label="Within 1 hour"
              value={percent(stats.callbacks.within['15m'] + stats.callbacks.within['1h'], calledBack)}
              hint="of those called back"
            />
            <Tile
              label="Calls back placed"
              value={stats.callbacks.attempts.total}
              hint={
                stats.callbacks.attemptsPerResolution === null
                  ? 'through Twilio'
                  : `${stats.callbacks.attemptsPerResolution} per resolved callback`
              }
            />
            <Tile label="Median time to callback" value={medianText(stats)} />
            <Tile label="After hours" value={stats.afterHours} hint="missed outside business hours" />
          </div>
          <StackedBars
            title="Missed calls per day"
            series={Object.entries(STATUS_LABELS).map(([key, label]) => ({ key, label }))}
            rows={stats.days.map((d) => ({
              day: d.day,
              values: (Object.keys(STATUS_LABELS) as MissedStatus[]).map((s) => d.totals[s]),
            }))}
          />
          <StackedBars
            title="Missed calls by reason"
            series={seen.map((key) => ({ key, label: REASON_LABELS[key], tone: REASONS.indexOf(key) }))}
            rows={stats.days.map((d) => ({ day: d.day, values: seen.map((key) => d.byReason[key]) }))}
          />
          <StackedBars
            title="Callbacks resolved per day"
            series={Object.entries(RESOLVED_LABELS).map(([key, label]) => ({ key, label }))}
            rows={stats.days.map((d) => ({
              day: d.day,
              values: (Object.keys(RESOLVED_LABELS) as ResolvedBy[]).map((by) => d.callbacks.resolved[by]),
            }))}
          />
          <p class="hint">
            Days are UTC days ({stats.from} to {stats.to}), as the ledger counts them.
          </p>
        </>
      )}
    </section>
  );
}

// ---- recently resolved, health -------------------------------------------------------------

function Resolved({ version }: { version: number }) {
  const [state, retry] = useLoad((api) => api.get<ResolvedPage>('callbacks?state=resolved&limit=10'), [version]);
  return (
    <section aria-labelledby="resolved-title" class="resolved" aria-busy={state.status === 'loading'}>
      <h2 id="resolved-title">Recently resolved</h2>
      {state.status === 'error' ? <Problem error={state.error} retry={retry} /> : null}
      {state.data?.items.length === 0 ? <p class="empty">No callbacks resolved yet.</p> : null}
      <ul class="done">
        {state.data?.items.map((item) => (
          <li key={`${item.phone}#${item.resolvedAt}`} data-phone={item.phone}>
            <Phone phone={item.phone} />
            {item.resolvedBy === 'unreachable' ? (
              <span class="after">after {item.attempts} calls back</span>
            ) : (
              <span class="after" data-seconds={item.secondsToCallback}>
                after {formatDuration(item.secondsToCallback)}
              </span>
            )}
            <span class="by">{resolvedByText(item.resolvedBy, item.person)}</span>
            <time dateTime={item.resolvedAt}>{formatTime(item.resolvedAt)}</time>
            {item.note ? <q class="note">{item.note}</q> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function HealthBadge() {
  const [state, retry] = useLoad((api) => api.get<HealthReport>('health'), []);
  if (state.status === 'loading') return <span class="badge">Checking…</span>;
  if (state.status === 'error')
    return (
      <button type="button" class="badge fail" onClick={retry} title={state.error.message}>
        Health unknown
      </button>
    );
  const failed = Object.entries(state.data.checks).filter(([, check]) => check.status !== 'ok');
  return failed.length === 0 ? (
    <span class="badge ok" data-health="ok">
      Healthy
    </span>
  ) : (
    <span class="badge fail" data-health="fail" title={failed.map(([name, check]) => `${name}: ${check.detail ?? 'failed'}`).join('; ')}>
      Degraded: {failed.map(([name]) => name).join(', ')}
    </span>
  );
}

// ---- a contact --------------------------------------------------------------------------------

type VoicemailView = NonNullable<OpenCallbackItem['voicemail']>;

/** A missed call's message: its length, its transcript, and a player fed through the operator API (with the key). */
function Voicemail({ voicemail }: { voicemail: VoicemailView }) {
  const { api, refused } = useSession();
  const [source, setSource] = useState<string>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  useEffect(() => () => (source === undefined ? undefined : URL.revokeObjectURL(source)), [source]);
  const seconds = voicemail.durationSeconds;
  const length = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  const play = async () => {
    setBusy(true);
    setError(undefined);
    try {
      // The API's path, relative to the page's base (the stage).
      const blob = await api.audio(voicemail.url.replace(/^\//, ''));
      setSource(URL.createObjectURL(blob));
    } catch (e) {
      if (e instanceof KeyRefusedError) refused(e);
      else setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="voicemail" data-recording={voicemail.recordingSid}>
      <span class="length">{length}</span>{' '}
      {voicemail.transcript === undefined ? <span class="empty">no transcript</span> : <q class="transcript">{voicemail.transcript}</q>}
      {source === undefined ? (
        <button type="button" class="play" disabled={busy} onClick={play}>
          {busy ? 'Loading…' : 'Play voicemail'}
        </button>
      ) : (
        // biome-ignore lint/a11y/useMediaCaption: a caller's message; its transcript is beside it.
        <audio controls preload="metadata" src={source} />
      )}
      {error === undefined ? null : <span role="alert">{error.message}</span>}
    </div>
  );
}

type Erasure = { erased: { calls: number; resolutions: number; recordings: { deleted: number; gone: number } } };

/**
 * "Erase this caller…" (DELETE /contacts/{phone}): says what goes and what stays, and asks for
 * the number typed again, as the API does.
 */
function EraseAction({ phone, onErased }: { phone: string; onErased: (message: string) => void }) {
  const { api, country } = useSession();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const { erased } = await api.delete<Erasure>(`contacts/${encodeURIComponent(phone)}`, { confirm: typed.trim() });
    const recordings = erased.recordings.deleted + erased.recordings.gone;
    onErased(
      `Erased ${formatPhone(phone, country)}: ${erased.calls} ${erased.calls === 1 ? 'call' : 'calls'}, ` +
        `${erased.resolutions} ${erased.resolutions === 1 ? 'resolution' : 'resolutions'}, ` +
        `${recordings} ${recordings === 1 ? 'recording' : 'recordings'} deleted at Twilio.`,
    );
  });
  if (!open) {
    return (
      <button type="button" class="secondary erase" onClick={() => setOpen(true)}>
        Erase this caller…
      </button>
    );
  }
  return (
    <form class="erase-form" onSubmit={submit}>
      <p>
        This deletes everything the ledger keeps about this caller (their calls, callbacks, resolutions, texts) and the recordings Twilio
        holds of their calls. The day counts stay. It cannot be undone.
      </p>
      <label>
        Type the number to confirm
        <input
          inputMode="tel"
          autocomplete="off"
          spellcheck={false}
          required
          value={typed}
          onInput={(event) => setTyped(event.currentTarget.value)}
        />
      </label>
      <FormEnd busy={busy} error={error} onCancel={() => setOpen(false)}>
        <button type="submit" class="danger" disabled={busy || typed.trim() === ''}>
          {busy ? 'Erasing…' : 'Erase'}
        </button>
      </FormEnd>
    </form>
  );
}

function ContactPage({ phone }: { phone: string }) {
  const [version, setVersion] = useState(0);
  const [state, retry] = useLoad((api) => api.get<ContactDetail>(`contacts/${encodeURIComponent(phone)}`), [phone, version]);
  const [erased, setErased] = useState<string>();
  const { admin } = useSession();
  const contact = erased === undefined ? state.data : undefined;
  if (erased !== undefined) {
    return (
      <main class="contact">
        <p>
          <a href="#/">← Worklist</a>
        </p>
        <p class="done-message" role="status">
          {erased}
        </p>
      </main>
    );
  }
  return (
    <main class="contact" aria-busy={state.status === 'loading'}>
      <p>
        <a href="#/">← Worklist</a>
      </p>
      <h2>
        <Phone phone={phone} link={false} />{' '}
        <a class="call" href={`tel:${phone}`}>
          Call
        </a>
      </h2>
      {state.status === 'error' ? <Problem error={state.error} retry={retry} /> : null}
      {contact === undefined ? null : (
        <>
          <p>
            {contact.missedCount} missed {contact.missedCount === 1 ? 'call' : 'calls'} since {formatTime(contact.firstMissedAt)}; last{' '}
            {formatTime(contact.lastMissedAt)}.
          </p>
          {contact.callback ? (
            <div class="open-callback">
              <p>
                Waiting for a callback since {formatTime(contact.callback.openSince)} ({contact.callback.openMissedCount}{' '}
                {contact.callback.openMissedCount === 1 ? 'call' : 'calls'}).
              </p>
              <ResolveAction phone={phone} onResolved={() => setVersion((n) => n + 1)} />
            </div>
          ) : (
            <p>No open callback.</p>
          )}
          <h3>Missed calls still kept</h3>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Why</th>
                  <th scope="col">Recorded from</th>
                  <th scope="col">Voicemail</th>
                </tr>
              </thead>
              <tbody>
                {contact.calls.map((call) => (
                  <tr key={call.callSid}>
                    <td>{formatTime(call.occurredAt)}</td>
                    <td data-reason={call.reason}>
                      {REASON_LABELS[call.reason]}
                      {call.afterHours ? (
                        <>
                          {' '}
                          <span class="tag">after hours</span>
                        </>
                      ) : null}
                    </td>
                    <td>{call.source}</td>
                    <td>{call.voicemail ? <Voicemail voicemail={call.voicemail} /> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Resolutions</h3>
          {contact.resolutions.length === 0 ? <p class="empty">None yet.</p> : null}
          <ul class="done">
            {contact.resolutions.map((r) => (
              <li key={r.id}>
                <span class="after">after {formatDuration(r.secondsToCallback)}</span>
                <span class="by">{resolvedByText(r.resolvedBy, r.person)}</span>
                <time dateTime={r.resolvedAt}>{formatTime(r.resolvedAt)}</time>
                {r.note ? <q class="note">{r.note}</q> : null}
              </li>
            ))}
          </ul>
          {admin ? (
            <>
              <h3>Erasure</h3>
              <EraseAction phone={phone} onErased={setErased} />
            </>
          ) : null}
        </>
      )}
    </main>
  );
}

// ---- the page -------------------------------------------------------------------------------

function Home() {
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((n) => n + 1), []);
  return (
    <main class="home">
      <Worklist onResolved={bump} />
      <div class="side">
        <Numbers version={version} />
        <Resolved version={version} />
      </div>
    </main>
  );
}

function contactOf(hash: string): string | undefined {
  const match = /^#\/contact\/(.+)$/.exec(hash);
  if (match?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

/** Cognito's refusals of a first sign-in's new password that mean its session is gone (it lasts minutes). */
const challengeExpired = (caught: unknown): boolean =>
  caught instanceof SignInError && caught.type === 'NotAuthorizedException' && !/disabled/i.test(caught.message);

/**
 * The sign-in form: e-mail and password, then, on a first sign-in (Cognito's
 * NEW_PASSWORD_REQUIRED), "Choose your password" (typed twice) in place of the temporary one.
 */
function SignInForm({
  config,
  notice,
  onSignedIn,
  onUseKey,
}: {
  config: AuthConfig;
  /** Why the last session ended (expired, signed out elsewhere, disabled), if it did. */
  notice: string | undefined;
  onSignedIn: (tokens: Tokens) => void;
  onUseKey: () => void;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [challenge, setChallenge] = useState<{ email: string; session: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    if (challenge !== undefined && password !== again) {
      setError('The two passwords differ: type the same one twice.');
      return;
    }
    setBusy(true);
    try {
      if (challenge === undefined) {
        const result = await signIn(config, email.trim(), password);
        if ('tokens' in result) onSignedIn(result.tokens);
        else {
          setChallenge(result.newPasswordFor);
          setPassword('');
          setAgain('');
        }
      } else onSignedIn(await setNewPassword(config, challenge, password));
    } catch (caught) {
      if (challenge !== undefined && challengeExpired(caught)) {
        // Back to the first step: the temporary password still works.
        setChallenge(undefined);
        setPassword('');
        setError('That took too long: sign in again with your temporary password.');
      } else setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="narrow">
      <h1>Missed calls</h1>
      <form class="key sign-in" onSubmit={submit} aria-labelledby={challenge === undefined ? undefined : 'choose-title'}>
        {challenge === undefined ? (
          <>
            <label for="email">E-mail</label>
            <input
              id="email"
              type="email"
              autocomplete="username"
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
            <label for="password">Password</label>
            <input
              id="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </>
        ) : (
          <>
            <h2 id="choose-title">Choose your password</h2>
            <p class="hint">
              First sign-in as <strong>{challenge.email}</strong>: choose your own password in place of the temporary one (at least 12
              characters, upper and lower case, a digit).
            </p>
            {/* For password managers: whose password this is. */}
            <input type="email" autocomplete="username" value={challenge.email} hidden readOnly />
            <label for="new-password">New password</label>
            <input
              id="new-password"
              type="password"
              autocomplete="new-password"
              required
              minLength={12}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
            <label for="new-password-again">New password, again</label>
            <input
              id="new-password-again"
              type="password"
              autocomplete="new-password"
              required
              minLength={12}
              value={again}
              onInput={(e) => setAgain(e.currentTarget.value)}
            />
          </>
        )}
        {error !== undefined || notice !== undefined ? (
          <p class="problem" role="alert">
            {error ?? notice}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : challenge === undefined ? 'Sign in' : 'Set password and sign in'}
        </button>
        <button type="button" class="link" onClick={onUseKey}>
          Use an API key instead
        </button>
      </form>
    </main>
  );
}

/** Cognito could not be asked to refresh (down, throttled): worth a retry, not the end of the session. */
const REFRESH_RETRYABLE = new Set(['Unreachable', 'TooManyRequestsException', 'LimitExceededException', 'InternalErrorException']);

/** Where the page stands: asking the stack where to sign in, then signed in, with a key, or neither. */
export function App() {
  // undefined: still asking GET /auth/config; null: this stack has no sign-in (the key only).
  const [auth, setAuth] = useState<AuthConfig | null>();
  const [tokens, setTokens] = useState(loadTokens);
  const [key, setKey] = useState(() => sessionStorage.getItem(KEY_STORAGE) ?? '');
  const [wantKey, setWantKey] = useState(() => sessionStorage.getItem(KEY_STORAGE) !== null);
  // Why the last session ended, for its form to say; tokens kept but unreadable ended one too.
  const [notice, setNotice] = useState<string | undefined>(() => {
    if (!tokensKept() || tokens !== undefined) return undefined;
    saveTokens(undefined);
    return SESSION_ENDED;
  });
  const [hash, setHash] = useState(location.hash);
  const [crash, resetCrash] = useErrorBoundary();
  const current = useRef(tokens);
  current.current = tokens;
  /** The refresh under way: the requests that need one at once share it. */
  const refreshing = useRef<Promise<Tokens> | undefined>(undefined);
  useEffect(() => {
    fetch('auth/config', { cache: 'no-store' })
      .then((response) => (response.ok ? (response.json() as Promise<AuthConfig>) : null))
      .catch(() => null)
      .then(setAuth);
    const onHash = () => setHash(location.hash);
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const keep = useCallback((next: Tokens | undefined) => {
    saveTokens(next);
    current.current = next;
    setTokens(next);
  }, []);
  const forget = useCallback(
    (why: string | undefined) => {
      sessionStorage.removeItem(KEY_STORAGE);
      setKey('');
      keep(undefined);
      setNotice(why);
    },
    [keep],
  );
  const person = tokens === undefined ? undefined : personOf(tokens.idToken);
  const session = useMemo<Session | undefined>(() => {
    const refusedNow = (error: KeyRefusedError) => forget(error.message);
    if (auth && tokens !== undefined && !wantKey) {
      // The ID token (it names the person), refreshed a minute before it expires. A refresh
      // Cognito refuses (the refresh token revoked by a sign-out elsewhere or a disabling, or no
      // token at all) ends the session: back to the sign-in form, saying so.
      const token = async () => {
        const now = current.current;
        if (now === undefined) throw new KeyRefusedError(SESSION_ENDED);
        if (Date.now() < now.expiresAt - 60_000) return now.idToken;
        const pending =
          refreshing.current ??
          refresh(auth, now).finally(() => {
            refreshing.current = undefined;
          });
        refreshing.current = pending;
        try {
          const fresh = await pending;
          if (current.current === now) keep(fresh);
          return fresh.idToken;
        } catch (error) {
          if (error instanceof SignInError && REFRESH_RETRYABLE.has(error.type)) {
            // The token as it is while it lasts; then a retry.
            if (Date.now() < now.expiresAt) return now.idToken;
            throw new UnavailableError(error.message);
          }
          throw new KeyRefusedError(error instanceof Error && /disabled/i.test(error.message) ? ACCOUNT_DISABLED : SESSION_ENDED);
        }
      };
      const phone = person?.phone;
      return {
        api: createApi({ apiKey: auth.apiKey ?? '', token }),
        country: defaultCountry(),
        refused: refusedNow,
        ...(phone ? { phone } : {}),
        admin: person?.role === 'admin',
        ...(person?.id ? { me: person.id } : {}),
      };
    }
    if (key !== '') return { api: createApi({ key }), country: defaultCountry(), refused: refusedNow };
    return undefined;
  }, [auth, tokens === undefined, wantKey, key, forget, keep, person?.phone, person?.role, person?.id]);

  if (crash) {
    return (
      <main class="narrow">
        <h1>Missed calls</h1>
        <Problem error={crash instanceof Error ? crash : new Error('The page failed')} retry={resetCrash} />
      </main>
    );
  }
  if (session === undefined) {
    if (auth === undefined) return <main class="narrow" aria-busy="true" />;
    if (auth !== null && !wantKey) {
      return (
        <SignInForm
          config={auth}
          notice={notice}
          onSignedIn={(signedIn) => {
            setNotice(undefined);
            keep(signedIn);
          }}
          onUseKey={() => {
            setNotice(undefined);
            setWantKey(true);
          }}
        />
      );
    }
    return (
      <KeyForm
        refused={notice !== undefined}
        onSignIn={auth ? () => setWantKey(false) : undefined}
        onKey={(value) => {
          sessionStorage.setItem(KEY_STORAGE, value);
          setNotice(undefined);
          setKey(value);
        }}
      />
    );
  }
  const contact = contactOf(hash);
  const people = PEOPLE_ROUTE.test(hash);
  const signedIn = auth && tokens !== undefined && !wantKey;
  return (
    <SessionContext.Provider value={session}>
      <header class="top">
        <h1>
          <a href="#/">Missed calls</a>
        </h1>
        {session.admin ? (
          <a class="nav" href="#/people" aria-current={people ? 'page' : undefined}>
            People
          </a>
        ) : null}
        <HealthBadge />
        <span class="zone">Times in {timeZone()}</span>
        {signedIn ? (
          <>
            <span class="who-am-i">
              {person?.name}
              {person?.role ? ` · ${person.role}` : ''}
            </span>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                if (tokens !== undefined) void signOut(auth, tokens);
                forget(undefined);
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <button type="button" class="secondary" onClick={() => forget(undefined)}>
            Forget key
          </button>
        )}
      </header>
      {people ? <PeoplePage /> : contact === undefined ? <Home /> : <ContactPage key={contact} phone={contact} />}
    </SessionContext.Provider>
  );
}
