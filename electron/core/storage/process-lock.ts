// One process at a time in a workspace (the desktop app, `fas serve` or a CLI command that opens it:
// <workspace>/.lock) and in a job's output folder (OUTPUT_LOCK_FILE inside it). The holder writes the
// lock file (its pid, host and what it is); another process sees who holds it, and takes the lock over
// only when that process no longer runs.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';

/** The workspace's lock file. */
export const LOCK_FILE = '.lock';
/** The lock file inside a job's output folder while a job writes it. */
export const OUTPUT_LOCK_FILE = '.fas-spiking-llm-job.lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** What the process is, in words (e.g. "fas serve --port 5199"). */
  description: string;
  since: string;
}

/** The running process, as a person would name it. */
export function describeThisProcess(): string {
  const [, script, ...args] = process.argv;
  return [basename(script ?? process.argv0), ...args].join(' ');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockHolder(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/** Whether `holder` still runs: a lock from another host is taken to be live, one of a dead pid here is stale. */
function holderIsLive(holder: LockHolder | null): holder is LockHolder {
  if (!holder || typeof holder.pid !== 'number') return false;
  if (holder.host !== hostname()) return true;
  // This process's pid in a lock it does not hold: left by an earlier process that had the same pid.
  if (holder.pid === process.pid) return false;
  return isAlive(holder.pid);
}

export function describeHolder(holder: LockHolder): string {
  return `process ${holder.pid} ("${holder.description}", since ${holder.since}${holder.host === hostname() ? '' : ` on ${holder.host}`})`;
}

/** Locks this process holds, by lock file path, with how many managers in it share each. */
const heldHere = new Map<string, number>();

function releaseAll(): void {
  for (const path of heldHere.keys()) removeIfOurs(path);
  heldHere.clear();
}

function removeIfOurs(path: string): void {
  try {
    if ((JSON.parse(readFileSync(path, 'utf8')) as LockHolder).pid === process.pid) unlinkSync(path);
  } catch {
    // Gone or unreadable: nothing of ours to remove.
  }
}

export class ProcessLock {
  private held = false;

  /** `path`: the lock file (LOCK_FILE in a workspace, OUTPUT_LOCK_FILE in an output folder). */
  constructor(
    private readonly path: string,
    private readonly description = describeThisProcess(),
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lock; returns null when this process holds it (other managers in this same process
   * share it), or the live process that does. A lock left by a process that no longer runs, or a
   * torn lock file, is taken over.
   */
  tryAcquire(): LockHolder | null {
    if (this.held) return null;
    const count = heldHere.get(this.path);
    if (count !== undefined) return this.take(count + 1);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.path, 'wx');
        const me: LockHolder = { pid: process.pid, host: hostname(), description: this.description, since: new Date().toISOString() };
        writeSync(fd, JSON.stringify(me) + '\n');
        closeSync(fd);
        if (heldHere.size === 0) process.once('exit', releaseAll);
        return this.take(1);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLockHolder(this.path);
      if (holderIsLive(holder)) return holder;
      try {
        unlinkSync(this.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return readLockHolder(this.path);
  }

  private take(count: number): null {
    heldHere.set(this.path, count);
    this.held = true;
    return null;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    const count = (heldHere.get(this.path) ?? 1) - 1;
    if (count > 0) {
      heldHere.set(this.path, count);
      return;
    }
    heldHere.delete(this.path);
    if (heldHere.size === 0) process.off('exit', releaseAll);
    removeIfOurs(this.path);
  }
}
