import { SHARE_ENV, Worker, type WorkerOptions } from 'node:worker_threads';
import { describeSystemError, LinkfwdError } from '../errors.js';
import type { Forwarder } from '../forward/index.js';
import type { Logger } from '../log.js';
import { type Endpoint, formatEndpoint, isLoopback } from '../plan/index.js';
import type { StatusMetrics } from './metrics.js';
import { ReadinessCheck } from './ready.js';
import {
  APP,
  APP_EXITED,
  APP_RUNNING,
  type FromHttpThread,
  type HttpThreadStart,
  newHealthCells,
  PHASE,
  type Question,
  RUNNING,
  STARTING,
  STOPPING,
  type ToHttpThread,
} from './thread-protocol.js';

/** The HTTP thread bundled into the status stage as source (scripts/bundle.ts). */
declare const __LINKFWD_STATUS_THREAD__: string | undefined;

/** Where linkfwd is in its life, as `/healthz` and `/readyz` report it. */
type Phase = 'starting' | 'running' | 'stopping';

/** New status connections taken on per second (http-thread.ts, admission.ts). */
const ADMIT_PER_SECOND = 200;
/** How long a closing HTTP thread may take before it is terminated, ms. */
const CLOSE_TIMEOUT = 1000;

export interface StatusOptions {
  /** Where to listen (`--status`). */
  address: Endpoint;
  logger: Logger;
  /** `/readyz` result cache, ms (default 1 s). @internal For tests. */
  readyCacheFor?: number;
  /** New connections taken on per second (default 200). @internal For tests. */
  admitPerSecond?: number;
}

/** The status endpoint (README: "Status endpoint"): `/healthz`, `/readyz`, `/metrics`. */
export interface StatusServer {
  /** The bound address; with port 0, the real port. */
  readonly address: Endpoint;
  /** The forwarders' `onDialed` hook, for the dial latency histogram. */
  readonly observeDial: StatusMetrics['observeDial'];
  /** The forwarders are listening: their targets are checked and their counters served. */
  setForwarders(forwarders: readonly Forwarder[]): void;
  setPhase(phase: Phase): void;
  /** With an app: whether it is running (`/healthz` fails once it has exited). */
  setAppRunning(running: boolean): void;
  /** Stops listening and closes every status connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Listens on `address` and serves the status routes. Warns, like a non-loopback `-f` bind, when
 * the address is reachable from beyond this host.
 *
 * The HTTP server runs in a thread of its own (http-thread.ts), so that what endpoint clients
 * make it do — accepting, parsing, timing out, closing — stays off the event loop that
 * forwards. This thread keeps the state: the health cells it shares with the HTTP thread, and
 * the forwarders, which `/readyz` and `/metrics` need, answered here when the HTTP thread asks.
 *
 * @throws {LinkfwdError} ERR_LINKFWD_LISTEN when the address cannot be bound.
 */
export async function startStatusServer(options: StatusOptions): Promise<StatusServer> {
  const { address, logger } = options;
  let forwarders: readonly Forwarder[] = [];
  const health = newHealthCells();
  // The thread first: it starts up (tens of ms) while this thread loads prom-client.
  const thread = startThread({
    host: address.host,
    port: address.port,
    health: health.buffer as SharedArrayBuffer,
    admitPerSecond: options.admitPerSecond ?? ADMIT_PER_SECOND,
  });
  const loaded = import('./metrics.js').then(
    ({ StatusMetrics }) => new StatusMetrics(() => forwarders),
  );
  loaded.catch(() => {}); // awaited below; here only kept from counting as unhandled meanwhile
  const readiness = new ReadinessCheck(() => forwarders, options.readyCacheFor);

  const answers: Record<Question, () => Promise<[number, string, string?]>> = {
    ready: async () => {
      const { down } = await readiness.check();
      return down.length === 0 ? [200, 'ok'] : [503, `unreachable: ${down.join('; ')}`];
    },
    metrics: async () => {
      const metrics = await loaded;
      return [200, await metrics.render(), metrics.contentType];
    },
  };
  const send = (message: ToHttpThread) => thread.postMessage(message);
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  let closing: Promise<void> | undefined;
  let listening = false;
  function closeThread(): Promise<void> {
    closing ??= (async () => {
      send({ type: 'close' });
      const timer = setTimeout(() => void thread.terminate(), CLOSE_TIMEOUT);
      await exited;
      clearTimeout(timer);
    })();
    return closing;
  }

  const port = await new Promise<number>((resolve, reject) => {
    const failed = (why: string, cause: unknown) => {
      const where = formatEndpoint(address);
      reject(
        new LinkfwdError('ERR_LINKFWD_LISTEN', `cannot listen on ${where}: ${why} (--status)`, {
          origin: '--status',
          cause,
        }),
      );
    };
    thread.on('message', (message: FromHttpThread) => {
      switch (message.type) {
        case 'listening':
          resolve(message.port);
          return;
        case 'listen-failed': {
          const cause = Object.assign(new Error(message.message), { code: message.code });
          failed(describeSystemError(cause), cause);
          return;
        }
        case 'server-error':
          logger.warn(`status endpoint: ${describeSystemError(message)}`);
          return;
        case 'ask':
          void answers[message.question]().then(
            ([status, body, contentType]) =>
              send({ type: 'answer', id: message.id, status, body, contentType }),
            (error: unknown) =>
              send({
                type: 'answer',
                id: message.id,
                status: 500,
                body: describeSystemError(error),
              }),
          );
          return;
      }
    });
    // Before it listens, the thread's end is a failure to start; after, a warning: the
    // endpoint is gone (the probes then fail), the forwards and the app go on.
    let why = 'the status thread exited';
    thread.once('error', (error) => {
      why = describeSystemError(error);
      failed(why, error);
    });
    void exited.then(() => {
      failed(why, undefined);
      if (closing === undefined && listening) logger.warn(`status endpoint stopped: ${why}`);
    });
  });
  listening = true;
  const metrics = await loaded.catch(async (error: unknown) => {
    await closeThread();
    throw error;
  });
  const bound = { host: address.host, port };
  if (!isLoopback(address.host)) {
    logger.warn(`port ${bound.port} is exposed beyond this host on ${address.host} (--status)`);
  }

  return {
    address: bound,
    observeDial: metrics.observeDial,
    setForwarders(list) {
      forwarders = list;
      for (const forwarder of list) metrics.listening(forwarder);
    },
    setPhase(next) {
      const value = next === 'starting' ? STARTING : next === 'running' ? RUNNING : STOPPING;
      // Shutting down is for good.
      if (Atomics.load(health, PHASE) !== STOPPING) Atomics.store(health, PHASE, value);
    },
    setAppRunning(running) {
      Atomics.store(health, APP, running ? APP_RUNNING : APP_EXITED);
    },
    close: closeThread,
  };
}

/** Starts the HTTP thread from the bundled source, else from http-thread.js (.ts under tsx). */
function startThread(workerData: HttpThreadStart): Worker {
  // SHARE_ENV: no copy of a possibly huge environment for a thread that reads none of it.
  const options: WorkerOptions = { workerData, env: SHARE_ENV, stdout: false, stderr: false };
  if (typeof __LINKFWD_STATUS_THREAD__ === 'string') {
    return new Worker(__LINKFWD_STATUS_THREAD__, { ...options, eval: true });
  }
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new Worker(new URL(`./http-thread.${extension}`, import.meta.url), options);
}
