import { readdirSync, readFileSync } from 'node:fs';
import {
  FD_CAPACITY,
  FD_LIMIT,
  FD_OPEN,
  newProcessCells,
  processCells,
  UNLIMITED,
} from './shared.js';

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
 *
 * The counts live in Int32 cells that every forwarding thread shares (shared.ts): descriptors
 * are per process, so are the connections counted against them.
 */
export class FdBudget {
  constructor(
    private readonly proc = '/proc/self',
    private readonly cells: Int32Array = newProcessCells(),
  ) {}

  /** The soft limit on open files, `Infinity` when unknown or unlimited. */
  get limit(): number {
    const limit = Atomics.load(this.cells, FD_LIMIT);
    return limit === 0 ? Number.POSITIVE_INFINITY : limit;
  }

  /** Reads the limit and the descriptors in use; called once a forwarder is listening. */
  measure(): void {
    const limit = readOpenFileLimit(`${this.proc}/limits`);
    if (limit >= UNLIMITED) return;
    Atomics.store(this.cells, FD_LIMIT, limit);
    let inUse: number;
    try {
      inUse = readdirSync(`${this.proc}/fd`).length - 1; // less the one reading the directory
    } catch {
      return;
    }
    const others = inUse - 2 * Atomics.load(this.cells, FD_OPEN);
    const reserve = Math.min(MAX_RESERVE, Math.ceil(limit / 8));
    Atomics.store(this.cells, FD_CAPACITY, Math.max(0, Math.floor((limit - others - reserve) / 2)));
  }

  /** What metrics show: the limit, the connections counted, and how many fit. */
  usage(): { limit: number; connections: number; capacity: number } {
    const capacity = Atomics.load(this.cells, FD_CAPACITY);
    return {
      limit: this.limit,
      connections: Atomics.load(this.cells, FD_OPEN),
      capacity: capacity >= UNLIMITED ? Number.POSITIVE_INFINITY : capacity,
    };
  }

  get full(): boolean {
    return Atomics.load(this.cells, FD_OPEN) >= Atomics.load(this.cells, FD_CAPACITY);
  }

  /**
   * Counts a connection in if there is room; exact across threads (add first, undo if over).
   * @returns false when the budget is full.
   */
  tryTake(): boolean {
    if (Atomics.add(this.cells, FD_OPEN, 1) < Atomics.load(this.cells, FD_CAPACITY)) return true;
    Atomics.sub(this.cells, FD_OPEN, 1);
    return false;
  }

  take(): void {
    Atomics.add(this.cells, FD_OPEN, 1);
  }

  release(): void {
    Atomics.sub(this.cells, FD_OPEN, 1);
  }
}

let processBudget: FdBudget | undefined;

/** The budget of this process, shared by every forwarder and thread; made on first use. */
export function processFdBudget(): FdBudget {
  processBudget ??= new FdBudget('/proc/self', processCells());
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
