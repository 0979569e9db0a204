/**
 * What every part of the dashboard shares: the session (the API with its credentials, the
 * country, who is signed in), loading from the API, a form's submission, and how a problem shows.
 * A refused sign-in or key ends the session (back to its form, saying why).
 */
import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { type Api, KeyRefusedError } from './api.js';

export interface Session {
  api: Api;
  country: string;
  /** A request was refused for its key or sign-in: back to its form, which says why. */
  refused: (error: KeyRefusedError) => void;
  /** The phone on the signed-in person's profile: the default for "Call back". */
  phone?: string;
  /** An admin signed in: they may erase callers and manage people (agents and machine keys may not). */
  admin?: boolean;
  /** The signed-in person's id (their token's `sub`). */
  me?: string;
}
export const SessionContext = createContext<Session | undefined>(undefined);
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('no session');
  return session;
}

/** Items a page (open callbacks, the activity): `?limit=` on the page's URL (1–100), 25 otherwise. */
export function pageSize(search: string): number {
  const n = Number(new URLSearchParams(search).get('limit'));
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : 25;
}

export type Load<T> = { status: 'loading'; data?: T } | { status: 'ok'; data: T } | { status: 'error'; error: Error; data?: T };

/** Runs `load` when `deps` change (or on retry); a refused key or sign-in ends the session. */
export function useLoad<T>(load: (api: Api) => Promise<T>, deps: readonly unknown[]): [Load<T>, () => void] {
  const { api, refused } = useSession();
  const [state, setState] = useState<Load<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ status: 'loading', data: previous.data }));
    load(api).then(
      (data) => live && setState({ status: 'ok', data }),
      (error: unknown) => {
        if (!live) return;
        if (error instanceof KeyRefusedError) refused(error);
        else
          setState((previous) => ({
            status: 'error',
            error: error instanceof Error ? error : new Error(String(error)),
            data: previous.data,
          }));
      },
    );
    return () => {
      live = false;
    };
  }, [api, attempt, ...deps]);
  return [state, useCallback(() => setAttempt((n) => n + 1), [])];
}

export function Problem({ error, retry }: { error: Error; retry?: () => void }) {
  return (
    <div class="problem" role="alert">
      <p>{error.message}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/**
 * A form's submission to the API: busy while it runs, its error shown, a refused key or sign-in
 * back to its form.
 */
export function useSubmit(run: () => Promise<void>) {
  const { refused } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await run();
    } catch (caught) {
      if (caught instanceof KeyRefusedError) refused(caught);
      else setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      // A form that stays (a call back's) can be sent again.
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

/** A form's buttons (its submit, then Cancel) and its error. */
export function FormEnd({
  busy,
  error,
  onCancel,
  children,
}: {
  busy: boolean;
  error: Error | undefined;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  return (
    <>
      <div class="actions">
        {children}
        <button type="button" class="secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
      {error ? <Problem error={error} /> : null}
    </>
  );
}
