import { readFileSync } from 'node:fs';
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from 'prom-client';
import { type Forwarder, type ForwardStats, processFdBudget } from '../forward/index.js';
import { formatEndpoint, type PlannedForward } from '../plan/index.js';

const LABELS = ['forward', 'listen', 'target'] as const;
type Label = (typeof LABELS)[number];

/** Dial latency buckets, seconds: loopback and pod network (sub-ms) to a slow DNS (seconds). */
const DIAL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * How long the rendered default process metrics answer further scrapes, ms. They cost ~0.8 ms
 * of CPU to render (they read /proc), 7 times linkfwd's own (BENCHMARKS.md, "The status
 * endpoint under a flood"); a second-old CPU or memory sample means nothing to Prometheus.
 */
const PROCESS_METRICS_FOR = 1000;

/**
 * What `/metrics` serves, in prom-client's text format: linkfwd's metrics, rendered afresh for
 * each scrape, then prom-client's default process metrics, rendered at most once per
 * {@link PROCESS_METRICS_FOR}. Forward counters are read from each forwarder's
 * {@link ForwardStats} when scraped, so the data path carries no metrics code; only the dial
 * latency is pushed, once per connection, through `observeDial`.
 */
export class StatusMetrics {
  private readonly registry = new Registry();
  private readonly processRegistry = new Registry();
  private processText: { at: number; text: Promise<string> } | undefined;
  private readonly dialSeconds: Histogram<Label>;
  readonly contentType = this.registry.contentType;

  /** The exposition: linkfwd's metrics exact as of now, the process metrics up to 1 s old. */
  async render(): Promise<string> {
    const now = performance.now();
    if (this.processText === undefined || now - this.processText.at >= PROCESS_METRICS_FOR) {
      this.processText = { at: now, text: this.processRegistry.metrics() };
    }
    const [ours, process] = await Promise.all([this.registry.metrics(), this.processText.text]);
    return ours + process;
  }

