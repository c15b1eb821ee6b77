/*
 * The state every forwarding thread shares (README: "Forwarding threads"), in SharedArrayBuffers
 * so that the main thread and each worker read and update the same cells: the process-wide
 * open-file and bulk-buffer budgets, and per forward the live-connection count, the warn-once
 * flags and one counter slot per thread. A buffer made here is posted to the workers as it is;
 * with one thread nothing but this thread ever touches it.
 */
import { constants } from 'node:os';

/** Process cells (Int32): connections holding descriptors, room for them, the limit, bulk bytes. */
export const FD_OPEN = 0;
export const FD_CAPACITY = 1;
export const FD_LIMIT = 2;
export const BULK_TOTAL = 3;
const PROCESS_CELLS = 4;
/** Stands for "no limit" in an Int32 cell. */
export const UNLIMITED = 0x7fffffff;

let processCellsArray: Int32Array | undefined;

/** The cells of this process, made on first use (not at import). */
export function processCells(): Int32Array {
  processCellsArray ??= newProcessCells();
  return processCellsArray;
}

/** A fresh set of process cells: nothing open, no limit known. */
export function newProcessCells(): Int32Array {
  const cells = new Int32Array(new SharedArrayBuffer(PROCESS_CELLS * 4));
  cells[FD_CAPACITY] = UNLIMITED;
  return cells;
}

/** A worker takes the main thread's cells before it makes anything that counts. */
export function adoptProcessCells(buffer: SharedArrayBuffer): void {
  processCellsArray = new Int32Array(buffer);
}

/** Forward flags (Int32, Atomics): live connections, and the warnings already given. */
export const ACTIVE = 0;
export const WARNED_FULL = 1;
export const WARNED_FDS = 2;
export const WARNED_ACCEPT = 3;
export const DIALS_FAILING = 4;
const FLAGS = 5;

/** A thread's counter slot (Float64: exact to 2^53 bytes): these, then one per dial error code. */
export const ACCEPTED = 0;
export const BYTES_IN = 1;
export const BYTES_OUT = 2;
export const REJECTED = 3;
const FIRST_CODE = 4;

/**
 * Error codes a failed dial is counted under: every errno name, the DNS codes, the few Node
 * codes a dial can throw; anything else counts as UNKNOWN. A fixed table so that each thread
 * counts into shared memory and a read of the stats adds up every thread at once.
 */
const DIAL_CODES = [
  ...new Set([
    ...Object.keys(constants.errno),
    ...['ENODATA', 'EFORMERR', 'ESERVFAIL', 'ENOTFOUND', 'ENOTIMP', 'EREFUSED', 'EBADQUERY'],
    ...['EBADNAME', 'EBADFAMILY', 'EBADRESP', 'ECONNREFUSED', 'ETIMEOUT', 'EOF', 'EFILE'],
    ...[
      'ENOMEM',
      'EDESTRUCTION',
      'EBADSTR',
      'EBADFLAGS',
      'ENONAME',
      'EBADHINTS',
      'ENOTINITIALIZED',
    ],
    ...['ELOADIPHLPAPI', 'EADDRGETNETWORKPARAMS', 'ECANCELLED', 'EAI_AGAIN', 'EAI_FAIL'],
    ...['ERR_SOCKET_BAD_PORT', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE', 'UNKNOWN'],
  ]),
];
const CODE_INDEX = new Map(DIAL_CODES.map((code, i) => [code, FIRST_CODE + i]));
const SLOT = FIRST_CODE + DIAL_CODES.length;

/** The buffers of one {@link ForwardShared}, as posted to a worker. */
export interface ForwardSharedBuffers {
  flags: SharedArrayBuffer;
  slots: SharedArrayBuffer;
}

/** One forward's shared cells: its flags, and a counter slot per forwarding thread. */
export class ForwardShared {
  readonly flags: Int32Array;
  private readonly slots: Float64Array;
  readonly threads: number;

  constructor(threads: number, buffers?: ForwardSharedBuffers) {
    this.threads = threads;
    this.flags = new Int32Array(buffers?.flags ?? new SharedArrayBuffer(FLAGS * 4));
    this.slots = new Float64Array(buffers?.slots ?? new SharedArrayBuffer(threads * SLOT * 8));
  }

  get buffers(): ForwardSharedBuffers {
    return {
      flags: this.flags.buffer as SharedArrayBuffer,
      slots: this.slots.buffer as SharedArrayBuffer,
    };
  }

  /** Thread `n`'s counters; only that thread writes them. */
  slot(thread: number): Float64Array {
    return this.slots.subarray(thread * SLOT, (thread + 1) * SLOT);
  }

  /** Where a dial that failed with `code` is counted. */
  static codeIndex(code: string): number {
    return CODE_INDEX.get(code) ?? (CODE_INDEX.get('UNKNOWN') as number);
  }

  /** Every thread's counters added up. */
  sum(): {
    accepted: number;
    bytesIn: number;
    bytesOut: number;
    rejected: number;
    failedDials: Record<string, number>;
    perThread: number[];
  } {
    const total = new Float64Array(SLOT);
    const perThread: number[] = [];
    for (let thread = 0; thread < this.threads; thread++) {
      const slot = this.slot(thread);
      perThread.push(slot[ACCEPTED] as number);
      for (let i = 0; i < SLOT; i++) total[i] = (total[i] as number) + (slot[i] as number);
    }
    const failedDials: Record<string, number> = {};
    DIAL_CODES.forEach((code, i) => {
      const count = total[FIRST_CODE + i] as number;
      if (count > 0) failedDials[code] = count;
    });
    return {
      accepted: total[ACCEPTED] as number,
      bytesIn: total[BYTES_IN] as number,
      bytesOut: total[BYTES_OUT] as number,
      rejected: total[REJECTED] as number,
      failedDials,
      perThread,
    };
  }
}
