/**
 * The local stack's lifetime: it stops however it is stopped. SIGINT, SIGTERM and SIGHUP to it
 * (or to `npm start`, which forwards only SIGINT and SIGTERM, and through `sh`, not always), and
 * the death of the process that started `npm start`, all end in the same clean stop.
 */
import { readFileSync } from 'node:fs';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * The processes whose death means "stop": the launcher chain up to and including the parent of
 * `npm` (tsx, sh, npm, whoever ran npm start); without `npm` in the chain, the direct parent and
 * its parent. Where /proc is missing (macOS), the direct parent only.
 */
export function watchedAncestors(): number[] {
  const chain: number[] = [];
  let pid: number | undefined = process.ppid;
  while (pid !== undefined && pid > 1 && chain.length < 6) {
    chain.push(pid);
    if (/(^|\/)npm(-cli\.js)?( |$)/.test(commandOf(pid))) {
      const parent = parentOf(pid);
      if (parent !== undefined && parent > 1) chain.push(parent);
      return chain;
    }
    pid = parentOf(pid);
  }
  return chain.slice(0, 2);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is only not ours to signal.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * Calls `stop` once on SIGINT, SIGTERM or SIGHUP, or when a watched ancestor is gone (checked
 * every `intervalMs`). Writes to a closed terminal no longer crash the process before it stops.
 */
export function stopOnSignalsAndParentDeath(stop: (reason: string) => void, intervalMs = 500): void {
  let called = false;
  const once = (reason: string) => {
    if (called) return;
    called = true;
    stop(reason);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => once(signal));
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const ancestors = watchedAncestors();
  const originalParent = process.ppid;
  const timer = setInterval(() => {
    const gone = ancestors.find((pid) => !alive(pid));
    if (gone !== undefined || process.ppid !== originalParent) once(`the process that started it (pid ${gone ?? originalParent}) is gone`);
  }, intervalMs);
  timer.unref();
}
