/*
 * UDP forwards (`-f 5353:dns:53/udp`, `DNS_PORT_53_UDP`). Each client address is a flow with its
 * own connected upstream socket, so that replies go back to the client that asked and the target
 * sees one peer per client. One datagram in is one datagram out: boundaries are never touched.
 * That is why UDP forwards stay on the main thread with `--threads`: all datagrams of one client
 * go through one upstream socket (ARCHITECTURE.md, "The path of one datagram").
 */
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { describeSystemError } from '../errors.js';
import { debugForward, type Logger, silentLogger } from '../log.js';
import { DEFAULTS } from '../options/index.js';
import {
  describeOrigin,
  type Endpoint,
  formatEndpoint,
  type ListenAddress,
  type PlannedForward,
} from '../plan/index.js';
import { processFdBudget } from './fd-budget.js';
import { failedRound, isNoIPv6, type ListenFailure } from './listen.js';
import type { Forwarder, ForwarderOptions, ForwardStats, UdpStats } from './settings.js';
import {
  bind,
  closeSocket,
  FLOW_BUFFER,
  LISTENER_BUFFER,
  literalLookup,
  PENDING_MAX,
  peerName,
} from './udp-sockets.js';

/**
 * A listener's flows (one family, one port): client address → client port → flow. Two lookups of
 * values Node hands us anyway (rinfo.address, rinfo.port) cost less per datagram than building
 * and hashing a string key.
 */
type FlowTable = Map<string, Map<number, Flow>>;

/** One client address and its connected upstream socket. */
interface Flow {
  /** Its listener's flow table, where the flow is entered under its client's address and port. */
  readonly table: FlowTable;
  readonly listener: Socket;
  readonly client: RemoteInfo;
  /** The upstream socket, once the target's address is known. */
  socket: Socket | undefined;
  /** The socket is connected: datagrams go straight to it. */
  connected: boolean;
  /** Datagrams that came before the upstream socket was connected. */
  pending: Buffer[] | undefined;
  /** A datagram passed either way since the last sweep. */
  active: boolean;
  /** Sweeps in a row that found the flow idle. */
  idleSweeps: number;
  /** ICMP port unreachable was debug-logged for this flow already. */
  refusedLogged: boolean;
  closed: boolean;
}

/**
 * Binds every listen address of a UDP forward, all or none, the same way as TCP (port 0: one
 * ephemeral port for all); resolves with the forwarder or why it could not listen.
 */
export async function startUdpForwarder(
  forward: PlannedForward,
  options: ForwarderOptions,
): Promise<Forwarder | ListenFailure> {
  const forwarder = new UdpForwarder(forward, options);
  const failure = await forwarder.listen();
  if (failure !== undefined) return failure;
  processFdBudget().measure();
  return forwarder;
}

