/*
 * Every use of Node internals by the forwarder, in one room.
 *
 * Fast path: a listener's handle gets our own `onconnection(status, handle)`, so each accepted
 * client arrives as a raw TCP handle and becomes a {@link Leg} made here with the socket option
 * `onread` (reads into linkfwd's buffers, see data-path.ts), `pauseOnCreate`, and its options
 * in a dictionary-mode object. net.Server cannot give its sockets `onread`; this is why the hook
 * exists. `onconnection` is an internal of Node's, unchanged for many major versions, and
 * test/accept.test.ts fails if it stops being taken on a supported Node.
 *
 * What the hook bypasses, on purpose (the forwarder does each job itself or needs none):
 * - `server._connections` and `getConnections()`: the forward counts its own connections;
 * - `server.close()` waiting for live connections: the forward resets them itself on close;
 * - the `'connection'` event, `socket.server`, and `server.maxConnections` with its `'drop'`
 *   event: `--max-connections` is checked per forward, across its listeners;
 * - the server options `noDelay`, `keepAlive` and `pauseOnConnect`: set on the socket here;
 * - the `net.server.socket` diagnostics channel: no subscriber sees linkfwd's clients.
 *
 * Fallback: where the hook cannot be installed (a Node without `onconnection`) the listener
 * keeps Node's own accept and its `'connection'` event; clients are then plain paused sockets
 * that read through `'data'` events. Both paths run the whole forwarder test matrix.
 */
import type { Server, Socket, SocketConstructorOpts } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { Leg, READ_INTO } from './data-path.js';

/** Initial delay of TCP keepalive probes on both legs. */
const KEEPALIVE_DELAY = 60_000;

/** Which way a listener takes its clients. */
export type AcceptPath = 'fast' | 'fallback';

/** Options of every listener: the fallback's clients arrive paused, half-open allowed. */
export const SERVER_OPTIONS = {
  allowHalfOpen: true,
  // Bytes a client sends before the upstream answers stay in the kernel (bounded by the TCP
  // window), not in linkfwd.
  pauseOnConnect: true,
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: KEEPALIVE_DELAY,
};

/** What a listener hands on: a paused client socket, and whether it reads through `onread`. */
export type ClientHandler = (client: Socket, viaOnread: boolean) => void;

/** Called when a raw accept() failed (EMFILE, ENFILE): the listener stays open. */
export type AcceptErrorHandler = (error: NodeJS.ErrnoException) => void;

/**
 * Socket options as a null-prototype (dictionary-mode) object. Node's Socket constructor copies
 * its options (`{ ...options }`) and adds properties to the copy; copied from a plain object
 * literal that makes each socket cost ~7 µs to construct in Node 20, from a dictionary ~1.5 µs.
 */
function socketOptions(options: Record<string, unknown>): SocketConstructorOpts {
  return Object.assign(Object.create(null), options);
}

const UPSTREAM_OPTIONS = socketOptions({
  allowHalfOpen: true,
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: KEEPALIVE_DELAY,
  onread: READ_INTO,
});

/** A new, unconnected upstream leg reading through `onread` (dial it with `connect()`). */
export function newUpstreamLeg(): Leg {
  return new Leg(UPSTREAM_OPTIONS);
}

/** A raw accepted TCP handle as a paused client leg reading through `onread`. */
function clientFromHandle(handle: unknown): Leg {
  const options = { handle, allowHalfOpen: true, pauseOnCreate: true, onread: READ_INTO };
  const socket = new Leg(socketOptions(options));
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_DELAY);
  return socket;
}

/**
 * Makes `server` hand each accepted client to `onClient`. Call it once the server listens (the
 * handle exists only then). `path: 'fallback'` forces Node's own accept (tests run both).
 *
 * @returns the path taken.
 */
export function takeClients(
  server: Server,
  onClient: ClientHandler,
  onAcceptError: AcceptErrorHandler,
  path: AcceptPath = 'fast',
): AcceptPath {
  server.on('error', onAcceptError);
  const handle = (server as unknown as { _handle?: { onconnection?: unknown } | null })._handle;
  if (path === 'fast' && typeof handle?.onconnection === 'function') {
    handle.onconnection = (status: number, clientHandle: unknown) => {
      if (status < 0) {
        const code = getSystemErrorName(status);
        onAcceptError(Object.assign(new Error(`accept ${code}`), { code, errno: status }));
      } else {
        onClient(clientFromHandle(clientHandle), true);
      }
    };
    return 'fast';
  }
  server.on('connection', (socket: Socket) => onClient(socket, false));
  return 'fallback';
}
