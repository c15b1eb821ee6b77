import { type Forwarder, isProbeable, probe } from '../forward/index.js';
import { describeOrigin, formatEndpoint } from '../plan/index.js';

/** How long one probe of a target may take. Short: a probe must answer within its own timeout. */
const PROBE_TIMEOUT = 1000;
/** How long a check's result answers further requests. */
const CACHE_FOR = 1000;

/** A readiness check: the targets that did not accept, each with why. */
export interface Readiness {
  down: string[];
}

/**
 * `/readyz`'s check: dials every distinct TCP target of the forwarders once (the probe of `--wait`)
 * and closes each connection at once. Requests while a check runs share it, and its result
 * answers for {@link CACHE_FOR} ms: however many probes arrive, each target sees at most one
 * dial per period, never a storm.
 */
export class ReadinessCheck {
  private last: { at: number; result: Readiness } | undefined;
  private running: Promise<Readiness> | undefined;

  constructor(
    private readonly forwarders: () => readonly Forwarder[],
    private readonly cacheFor = CACHE_FOR,
    private readonly timeout = PROBE_TIMEOUT,
  ) {}

  check(): Promise<Readiness> {
    if (this.last !== undefined && performance.now() - this.last.at < this.cacheFor) {
      return Promise.resolve(this.last.result);
    }
    this.running ??= this.probeAll().then((result) => {
      this.last = { at: performance.now(), result };
      this.running = undefined;
      return result;
    });
    return this.running;
  }

  private async probeAll(): Promise<Readiness> {
    const targets = new Map<string, { origins: string[]; forwarder: Forwarder }>();
    for (const forwarder of this.forwarders()) {
      if (!isProbeable(forwarder.forward)) continue;
      const key = formatEndpoint(forwarder.forward.target);
      const entry = targets.get(key) ?? { origins: [], forwarder };
      entry.origins.push(describeOrigin(forwarder.forward));
      targets.set(key, entry);
    }
    const results = await Promise.all(
      [...targets].map(async ([key, { origins, forwarder }]) => {
        const failure = await probe(forwarder.forward.target, this.timeout);
        return failure === undefined ? undefined : `${key} (${origins.join(', ')}): ${failure}`;
      }),
    );
    return { down: results.filter((line) => line !== undefined) };
  }
}
