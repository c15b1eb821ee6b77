/*
 * The status endpoint's HTTP server, in a thread of its own (server.ts starts it). Accepting,
 * parsing, timing out and closing status connections then runs on this thread's event loop,
 * not on the main thread's, which forwards: a flood of the endpoint costs the forwards no more
 * than the same flood aimed at another process (BENCHMARKS.md, "The status endpoint under a
 * flood"). `/healthz` is answered here from the shared health cells; `/readyz` and `/metrics`
 * need the forwarders, so this thread asks the main thread, at most one question of each kind
 * at a time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { limitAdmission } from './admission.js';
import {
  type FromHttpThread,
  type HttpThreadStart,
  healthProblem,
  type Question,
  type ToHttpThread,
} from './thread-protocol.js';

/**
 * Limits that keep slow or hostile clients from holding the endpoint: a probe is one short
 * request, so headers get 2 s, a whole request 5 s, an idle socket 5 s; at most
 * {@link MAX_CONNECTIONS} sockets are open (admission.ts says how).
 */
const HEADERS_TIMEOUT = 2000;
const REQUEST_TIMEOUT = 5000;
const MAX_CONNECTIONS = 64;
const MAX_HEADER_SIZE = 8 * 1024;

type Answer = Omit<Extract<ToHttpThread, { type: 'answer' }>, 'type' | 'id'>;

const port = parentPort;
if (port === null) throw new Error('linkfwd: the status endpoint runs as a worker only');
const start = workerData as HttpThreadStart;
const health = new Int32Array(start.health);
const post = (message: FromHttpThread) => port.postMessage(message);

/** Questions in flight, by id, and the one in flight per kind, which later requests share. */
const waiting = new Map<number, (answer: Answer) => void>();
const inFlight = new Map<Question, Promise<Answer>>();
let nextId = 1;

function ask(question: Question): Promise<Answer> {
  let answer = inFlight.get(question);
  if (answer === undefined) {
    const id = nextId++;
    answer = new Promise<Answer>((resolve) => waiting.set(id, resolve)).finally(() =>
      inFlight.delete(question),
    );
    inFlight.set(question, answer);
    post({ type: 'ask', id, question });
  }
  return answer;
}

function route(path: string): Promise<Answer> {
  const problem = healthProblem(health);
  switch (path) {
    case '/healthz':
      return Promise.resolve(problem === undefined ? ok : { status: 503, body: problem });
    case '/readyz':
      return problem === undefined ? ask('ready') : Promise.resolve({ status: 503, body: problem });
    case '/metrics':
      return ask('metrics');
    default:
      return Promise.resolve(notFound);
  }
}
const ok: Answer = { status: 200, body: 'ok' };
const notFound: Answer = { status: 404, body: 'not found' };

const server = createServer({
  headersTimeout: HEADERS_TIMEOUT,
  requestTimeout: REQUEST_TIMEOUT,
  maxHeaderSize: MAX_HEADER_SIZE,
  // How often Node enforces the two timeouts above (default 30 s: far too lax here).
  connectionsCheckingInterval: 250,
});
const stopLimiting = limitAdmission(server, {
  maxOpen: MAX_CONNECTIONS,
  perSecond: start.admitPerSecond,
});
server.keepAliveTimeout = 1000;
server.timeout = REQUEST_TIMEOUT;
server.on('request', (request: IncomingMessage, response: ServerResponse) => {
  const path = (request.url ?? '').split('?', 1)[0] ?? '';
  const method = request.method ?? '';
  const answer = method === 'GET' || method === 'HEAD' ? route(path) : Promise.resolve(notFound);
  void answer.then((a) => reply(request, response, a));
});

port.on('message', (message: ToHttpThread) => {
  if (message.type === 'answer') {
    const resolve = waiting.get(message.id);
    waiting.delete(message.id);
    resolve?.(message);
    return;
  }
  stopLimiting();
  server.close(() => port.close());
  server.closeAllConnections();
});

const listenFailed = (error: NodeJS.ErrnoException) => {
  post({ type: 'listen-failed', code: error.code, message: error.message });
  stopLimiting();
  port.close();
};
server.once('error', listenFailed);
server.listen({ host: start.host, port: start.port }, () => {
  server.off('error', listenFailed);
  server.on('error', (error: NodeJS.ErrnoException) =>
    post({ type: 'server-error', code: error.code, message: error.message }),
  );
  post({ type: 'listening', port: (server.address() as { port: number }).port });
});

/**
 * Answers and closes: no request body is ever read, and a closed connection cannot be held.
 * The body is one line of text, or the metrics.
 */
function reply(request: IncomingMessage, response: ServerResponse, answer: Answer): void {
  if (response.destroyed) return;
  const { status, body, contentType = 'text/plain; charset=utf-8' } = answer;
  const text = contentType.startsWith('text/plain') && !body.endsWith('\n') ? `${body}\n` : body;
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    connection: 'close',
  });
  response.end(request.method === 'HEAD' ? undefined : text);
}
