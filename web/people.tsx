/**
 * People, for admins (`#/people`): who may sign in, with their role, phone and standing
 * (`GET /users`); "Invite someone" (`POST /users`); a person's role and phone changed, or the
 * person disabled (which signs them out everywhere at once) and enabled again
 * (`PATCH /users/{id}`). Agents and machine keys get a plain sentence instead (the API would
 * refuse them anyway). Below, for admins too, "Activity": who did what (web/activity.tsx). The page
 * shows the role the signed-in token names; the API decides.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Activity } from './activity.js';
import { type PersonView, RequestRefusedError } from './api.js';
import { formatPhone, toE164 } from './format.js';
import { FormEnd, Problem, useLoad, useSession, useSubmit } from './session.js';

/** The page's route: `#/people`. */
export const PEOPLE_ROUTE = /^#\/people\/?$/;

type Role = NonNullable<PersonView['role']>;
const ROLE_LABELS: Readonly<Record<Role, string>> = { agent: 'Agent', admin: 'Admin' };
const ROLE_HINTS: Readonly<Record<Role, string>> = {
  agent: 'works the worklist',
  admin: 'also manages people and erases callers',
};

const nameOf = (person: PersonView): string => person.name || person.email;

/** A person's standing in words: disabled, invited (no first sign-in yet), active. */
function standingOf(person: PersonView): { key: string; text: string } {
  if (!person.enabled) return { key: 'disabled', text: 'Disabled' };
  if (person.status === 'FORCE_CHANGE_PASSWORD') return { key: 'invited', text: 'Invited, not signed in yet' };
  if (person.status === 'CONFIRMED') return { key: 'active', text: 'Active' };
  if (person.status === 'RESET_REQUIRED') return { key: 'reset', text: 'Must reset their password' };
  return { key: 'other', text: person.status.toLowerCase().replace(/_/g, ' ') };
}

/** The API's refusals of an invitation or a change (400, 403, 404, 409), said for the admin at the form. */
function inWords(error: unknown): unknown {
  if (!(error instanceof RequestRefusedError)) return error;
  const message = error.message;
  if (/temporaryPassword/.test(message))
    return new Error('That temporary password is too weak: at least 12 characters, with upper and lower case and a digit.');
  if (/^phone/.test(message)) return new Error('That phone number cannot be called: write it with its area code, or as +1 415 555 0123.');
  if (/^email/.test(message)) return new Error('That is not an e-mail address.');
  if (/Cognito refused a value/.test(message))
    return new Error('The sign-in service refused a value: check the e-mail, the name and the phone.');
  if (error.status === 403) return new Error('Only admins manage people.');
  return new Error(/[.!?]$/.test(message) ? message : `${message}.`);
}

/** A form opened from a button takes the focus (its first control, or `which`), for the keyboard and screen readers. */
function useFocusFirst(which = 'select, input, button') {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    form.current?.querySelector<HTMLElement>(which)?.focus();
  }, []);
  return form;
}

/** Sends a change of a person: `PATCH /users/{id}`. */
function usePatch() {
  const { api } = useSession();
  return async (person: PersonView, change: { role?: Role; phone?: string | null; disabled?: boolean }): Promise<PersonView> => {
    try {
      return await api.patch<PersonView>(`users/${encodeURIComponent(person.id)}`, change);
    } catch (error) {
      throw inWords(error);
    }
  };
}

/** Their role and their phone; their own role an admin leaves to another admin. */
function EditPerson({
  person,
  you,
  onDone,
  onCancel,
}: {
  person: PersonView;
  you: boolean;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const { country } = useSession();
  const patch = usePatch();
  const [role, setRole] = useState<Role>(person.role ?? 'agent');
  const [phone, setPhone] = useState(person.phone === null ? '' : formatPhone(person.phone, country));
  const { busy, error, submit } = useSubmit(async () => {
    const typed = phone.trim();
    const wanted = typed === '' ? null : toE164(typed, country);
    const change = {
      ...(!you && role !== person.role ? { role } : {}),
      ...(wanted !== person.phone ? { phone: wanted } : {}),
    };
    if (Object.keys(change).length === 0) {
      onCancel();
      return;
    }
    const now = await patch(person, change);
    onDone(
      `Saved ${nameOf(now)}: ${now.role === null ? 'no role' : ROLE_LABELS[now.role].toLowerCase()}, ` +
        `${now.phone === null ? 'no phone' : formatPhone(now.phone, country)}.`,
    );
  });
  const id = `person-${person.id}`;
  const form = useFocusFirst();
  return (
    <form ref={form} class="resolve-form person-form" onSubmit={submit} aria-label={`Change ${nameOf(person)}`}>
      {you ? (
        <p class="hint">Your own role is for another admin to change.</p>
      ) : (
        <>
          <label for={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(event) => setRole(event.currentTarget.value as Role)}>
            {(['agent', 'admin'] as const).map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}: {ROLE_HINTS[r]}
              </option>
            ))}
          </select>
        </>
      )}
      <label for={`${id}-phone`}>Phone</label>
      <input
        id={`${id}-phone`}
        inputMode="tel"
        autocomplete="off"
        aria-describedby={`${id}-phone-hint`}
        value={phone}
        onInput={(event) => setPhone(event.currentTarget.value)}
      />
      <p class="hint" id={`${id}-phone-hint`}>
        Offered for their “Call back”. Empty: none.
      </p>
      <FormEnd busy={busy} error={error} onCancel={onCancel}>
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </FormEnd>
    </form>
  );
}

