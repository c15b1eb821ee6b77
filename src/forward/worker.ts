/*
 * A forwarding thread (threads.ts starts it): binds every listener the main thread bound, on the
 * same ports (`reusePort`), and forwards its own share of the clients. Its limits, budgets and
 * counters live in shared memory (shared.ts); its warnings and debug lines go to the main
 * thread as messages, which writes each as one line. It ends when the main thread says so.
 */
import { createServer, isIPv4, isIPv6, type Server } from 'node:net';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { type Logger, loadDebug } from '../log.js';
import { formatEndpoint } from '../plan/index.js';
import { SERVER_OPTIONS, takeClients } from './accept.js';
import { ForwardConnections } from './connections.js';
import { prepareDataPath } from './data-path.js';
import { processFdBudget } from './fd-budget.js';
import { closeServer, describeListenError, listenOn } from './listen.js';
import { adoptProcessCells, ForwardShared } from './shared.js';
import type { ThreadMessage, ThreadReply, ThreadStart } from './thread-protocol.js';

const port = parentPort;
if (port === null) throw new Error('linkfwd: the forwarding thread runs as a worker only');
const start = workerData as ThreadStart;
adoptProcessCells(start.process);

const post = (reply: ThreadReply) => port.postMessage(reply);
const logger: Logger = {
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

/** The forwards this thread serves, by the main thread's id. */
const forwards = new Map<number, { servers: Server[]; connections: ForwardConnections }>();

async function bind(message: Extract<ThreadMessage, { type: 'bind' }>): Promise<void> {
  const { id, forward, addresses, options } = message;
  const shared = new ForwardShared(message.threads, message.shared);
  // The dial latency histogram (--status) lives in the main thread: each dial is posted to it.
  const onDialed = options.reportDials
    ? (_forward: unknown, ms: number) => post({ type: 'dialed', id, ms })
    : undefined;
  const own = { ...options, logger, onDialed };
  const connections = new ForwardConnections(forward, own, shared, start.thread);
  const servers: Server[] = [];
  forwards.set(id, { servers, connections });
  const hasIPv4 = forward.listen.some((address) => isIPv4(address.host));
  prepareDataPath();
  for (const address of addresses) {
    const server = createServer(SERVER_OPTIONS);
    try {
      if (options.threadBindFault === start.thread) throw bindFault(address.port);
      await listenOn(server, address.host, address.port, hasIPv4 && isIPv6(address.host), true);
    } catch (error) {
      await unbind(id);
      const reason = `cannot listen on ${formatEndpoint(address)}: ${describeListenError(error, address.port)}`;
      post({ type: 'bound', id, failure: { reason, code: (error as NodeJS.ErrnoException).code } });
      return;
    }
    takeClients(server, connections.accept, connections.acceptFailed, options.acceptPath);
    servers.push(server);
  }
  processFdBudget().measure();
  post({ type: 'bound', id });
}

/** The test hook's error, as listen() reports a port in use. */
function bindFault(port: number): Error {
  return Object.assign(new Error(`listen EADDRINUSE: address already in use :::${port}`), {
    code: 'EADDRINUSE',
    errno: -98,
    syscall: 'listen',
  });
}

async function unbind(id: number): Promise<void> {
  const served = forwards.get(id);
  if (served === undefined) return;
  forwards.delete(id);
  await Promise.all([...served.servers.map(closeServer), served.connections.abortAll()]);
}

port.on('message', (message: ThreadMessage) => {
  switch (message.type) {
    case 'bind':
      void bind(message);
      break;
    case 'unbind':
      void unbind(message.id).then(() => post({ type: 'unbound', id: message.id }));
      break;
    case 'close':
      void Promise.all([...forwards.keys()].map(unbind)).then(() => post({ type: 'closed' }));
      break;
    case 'crash':
      // The test hook (threads.ts): an uncaught exception, as a bug would throw.
      setImmediate(() => {
        throw new Error('crash injected by a test');
      });
      break;
  }
});

async function ready(): Promise<void> {
  if (start.debug !== undefined) {
    const createDebug = await loadDebug();
    createDebug.enable(start.debug);
    // One message per line: the main thread writes it whole, never mixed with another line.
    createDebug.log = (...args: unknown[]) => post({ type: 'debug', line: format(...args) });
  }
  post({ type: 'ready' });
}

void ready();