  constructor(forwarders: () => readonly Forwarder[]) {
    const { registry } = this;
    collectDefaultMetrics({ register: this.processRegistry });
    /** Each forwarder's labels and stats, read afresh: what one collect samples. */
    const sampled = () =>
      forwarders().map((f) => ({ labels: labelsOf(f.forward, f.addresses), stats: f.stats() }));
    /** One sample per forwarder; `undefined` leaves a forwarder out (a UDP count of a TCP one). */
    const perForward = (value: (stats: ForwardStats) => number | undefined) =>
      function collect(this: Counter<Label> | Gauge<Label>) {
        this.reset();
        for (const { labels, stats } of sampled()) {
          const sample = value(stats);
          if (sample === undefined) continue;
          if (this instanceof Gauge) this.set(labels, sample);
          else this.inc(labels, sample);
        }
      };
    /** Two samples per forwarder, read from clients (`to_target`) and from the target. */
    const perDirection = (value: (stats: ForwardStats) => [number, number] | undefined) =>
      function collect(this: Counter<Label | 'direction'>) {
        this.reset();
        for (const { labels, stats } of sampled()) {
          const sample = value(stats);
          if (sample === undefined) continue;
          this.inc({ ...labels, direction: 'to_target' }, sample[0]);
          this.inc({ ...labels, direction: 'to_client' }, sample[1]);
        }
      };
    const labelNames = LABELS;
    new Counter({
      name: 'linkfwd_connections_accepted_total',
      help: 'Clients taken on and dialled for (UDP: flows opened).',
      labelNames,
      registers: [registry],
      collect: perForward((s) => s.accepted),
    });
    new Counter({
      name: 'linkfwd_connections_rejected_total',
      help: 'Clients reset because --max-connections were open or the open-file limit was near (UDP: datagrams from new clients dropped for the same reasons).',
      labelNames,
      registers: [registry],
      collect: perForward((s) => s.rejected),
    });
    new Gauge({
      name: 'linkfwd_connections_active',
      help: 'Connections open now, dialling included (UDP: flows open now).',
      labelNames,
      registers: [registry],
      collect: perForward((s) => s.active),
    });
    new Counter({
      name: 'linkfwd_bytes_total',
      help: 'Bytes forwarded: direction "to_target" was read from clients, "to_client" from the target.',
      labelNames: [...LABELS, 'direction'],
      registers: [registry],
      collect: perDirection((s) => [s.bytesIn, s.bytesOut]),
    });
    new Counter({
      name: 'linkfwd_dial_failures_total',
      help: 'Upstream dials that failed, by errno code (ECONNREFUSED, ETIMEDOUT, ENOTFOUND, ...).',
      labelNames: [...LABELS, 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, stats } of sampled()) {
          for (const [code, count] of Object.entries(stats.failedDials)) {
            this.inc({ ...labels, code }, count);
          }
        }
      },
    });
    new Counter({
      name: 'linkfwd_udp_datagrams_total',
      help: 'UDP datagrams forwarded: direction "to_target" was read from clients, "to_client" from the target.',
      labelNames: [...LABELS, 'direction'],
      registers: [registry],
      collect: perDirection(({ udp }) => udp && [udp.datagramsIn, udp.datagramsOut]),
    });
    new Counter({
      name: 'linkfwd_udp_datagrams_dropped_total',
      help: 'UDP datagrams not passed on: over the flow cap or the open-file budget, target unresolvable, a failed send.',
      labelNames,
      registers: [registry],
      collect: perForward(({ udp }) => udp?.dropped),
    });
    new Counter({
      name: 'linkfwd_udp_refused_total',
      help: 'ICMP port unreachable from a UDP target (ECONNREFUSED on a flow).',
      labelNames,
      registers: [registry],
      collect: perForward(({ udp }) => udp?.refused),
    });
    new Counter({
      name: 'linkfwd_udp_flows_expired_total',
      help: 'UDP flows closed after --udp-idle-timeout without a datagram.',
      labelNames,
      registers: [registry],
      collect: perForward(({ udp }) => udp?.expired),
    });
    this.dialSeconds = new Histogram({
      name: 'linkfwd_dial_duration_seconds',
      help: 'Time from dialling a target to its connect, name resolution included.',
      labelNames,
      buckets: DIAL_BUCKETS,
      registers: [registry],
    });
    const budget = processFdBudget();
    new Gauge({
      name: 'linkfwd_open_files_limit',
      help: 'The soft open-file limit linkfwd budgets against (-1: none known).',
      registers: [registry],
      collect() {
        const { limit } = budget.usage();
        this.set(Number.isFinite(limit) ? limit : -1);
      },
    });
    new Gauge({
      name: 'linkfwd_fd_budget_connections',
      help: 'Connections counted against the open-file budget (two descriptors each).',
      registers: [registry],
      collect() {
        this.set(budget.usage().connections);
      },
    });
    new Gauge({
      name: 'linkfwd_threads',
      help: 'Threads of the linkfwd process (Linux: /proc/self/status).',
      registers: [registry],
      collect() {
        const threads = readThreads();
        if (threads !== undefined) this.set(threads);
      },
    });
  }

  /** The forwarders' `onDialed` hook. */
  readonly observeDial = (forward: PlannedForward, ms: number) => {
    this.dialSeconds.observe(this.dialLabels(forward), ms / 1000);
  };

  /** Bound addresses by forward: with port 0 the plan's listen addresses lack the real port. */
  private readonly listenOf = new Map<PlannedForward, string>();

  /** Records where a forwarder listens, for the labels of its dial observations. */
  listening(forwarder: Forwarder): void {
    this.listenOf.set(forwarder.forward, listenLabel(forwarder.addresses));
  }

  private dialLabels(forward: PlannedForward): LabelValues<Label> {
    const listen = this.listenOf.get(forward) ?? listenLabel(forward.listen);
    return { forward: forward.origin, listen, target: formatEndpoint(forward.target) };
  }
}

function labelsOf(
  forward: PlannedForward,
  addresses: readonly { host: string; port: number }[],
): LabelValues<Label> {
  return {
    forward: forward.origin,
    listen: listenLabel(addresses),
    target: formatEndpoint(forward.target),
  };
}

function listenLabel(addresses: readonly { host: string; port: number }[]): string {
  return addresses.map(formatEndpoint).join(',');
}

function readThreads(): number | undefined {
  try {
    const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}
