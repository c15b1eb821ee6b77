import { readdirSync, readFileSync } from 'node:fs';

/** Descriptors kept free for everything else: DNS lookups, the app's spawn, a log file. */
const MAX_RESERVE = 64;

/**
 * The open-file limit (`ulimit -n`), shared by every forwarder of the process. A connection
 * holds two descriptors; once the limit leaves no room for another one, new clients are reset
 * by linkfwd with a warning. Left to the kernel, an accept() that fails with EMFILE goes
 * unreported: libuv closes the waiting clients itself and never tells the listener.
 *
 * Linux only (`/proc/self/limits`); elsewhere the budget is unlimited and a dial that fails
 * with EMFILE is reported as any other.
 */
export class FdBudget {
  /** The soft limit on open files, `Infinity` when unknown or unlimited. */
  limit = Number.POSITIVE_INFINITY;
  /** Connections that fit beside the descriptors open when last measured. */
  private capacity = Number.POSITIVE_INFINITY;
  private open = 0;

  constructor(private readonly proc = '/proc/self') {}

  /** Reads the limit and the descriptors in use; called once a forwarder is listening. */
  measure(): void {
    this.limit = readOpenFileLimit(`${this.proc}/limits`);
    if (this.limit === Number.POSITIVE_INFINITY) return;
    let inUse: number;
    try {
      inUse = readdirSync(`${this.proc}/fd`).length - 1; // less the one reading the directory
    } catch {
      return;
    }
    const others = inUse - 2 * this.open;
    const reserve = Math.min(MAX_RESERVE, Math.ceil(this.limit / 8));
    this.capacity = Math.max(0, Math.floor((this.limit - others - reserve) / 2));
  }

  /** What metrics show: the limit, the connections counted, and how many fit. */
  usage(): { limit: number; connections: number; capacity: number } {
    return { limit: this.limit, connections: this.open, capacity: this.capacity };
  }

  get full(): boolean {
    return this.open >= this.capacity;
  }

  take(): void {
    this.open += 1;
  }

  release(): void {
    this.open -= 1;
  }
}

let processBudget: FdBudget | undefined;

/** The budget of this process, shared by every forwarder; made on first use. */
export function processFdBudget(): FdBudget {
  processBudget ??= new FdBudget();
  return processBudget;
}

/** The soft `Max open files` of `/proc/self/limits`. */
function readOpenFileLimit(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const limit = soft === undefined ? Number.NaN : Number(soft);
  return Number.isSafeInteger(limit) && limit > 0 ? limit : Number.POSITIVE_INFINITY;
}
