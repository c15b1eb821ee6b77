import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { describeSystemError, LinkfwdError } from '../errors.js';
import type { Forwarder } from '../forward/index.js';
import type { Logger } from '../log.js';
import { type Endpoint, formatEndpoint, isLoopback } from '../plan/index.js';
import { limitAdmission } from './admission.js';
import { StatusMetrics } from './metrics.js';
import { ReadinessCheck } from './ready.js';

/** Where linkfwd is in its life, as `/healthz` and `/readyz` report it. */
type Phase = 'starting' | 'running' | 'stopping';

/**
 * Limits that keep slow or hostile clients from holding the endpoint: a probe is one short
 * request, so headers get 2 s, a whole request 5 s, an idle socket 5 s; at most
 * {@link MAX_CONNECTIONS} sockets are open and {@link ADMIT_PER_SECOND} taken on a second
 * (admission.ts says how).
 */
const HEADERS_TIMEOUT = 2000;
const REQUEST_TIMEOUT = 5000;
const MAX_CONNECTIONS = 64;
const ADMIT_PER_SECOND = 200;
const MAX_HEADER_SIZE = 8 * 1024;

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
 * @throws {LinkfwdError} ERR_LINKFWD_LISTEN when the address cannot be bound.
 */
export async function startStatusServer(options: StatusOptions): Promise<StatusServer> {
  const { address, logger } = options;
  let forwarders: readonly Forwarder[] = [];
  let phase: Phase = 'starting';
  let appRunning: boolean | undefined;
  const metrics = new StatusMetrics(() => forwarders);
  const readiness = new ReadinessCheck(() => forwarders, options.readyCacheFor);

  const health = (): string | undefined => {
    if (phase === 'starting') return 'starting';
    if (phase === 'stopping') return 'shutting down';
    if (appRunning === false) return 'the app is not running';
    return undefined;
  };

  const routes: Record<string, () => Promise<[number, string, string?]>> = {
    '/healthz': async () => {
      const problem = health();
      return problem === undefined ? [200, 'ok'] : [503, problem];
    },
    '/readyz': async () => {
      const problem = health();
      if (problem !== undefined) return [503, problem];
      const { down } = await readiness.check();
      return down.length === 0 ? [200, 'ok'] : [503, `unreachable: ${down.join('; ')}`];
    },
    '/metrics': async () => [200, await metrics.render(), metrics.contentType],
  };

  const server = createServer({
    headersTimeout: HEADERS_TIMEOUT,
    requestTimeout: REQUEST_TIMEOUT,
    maxHeaderSize: MAX_HEADER_SIZE,
    // How often Node enforces the two timeouts above (default 30 s: far too lax here).
    connectionsCheckingInterval: 250,
  });
  const stopLimiting = limitAdmission(server, {
    maxOpen: MAX_CONNECTIONS,
    perSecond: options.admitPerSecond ?? ADMIT_PER_SECOND,
  });
  server.keepAliveTimeout = 1000;
  server.timeout = REQUEST_TIMEOUT;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?', 1)[0] ?? '';
    const route = routes[path];
    const method = request.method ?? '';
    const handle =
      route !== undefined && (method === 'GET' || method === 'HEAD')
        ? route()
        : Promise.resolve<[number, string]>([404, 'not found']);
    void handle.then(
      ([status, body, type]) => reply(request, response, status, body, type),
      (error: unknown) => reply(request, response, 500, describeSystemError(error)),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      const where = formatEndpoint(address);
      const why = describeSystemError(error);
      reject(
        new LinkfwdError('ERR_LINKFWD_LISTEN', `cannot listen on ${where}: ${why} (--status)`, {
          origin: '--status',
          cause: error,
        }),
      );
    });
    server.listen({ host: address.host, port: address.port }, () => resolve());
  });
  server.on('error', (error) => logger.warn(`status endpoint: ${describeSystemError(error)}`));
  const bound = { host: address.host, port: (server.address() as { port: number }).port };
  if (!isLoopback(address.host)) {
    logger.warn(`port ${bound.port} is exposed beyond this host on ${address.host} (--status)`);
  }

  let closing: Promise<void> | undefined;
  return {
    address: bound,
    observeDial: metrics.observeDial,
    setForwarders(list) {
      forwarders = list;
      for (const forwarder of list) metrics.listening(forwarder);
    },
    setPhase(next) {
      if (phase !== 'stopping') phase = next; // shutting down is for good
    },
    setAppRunning(running) {
      appRunning = running;
    },
    close() {
      stopLimiting();
      closing ??= closeServer(server);
      return closing;
    },
  };
}

/**
 * Answers and closes: no request body is ever read, and a closed connection cannot be held.
 * The body is one line of text, or the metrics.
 */
function reply(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  if (response.destroyed) return;
  const text = type.startsWith('text/plain') && !body.endsWith('\n') ? `${body}\n` : body;
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(request.method === 'HEAD' ? undefined : text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