/** Disabling, behind a second click: it signs them out everywhere at once. */
function DisablePerson({ person, onDone, onCancel }: { person: PersonView; onDone: (message: string) => void; onCancel: () => void }) {
  const patch = usePatch();
  const { busy, error, submit } = useSubmit(async () => {
    await patch(person, { disabled: true });
    onDone(`Disabled ${nameOf(person)}: signed out everywhere.`);
  });
  // On Cancel: a second, deliberate choice disables.
  const form = useFocusFirst('button.secondary');
  return (
    <form ref={form} class="resolve-form" onSubmit={submit} aria-label={`Disable ${nameOf(person)}`}>
      <p class="hint">
        {nameOf(person)} is signed out everywhere at once and cannot sign in until an admin enables them again. What they did stays.
      </p>
      <FormEnd busy={busy} error={error} onCancel={onCancel}>
        <button type="submit" class="danger" disabled={busy}>
          {busy ? 'Disabling…' : 'Disable'}
        </button>
      </FormEnd>
    </form>
  );
}

function PersonItem({ person, onChanged }: { person: PersonView; onChanged: (message: string) => void }) {
  const { country, me } = useSession();
  const patch = usePatch();
  const [mode, setMode] = useState<'view' | 'edit' | 'disable'>('view');
  // A closed form gives the focus back to the person's first button (it was in the form).
  const actions = useRef<HTMLDivElement>(null);
  const opened = useRef(false);
  useEffect(() => {
    if (mode !== 'view') opened.current = true;
    else if (opened.current) actions.current?.querySelector('button')?.focus();
  }, [mode]);
  const you = me !== undefined && person.id === me;
  const standing = standingOf(person);
  const name = nameOf(person);
  const done = (message: string) => {
    setMode('view');
    onChanged(message);
  };
  const enable = useSubmit(async () => {
    await patch(person, { disabled: false });
    onChanged(`Enabled ${name}: they can sign in again.`);
  });
  return (
    <li class="person" data-id={person.id} data-email={person.email} data-standing={standing.key}>
      <div class="person-head">
        <span class="name">{name}</span>
        {you ? <span class="tag">you</span> : null}
        <span class={`tag standing ${standing.key}`}>{standing.text}</span>
      </div>
      <p class="person-facts">
        <span class="email">{person.email}</span>
        <span class="role" data-role={person.role ?? ''}>
          {person.role === null ? 'No role' : ROLE_LABELS[person.role]}
        </span>
        <span class="phone-of">{person.phone === null ? 'no phone' : formatPhone(person.phone, country)}</span>
      </p>
      {mode === 'edit' ? (
        <EditPerson person={person} you={you} onDone={done} onCancel={() => setMode('view')} />
      ) : mode === 'disable' ? (
        <DisablePerson person={person} onDone={done} onCancel={() => setMode('view')} />
      ) : (
        <div class="person-act" ref={actions}>
          <button type="button" class="secondary" onClick={() => setMode('edit')}>
            Change<span class="sr-only"> {name}</span>
          </button>
          {you ? null : person.enabled ? (
            <button type="button" class="secondary" onClick={() => setMode('disable')}>
              Disable…<span class="sr-only"> {name}</span>
            </button>
          ) : (
            <button type="button" onClick={enable.submit} disabled={enable.busy}>
              {enable.busy ? 'Enabling…' : 'Enable'}
              <span class="sr-only"> {name}</span>
            </button>
          )}
        </div>
      )}
      {enable.error ? <Problem error={enable.error} /> : null}
    </li>
  );
}