class UdpForwarder implements Forwarder {
  readonly addresses: Endpoint[] = [];
  readonly acceptPath = 'none';
  private readonly listeners: Socket[] = [];
  private readonly flows = new Set<Flow>();
  private readonly counters = { accepted: 0, bytesIn: 0, bytesOut: 0, rejected: 0 };
  private readonly udp: UdpStats = {
    datagramsIn: 0,
    datagramsOut: 0,
    dropped: 0,
    refused: 0,
    expired: 0,
  };
  private readonly failedDials: Record<string, number> = {};
  private readonly maxFlows: number;
  private readonly idleTimeout: number;
  /** Sweeps that must find a flow idle before it is closed. */
  private readonly idleSweeps: number;
  private readonly sweepEvery: number;
  private readonly lookup: LookupFunction;
  private readonly logger: Logger;
  private readonly origin: string;
  private sweeper: NodeJS.Timeout | undefined;
  /** The open-file budget: a flow holds a descriptor, as a connection holds two. */
  private readonly fds = processFdBudget();
  /** The limits already warned about (each once, then debug lines). */
  private readonly warned = new Set<'flows' | 'files'>();
  private warnedResolve = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly forward: PlannedForward,
    options: ForwarderOptions,
  ) {
    this.maxFlows = options.maxConnections ?? DEFAULTS.maxConnections;
    this.idleTimeout = options.udpIdleTimeout ?? DEFAULTS.udpIdleTimeout;
    this.sweepEvery = Math.max(10, Math.min(this.idleTimeout / 4, 5000));
    this.idleSweeps = Math.max(1, Math.ceil(this.idleTimeout / this.sweepEvery));
    this.lookup = options.lookup ?? dnsLookup;
    this.logger = options.logger ?? silentLogger;
    this.origin = describeOrigin(forward);
  }

  stats(): ForwardStats {
    return {
      ...this.counters,
      active: this.flows.size,
      failedDials: { ...this.failedDials },
      udp: { ...this.udp },
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      for (const flow of this.flows) this.closeFlow(flow);
      await Promise.all(this.listeners.map(closeSocket));
    })();
    return this.closing;
  }

  /** Binds every address, or none; resolves with the failure, if any. */
  async listen(): Promise<ListenFailure | undefined> {
    const { listen } = this.forward;
    const hasIPv4 = listen.some((address) => isIPv4(address.host));
    for (let attempt = 1; ; attempt++) {
      let ephemeral: number | undefined;
      let failure: { address: ListenAddress; port: number; error: unknown } | undefined;
      for (const address of listen) {
        const port = address.port === 0 ? (ephemeral ?? 0) : address.port;
        const v6 = isIPv6(address.host);
        const socket = createSocket({
          type: v6 ? 'udp6' : 'udp4',
          ipv6Only: hasIPv4 && v6,
          recvBufferSize: LISTENER_BUFFER,
          sendBufferSize: LISTENER_BUFFER,
          lookup: literalLookup,
        });
        try {
          await bind(socket, address.host, port);
        } catch (error) {
          await closeSocket(socket);
          if (!isNoIPv6(address, error)) {
            failure = { address, port, error };
            break;
          }
          debugForward(
            '%s: not listening on %s: %s',
            this.origin,
            address.host,
            describeSystemError(error),
          );
          continue;
        }
        const table: FlowTable = new Map();
        socket.on('message', (data, client) => this.fromClient(socket, table, data, client));
        socket.on('error', (error) => this.sendFailed(error));
        const bound = { host: address.host, port: socket.address().port };
        if (address.port === 0) ephemeral = bound.port;
        this.listeners.push(socket);
        this.addresses.push(bound);
      }
      if (failure === undefined && this.listeners.length > 0) {
        this.startSweeper();
        return undefined;
      }
      await Promise.all(this.listeners.splice(0).map(closeSocket));
      this.addresses.length = 0;
      if (failure === undefined) return { reason: 'no address to listen on', cause: undefined };
      const result = failedRound(failure, attempt, '/udp');
      if (result !== undefined) return result;
    }
  }

  /**
   * Expiry is checked a few times per idle period, by one timer per forward: a datagram only
   * marks its flow active (no clock read, no timer per flow), and a flow that idleSweeps sweeps
   * in a row found unmarked is closed. It lives idleTimeout to idleTimeout + one sweep (1.25 ×).
   */
  private startSweeper(): void {
    this.sweeper = setInterval(() => this.expireIdle(), this.sweepEvery);
    this.sweeper.unref();
  }

  private expireIdle(): void {
    for (const flow of this.flows) {
      if (flow.active) {
        flow.active = false;
        flow.idleSweeps = 0;
        continue;
      }
      flow.idleSweeps += 1;
      if (flow.idleSweeps < this.idleSweeps) continue;
      this.udp.expired += 1;
      debugForward('%s: flow %s idle, closed', this.origin, peerName(flow.client));
      this.closeFlow(flow);
    }
  }

  private fromClient(listener: Socket, table: FlowTable, data: Buffer, client: RemoteInfo): void {
    this.udp.datagramsIn += 1;
    this.counters.bytesIn += data.length;
    let flow = table.get(client.address)?.get(client.port);
    if (flow === undefined) {
      flow = this.newFlow(table, listener, client);
      if (flow === undefined) return;
    }
    flow.active = true;
    if (flow.connected) {
      flow.socket?.send(data);
    } else if (flow.pending !== undefined && flow.pending.length < PENDING_MAX) {
      flow.pending.push(data);
    } else {
      this.udp.dropped += 1;
    }
  }

  /** A flow for a new client, or undefined (its datagram dropped) over a limit or closing. */
  private newFlow(table: FlowTable, listener: Socket, client: RemoteInfo): Flow | undefined {
    if (this.closing !== undefined) return this.refuse(undefined);
    if (this.flows.size >= this.maxFlows) {
      return this.refuse('flows', `${this.maxFlows} UDP flows open`);
    }
    // Counted like a TCP connection (two descriptors' worth): simple, and on the safe side.
    if (!this.fds.tryTake()) {
      return this.refuse('files', `too many open files (limit ${this.fds.limit})`);
    }
    return this.openFlow(table, listener, client);
  }

  /** Drops a datagram from a new client: over a limit (warned once), or while closing. */
  private refuse(limit: 'flows' | 'files' | undefined, what = ''): undefined {
    this.counters.rejected += 1;
    this.udp.dropped += 1;
    if (limit === undefined) return;
    const message = `${this.origin}: ${what}, datagrams from new clients are dropped`;
    if (this.warned.has(limit)) debugForward(message);
    else this.logger.warn(message);
    this.warned.add(limit);
  }

  private openFlow(table: FlowTable, listener: Socket, client: RemoteInfo): Flow {
    const flow: Flow = {
      table,
      listener,
      client,
      socket: undefined,
      connected: false,
      pending: [],
      active: true,
      idleSweeps: 0,
      refusedLogged: false,
      closed: false,
    };
    let ports = table.get(client.address);
    if (ports === undefined) {
      ports = new Map();
      table.set(client.address, ports);
    }
    ports.set(client.port, flow);
    this.flows.add(flow);
    this.counters.accepted += 1;
    const { host, port } = this.forward.target;
    const family = isIP(host);
    if (family !== 0) {
      this.connectFlow(flow, host, family, port);
    } else {
      // Resolved anew per flow, as TCP resolves per connection: a target that moves is followed.
      this.lookup(host, {}, (error, address, addressFamily) => {
        if (flow.closed) return;
        if (error !== null) return this.resolveFailed(flow, error);
        this.connectFlow(flow, String(address), Number(addressFamily), port);
      });
    }
    return flow;
  }

  private connectFlow(flow: Flow, address: string, family: number, port: number): void {
    const type: SocketType = family === 6 ? 'udp6' : 'udp4';
    const upstream = createSocket({
      type,
      recvBufferSize: FLOW_BUFFER,
      sendBufferSize: FLOW_BUFFER,
    });
    upstream.on('message', (data) => {
      this.udp.datagramsOut += 1;
      this.counters.bytesOut += data.length;
      flow.active = true;
      flow.listener.send(data, flow.client.port, flow.client.address);
    });
    upstream.on('error', (error) => this.upstreamError(flow, error));
    flow.socket = upstream;
    upstream.connect(port, address, (error?: Error) => {
      if (flow.closed) return;
      if (error != null) return this.resolveFailed(flow, error);
      flow.connected = true;
      for (const data of flow.pending ?? []) upstream.send(data);
      flow.pending = undefined;
    });
  }

  /**
   * An error on a flow's socket. ECONNREFUSED is the target's ICMP port unreachable: counted,
   * debug-logged once per flow; the flow stays, for the target may come back.
   */
  private upstreamError(flow: Flow, error: NodeJS.ErrnoException): void {
    if (error.code === 'ECONNREFUSED') {
      this.udp.refused += 1;
      if (!flow.refusedLogged) {
        debugForward(
          '%s: %s refused by %s (ICMP port unreachable)',
          this.origin,
          peerName(flow.client),
          formatEndpoint(this.forward.target),
        );
      }
      flow.refusedLogged = true;
      return;
    }
    this.udp.dropped += 1;
    debugForward('%s: flow %s: %s', this.origin, peerName(flow.client), describeSystemError(error));
  }

  /** The target's name did not resolve, or its socket could not connect: the flow ends. */
  private resolveFailed(flow: Flow, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    this.failedDials[code] = (this.failedDials[code] ?? 0) + 1;
    this.udp.dropped += flow.pending?.length ?? 0;
    const message = `cannot reach ${formatEndpoint(this.forward.target)} for ${this.origin}: ${describeSystemError(error)}`;
    if (this.warnedResolve) debugForward(message);
    else this.logger.warn(message);
    this.warnedResolve = true;
    this.closeFlow(flow);
  }

  /** A reply that could not be sent to its client (the listener's `error`). */
  private sendFailed(error: Error): void {
    this.udp.dropped += 1;
    debugForward('%s: %s', this.origin, describeSystemError(error));
  }

  private closeFlow(flow: Flow): void {
    if (flow.closed) return;
    flow.closed = true;
    this.flows.delete(flow);
    const { table, client } = flow;
    const ports = table.get(client.address);
    ports?.delete(client.port);
    if (ports?.size === 0) table.delete(client.address);
    this.fds.release();
    void (flow.socket && closeSocket(flow.socket));
    flow.pending = undefined;
  }
}
