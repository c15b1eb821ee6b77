/*
 * Forwarding threads (README: "Forwarding threads"). The main thread stays the supervisor and is
 * also forwarding thread 0; threads 1..N-1 are workers (worker.ts) that bind every listener on
 * the same concrete ports with `reusePort`, so the kernel spreads new clients over all of them.
 * What must hold for the process lives in shared memory (shared.ts). A worker that fails is
 * fatal: {@link ForwardThreads.failed} resolves and run.ts ends everything with status 125.
 */
import { SHARE_ENV, Worker, type WorkerOptions } from 'node:worker_threads';
import { LinkfwdError } from '../errors.js';
import { debugForward, debugNamespaces, type Logger, silentLogger } from '../log.js';
import type { Endpoint, PlannedForward } from '../plan/index.js';
import type { ForwardShared } from './shared.js';
import { processCells } from './shared.js';
import type {
  ThreadForwardOptions,
  ThreadMessage,
  ThreadReply,
  ThreadStart,
} from './thread-protocol.js';

/** The worker bundled into the CLI and the single executable as source (scripts/bundle.ts). */
declare const __LINKFWD_WORKER__: string | undefined;

/** Starts a worker from the bundled source, else from worker.js (worker.ts under tsx) beside this. */
function newWorker(workerData: ThreadStart): Worker {
  // SHARE_ENV: no copy of a possibly huge environment per thread.
  const options: WorkerOptions = { workerData, env: SHARE_ENV, stdout: false, stderr: false };
  if (typeof __LINKFWD_WORKER__ === 'string') {
    return new Worker(__LINKFWD_WORKER__, { ...options, eval: true });
  }
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new Worker(new URL(`./worker.${extension}`, import.meta.url), options);
}

interface Thread {
  worker: Worker;
  /** Called with each reply of the worker. */
  waiting: ((reply: ThreadReply) => void)[];
  exited: Promise<void>;
}

/** The worker threads of a forwarder group, and the messages to them. */
export class ForwardThreads {
  /** Resolves with the error when a thread fails (an exception, an exit nobody asked for). */
  readonly failed: Promise<LinkfwdError>;
  private fail!: (error: LinkfwdError) => void;
  private readonly threads: Thread[] = [];
  private closing: Promise<void> | undefined;
  private nextId = 1;
  /** Per bound forward id, where its workers' dial latencies go (`onDialed`). */
  private readonly dialed = new Map<number, (ms: number) => void>();

  private constructor(
    /** Forwarding threads, the main thread included. */
    readonly count: number,
    private readonly logger: Logger,
  ) {
    this.failed = new Promise((resolve) => {
      this.fail = resolve;
    });
  }

  /** Starts `count - 1` workers and waits until each is ready. */
  static async start(count: number, logger: Logger = silentLogger): Promise<ForwardThreads> {
    const pool = new ForwardThreads(count, logger);
    const debug = debugNamespaces();
    for (let n = 1; n < count; n++) {
      pool.threads.push(
        pool.startThread({ thread: n, process: processCells().buffer as SharedArrayBuffer, debug }),
      );
    }
    const ready = Promise.all(pool.threads.map((thread) => pool.reply(thread, 'ready')));
    const failed = await Promise.race([ready.then(() => undefined), pool.failed]);
    if (failed !== undefined) {
      await pool.close();
      throw failed;
    }
    debugForward('%d forwarding threads', count);
    return pool;
  }

  private startThread(start: ThreadStart): Thread {
    const worker = newWorker(start);
    const thread: Thread = { worker, waiting: [], exited: Promise.resolve() };
    thread.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: ThreadReply) => {
      if (reply.type === 'log') this.logger[reply.level](reply.message);
      // One write per line: lines of different threads never mix.
      else if (reply.type === 'debug') process.stderr.write(`${reply.line}\n`);
      else if (reply.type === 'dialed') this.dialed.get(reply.id)?.(reply.ms);
      else for (const waiter of thread.waiting.splice(0)) waiter(reply);
    });
    worker.on('error', (error) => this.failure(start.thread, error.message));
    worker.on('exit', (code) => {
      if (this.closing === undefined) this.failure(start.thread, `exited with status ${code}`);
    });
    return thread;
  }

  private failure(thread: number, reason: string): void {
    const message = `forwarding thread ${thread} failed: ${reason}`;
    this.fail(new LinkfwdError('ERR_LINKFWD_THREAD', message));
  }

  /** The next reply of `type` from `thread` (replies come in the order of the requests). */
  private reply<T extends ThreadReply['type']>(
    thread: Thread,
    type: T,
  ): Promise<Extract<ThreadReply, { type: T }>> {
    return new Promise((resolve) => {
      const wait = (reply: ThreadReply) => {
        if (reply.type === type) resolve(reply as Extract<ThreadReply, { type: T }>);
        else thread.waiting.push(wait);
      };
      thread.waiting.push(wait);
    });
  }

  private async ask<T extends ThreadReply['type']>(
    message: ThreadMessage,
    type: T,
  ): Promise<Extract<ThreadReply, { type: T }>[]> {
    for (const thread of this.threads) thread.worker.postMessage(message);
    const replies = Promise.all(this.threads.map((thread) => this.reply(thread, type)));
    const outcome = await Promise.race([replies, this.failed]);
    if (outcome instanceof LinkfwdError) throw outcome;
    return outcome;
  }

  /**
   * Binds `addresses` (bound by the main thread: concrete ports) in every worker. All or none:
   * if one thread fails, the others close what they bound.
   *
   * @returns the first failure's reason and error, or undefined.
   */
  async bind(
    forward: PlannedForward,
    addresses: Endpoint[],
    options: ThreadForwardOptions,
    shared: ForwardShared,
    onDialed?: (ms: number) => void,
  ): Promise<{ reason: string; cause: Error } | undefined> {
    const id = this.nextId++;
    if (onDialed !== undefined) this.dialed.set(id, onDialed);
    const message: ThreadMessage = {
      type: 'bind',
      id,
      forward,
      addresses,
      options: { ...options, reportDials: onDialed !== undefined },
      threads: this.count,
      shared: shared.buffers,
    };
    const replies = await this.ask(message, 'bound');
    const failed = replies.find((reply) => reply.failure !== undefined)?.failure;
    if (failed === undefined) return undefined;
    await this.ask({ type: 'unbind', id }, 'unbound');
    this.dialed.delete(id);
    const cause = Object.assign(new Error(failed.reason), { code: failed.code });
    return { reason: failed.reason, cause };
  }

  /**
   * Resets every connection of every worker, closes their listeners and ends them; resolves
   * once every worker has exited. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const live = this.threads.map(async (thread) => {
        thread.worker.postMessage({ type: 'close' } satisfies ThreadMessage);
        await Promise.race([this.reply(thread, 'closed'), thread.exited]);
        await thread.worker.terminate();
        await thread.exited;
      });
      await Promise.all(live);
    })();
    return this.closing;
  }

  /** @internal Tests: makes worker `thread` throw an uncaught exception. */
  crash(thread: number): void {
    this.threads[thread - 1]?.worker.postMessage({ type: 'crash' } satisfies ThreadMessage);
  }

  /** @internal Tests: workers still running. */
  running(): number {
    return this.threads.filter((thread) => thread.worker.threadId !== -1).length;
  }
}