/** "Invite someone": `POST /users`; Cognito e-mails them, unless a temporary password is given here. */
function InviteForm({ onInvited }: { onInvited: () => void }) {
  const { api, country } = useSession();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [phone, setPhone] = useState('');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    setDone('');
    const typed = phone.trim();
    let created: PersonView;
    try {
      created = await api.post<PersonView>('users', {
        email: email.trim(),
        name: name.trim(),
        role,
        ...(typed === '' ? {} : { phone: toE164(typed, country) }),
        ...(password === '' ? {} : { temporaryPassword: password }),
      });
    } catch (caught) {
      throw inWords(caught);
    }
    setDone(
      password === ''
        ? `Invited ${nameOf(created)} as ${role}: Cognito e-mailed ${created.email} a temporary password.`
        : `Invited ${nameOf(created)} as ${role}. Give them the temporary password: they choose their own at their first sign-in.`,
    );
    setName('');
    setEmail('');
    setRole('agent');
    setPhone('');
    setPassword('');
    onInvited();
  });
  return (
    <section aria-labelledby="invite-title" class="invite">
      <h2 id="invite-title">Invite someone</h2>
      <form class="invite-form" onSubmit={submit}>
        <label for="invite-name">Name</label>
        <input
          id="invite-name"
          required
          maxLength={100}
          autocomplete="off"
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <label for="invite-email">E-mail</label>
        <input
          id="invite-email"
          type="email"
          required
          maxLength={254}
          autocomplete="off"
          spellcheck={false}
          value={email}
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
        <label for="invite-role">Role</label>
        <select id="invite-role" value={role} onChange={(event) => setRole(event.currentTarget.value as Role)}>
          {(['agent', 'admin'] as const).map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}: {ROLE_HINTS[r]}
            </option>
          ))}
        </select>
        <label for="invite-phone">Phone (optional)</label>
        <input
          id="invite-phone"
          inputMode="tel"
          autocomplete="off"
          aria-describedby="invite-phone-hint"
          value={phone}
          onInput={(event) => setPhone(event.currentTarget.value)}
        />
        <p class="hint" id="invite-phone-hint">
          Offered for their “Call back”: Twilio rings it first.
        </p>
        <label for="invite-password">Temporary password (optional)</label>
        <input
          id="invite-password"
          autocomplete="off"
          spellcheck={false}
          aria-describedby="invite-password-hint"
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <p class="hint" id="invite-password-hint">
          Empty: Cognito e-mails them an invitation with one. Given: no e-mail is sent, you pass it on. Either way they choose their own
          password at their first sign-in.
        </p>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Inviting…' : 'Invite'}
          </button>
        </div>
        {error ? <Problem error={error} /> : null}
        <p class="sr-status" role="status">
          {done}
        </p>
      </form>
    </section>
  );
}

/** The people and the invitation, side by side (one column on a phone). */
function People() {
  const [version, setVersion] = useState(0);
  const [state, retry] = useLoad((api) => api.get<{ users: PersonView[] }>('users'), [version]);
  const [announce, setAnnounce] = useState('');
  const changed = (message: string) => {
    setAnnounce(message);
    setVersion((n) => n + 1);
  };
  const users = state.data?.users;
  const names = useMemo(() => new Map((users ?? []).map((person) => [person.id, nameOf(person)])), [users]);
  return (
    <>
      <div class="people-grid">
        <section aria-labelledby="people-title" class="people" aria-busy={state.status === 'loading'}>
          <h2 id="people-title">People</h2>
          <p class="hint">Who may sign in, by name. Agents work the worklist; admins also manage people and erase callers.</p>
          <p class="sr-status" role="status">
            {announce}
          </p>
          {state.status === 'error' ? <Problem error={inWords(state.error) as Error} retry={retry} /> : null}
          {users?.length === 0 ? <p class="empty">Nobody yet.</p> : null}
          <ul class="people-list">
            {users?.map((person) => (
              <PersonItem key={person.id} person={person} onChanged={changed} />
            ))}
          </ul>
        </section>
        <InviteForm
          onInvited={() => {
            setAnnounce('');
            setVersion((n) => n + 1);
          }}
        />
      </div>
      <Activity names={names} version={version} />
    </>
  );
}

/** `#/people`: admins manage people; anyone else is told so, plainly. */
export function PeoplePage() {
  const { admin } = useSession();
  return (
    <main class="people-page">
      <p>
        <a href="#/">← Worklist</a>
      </p>
      {admin ? (
        <People />
      ) : (
        <section aria-labelledby="people-title">
          <h2 id="people-title">People</h2>
          <p class="not-admin">Only admins manage people.</p>
        </section>
      )}
    </main>
  );
}
