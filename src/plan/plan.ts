import { LinkfwdError, type LinkfwdErrorCode } from '../errors.js';
import { debugPlan } from '../log.js';
import { isIPv4, isIPv6, isLoopback, normalizeAddress } from './ip.js';
import { compareNames, type Env, parseLinkEnv, type SkippedVariable } from './link-env.js';
import {
  type Endpoint,
  type ForwardSource,
  type ForwardSpec,
  formatEndpoint,
  type Protocol,
} from './spec.js';

/** A listen address of a planned forward. */
export interface ListenAddress extends Endpoint {
  /**
   * True for the default `::1` listener: where the host has no IPv6 (EADDRNOTAVAIL,
   * EAFNOSUPPORT) it is left out quietly instead of failing the forward.
   */
  optional?: boolean;
}

/** A forward as it will be opened: every listen address, one target, and its origin. */
export interface PlannedForward {
  /** The addresses to listen on; empty for a Unix-socket listener (`unix`). */
  listen: ListenAddress[];
  target: Endpoint;
  /** `udp` forwards datagrams; absent or `tcp`: TCP streams. */
  protocol?: Protocol;
  /** Listen on this Unix-socket path (absolute) instead of `listen`; always TCP to the target. */
  unix?: string;
  /** `5432:db:5432` (spec text as given) or `DB_PORT_5432_TCP` (variable name). */
  origin: string;
  source: ForwardSource;
  /** Explicit forwards (from `-f`, `LINKFWD_FORWARD`, or an alias named in `--only`) are all-or-nothing. */
  explicit: boolean;
  /**
   * Link forwards: the name `--dial alias` dials instead of the address in the value. Docker
   * (`docker`): the alias as `/etc/hosts` has it. Kubernetes (`kubernetes`, when
   * `<ALIAS>_SERVICE_HOST` is set): the service's name, qualified at start-up when the
   * namespace is known.
   */
  dialName?: DialName;
}

/** A host name that can stand for a link forward's address. */
interface DialName {
  name: string;
  kind: 'docker' | 'kubernetes';
}

/**
 * The name behind a link variable's alias. Kubernetes service names are DNS labels (lower
 * case, `-`, never `_`), and kubelet writes them upper-cased with `-` as `_`: so `_` is
 * always `-`. Docker writes the alias as given (`--link db:my_db` → `my_db` in /etc/hosts);
 * its variables upper-case it and turn `-` into `_`, so `MY_DB` may be `my-db` too: the
 * lower-cased name as written comes first, `-` for `_` is tried after it at start-up.
 */
function dialNameOf(alias: string, env: Env): DialName {
  const kubernetes = env[`${alias}_SERVICE_HOST`] !== undefined;
  return kubernetes
    ? { name: alias.toLowerCase().replaceAll('_', '-'), kind: 'kubernetes' }
    : { name: alias.toLowerCase(), kind: 'docker' };
}

/** What the planner reads. Everything but `env` has the CLI's defaults. */
export interface PlanInput {
  /** Explicit specs from `-f` (source `flag`) and `LINKFWD_FORWARD` (source `env`). */
  specs?: ForwardSpec[];
  /** The environment scanned for link variables. */
  env?: Env;
  /** Scan link variables (default true). */
  links?: boolean;
  /** Use only these aliases; naming one lifts its default exclusion and makes it explicit. */
  only?: string[];
  /** Ignore these aliases, in addition to {@link DEFAULT_EXCLUDE}. */
  exclude?: string[];
  /** Listen addresses for forwards without their own (default {@link DEFAULT_BIND}). */
  bind?: string[];
  /** Discovered-forward problems become errors. */
  strict?: boolean;
  /** An alias named in `only` that has no link variables is a warning, not an error. */
  allowMissing?: boolean;
}

/** The plan: what will listen where, what was left out, and what is wrong. */
export interface Plan {
  forwards: PlannedForward[];
  /** Link variables that gave no forward (malformed, unsupported, conflicting, overridden). */
  skipped: SkippedVariable[];
  /** One line each, for stderr. */
  warnings: string[];
  /** Fatal problems (explicit conflicts; with `--strict`, discovered ones). Start-up stops at the first. */
  errors: LinkfwdError[];
}

export const DEFAULT_BIND: readonly string[] = ['127.0.0.1', '::1'];
export const DEFAULT_EXCLUDE: readonly string[] = ['KUBERNETES'];

/** `MY-db` → `MY_DB`: aliases compare case-insensitively, `-` equal to `_`. */
function normalizeAlias(alias: string): string {
  return alias.toUpperCase().replaceAll('-', '_');
}

/** How messages name a forward's origin: `-f 5432:db:5432`, `LINKFWD_FORWARD 5432:db:5432`, `DB_PORT_5432_TCP`. */
export function describeOrigin(forward: Pick<PlannedForward, 'origin' | 'source'>): string {
  if (forward.source === 'flag') return `-f ${forward.origin}`;
  if (forward.source === 'env') return `LINKFWD_FORWARD ${forward.origin}`;
  return forward.origin;
}

/**
 * Turns specs and link variables into the forwards to open (README: "Explicit, discovered, and conflicts"). Pure: it binds
 * nothing and reads only its input. Never throws for bad input; fatal problems are returned in
 * `errors` so that `--print` can still show the plan.
 *
 * Precedence: `-f` over `LINKFWD_FORWARD` on the same address and port; explicit over
 * discovered; two explicit forwards on one address and port are an error; two discovered ones
 * on one port collapse when their targets agree and are both dropped when they differ.
 */
export function planForwards(input: PlanInput): Plan {
  const plan: Plan = { forwards: [], skipped: [], warnings: [], errors: [] };
  const defaults = input.bind === undefined || input.bind.length === 0;
  const bind = defaults ? DEFAULT_BIND : [...new Set((input.bind ?? []).map(normalizeAddress))];
  const listenOn = (host: string | undefined, port: number): ListenAddress[] =>
    host !== undefined
      ? [{ host, port }]
      : bind.map((h) =>
          defaults && h === '::1' ? { host: h, port, optional: true } : { host: h, port },
        );

  const clash = bindClash(bind);
  if (clash !== undefined) plan.errors.push(clash);

  const explicit: PlannedForward[] = [];
  const specs = [...(input.specs ?? [])].sort(
    (a, b) => sourceRank(a.source) - sourceRank(b.source),
  );
  for (const spec of specs) {
    const forward: PlannedForward = {
      listen: spec.unix === undefined ? listenOn(spec.bind, spec.port) : [],
      target: spec.target,
      origin: spec.origin,
      source: spec.source,
      explicit: true,
    };
    if (spec.protocol === 'udp') forward.protocol = 'udp';
    if (spec.unix !== undefined) forward.unix = spec.unix;
    const rival = explicit.find((other) => overlaps(other, forward));
    if (rival === undefined) {
      explicit.push(forward);
    } else if (rival.source === 'flag' && forward.source === 'env') {
      debugPlan('%s wins over %s', describeOrigin(rival), describeOrigin(forward));
    } else {
      plan.errors.push(explicitConflict(rival, forward));
    }
  }

  const discovered: PlannedForward[] = [];
  if (input.links !== false) {
    const links = parseLinkEnv(input.env ?? {});
    const only = new Set((input.only ?? []).map(normalizeAlias));
    const exclude = new Set([
      ...DEFAULT_EXCLUDE.filter((alias) => !only.has(alias)),
      ...(input.exclude ?? []).map(normalizeAlias),
    ]);
    const given = new Set((input.exclude ?? []).map(normalizeAlias));
    /** Aliases that matched `only` (or all, without it): a named one found nothing if not here. */
    const seen = new Set<string>();
    /** Whether an alias is used; an excluded one is listed as skipped, with the reason. */
    const wanted = (alias: string, origin: string) => {
      const normal = normalizeAlias(alias);
      if (only.size !== 0 && !only.has(normal)) return false;
      seen.add(normal);
      if (!exclude.has(normal)) return true;
      const reason = given.has(normal) ? 'excluded by --exclude' : 'excluded by default';
      plan.skipped.push({ origin, reason, kind: 'excluded', alias });
      return false;
    };
    for (const skip of links.skipped) {
      if (skip.alias !== undefined && !wanted(skip.alias, skip.origin)) continue;
      plan.skipped.push(skip);
      if (skip.kind === 'unsupported') {
        debugPlan('%s skipped: %s', skip.origin, skip.reason);
      } else {
        warnOrFail(
          plan,
          input.strict,
          'ERR_LINKFWD_BAD_LINK_VARIABLE',
          `${skip.origin} skipped: ${skip.reason}`,
          skip.origin,
        );
      }
    }
    for (const link of links.forwards) {
      if (!wanted(link.alias, link.origin)) continue;
      const normal = normalizeAlias(link.alias);
      const forward: PlannedForward = {
        listen: listenOn(undefined, link.port),
        target: link.target,
        origin: link.origin,
        source: 'link',
        explicit: only.has(normal),
        dialName: dialNameOf(link.alias, input.env ?? {}),
      };
      if (link.protocol === 'udp') forward.protocol = 'udp';
      if (!forward.explicit) {
        discovered.push(forward);
        continue;
      }
      const rival = explicit.find((other) => overlaps(other, forward));
      if (rival === undefined) explicit.push(forward);
      else plan.errors.push(explicitConflict(rival, forward));
    }
    for (const alias of only) {
      if (seen.has(alias)) continue;
      const message = `--only ${alias}: no link variables for this alias`;
      if (input.allowMissing === true) plan.warnings.push(message);
      else {
        const hint = `${message} (--allow-missing makes this a warning)`;
        plan.errors.push(new LinkfwdError('ERR_LINKFWD_USAGE', hint, { origin: '--only' }));
      }
    }
  }

  plan.forwards.push(...explicit, ...settleDiscovered(discovered, explicit, plan, input.strict));
  plan.forwards.sort(
    (a, b) =>
      (a.listen[0]?.port ?? 0) - (b.listen[0]?.port ?? 0) || compareNames(a.origin, b.origin),
  );
  for (const forward of plan.forwards) {
    for (const address of forward.listen) {
      if (!isLoopback(address.host)) {
        plan.warnings.push(
          `port ${address.port} is exposed beyond this host on ${address.host} (${describeOrigin(forward)})`,
        );
      }
    }
  }
  plan.skipped.sort((a, b) => compareNames(a.origin, b.origin));
  return plan;
}

/** Two `--bind` addresses one of which covers the other: every listener would fail to bind. */
function bindClash(bind: readonly string[]): LinkfwdError | undefined {
  for (const wide of bind) {
    // A wildcard covers the other addresses of its family. With an IPv4 address beside it,
    // `::` is IPv6-only (forwarder.ts), so `0.0.0.0` and `::` can both be bound.
    const family = wide === '0.0.0.0' ? isIPv4 : wide === '::' ? isIPv6 : undefined;
    const covered = family && bind.find((other) => other !== wide && family(other));
    if (covered === undefined) continue;
    return new LinkfwdError(
      'ERR_LINKFWD_CONFLICT',
      `--bind ${wide} and --bind ${covered} overlap: ${wide} already listens on ${covered}; give one of them`,
      { origin: '--bind' },
    );
  }
  return undefined;
}

/** Explicit forwards win; discovered ones on one port collapse or cancel each other. */
function settleDiscovered(
  discovered: PlannedForward[],
  explicit: PlannedForward[],
  plan: Plan,
  strict: boolean | undefined,
): PlannedForward[] {
  const kept: PlannedForward[] = [];
  const byPort = new Map<string, PlannedForward[]>();
  for (const forward of discovered) {
    const winner = explicit.find((other) => overlaps(other, forward));
    if (winner !== undefined) {
      const reason = `overridden by ${describeOrigin(winner)}`;
      plan.skipped.push({ origin: forward.origin, reason, kind: 'overridden' });
      debugPlan('%s %s', forward.origin, reason);
      continue;
    }
    // TCP and UDP on one port number are two forwards, not rivals.
    const key = `${forward.listen[0]?.port ?? 0}${protocolSuffix(forward)}`;
    byPort.set(key, [...(byPort.get(key) ?? []), forward]);
  }
  for (const [port, group] of byPort) {
    const [first, ...rest] = group;
    if (first === undefined) continue;
    if (rest.every((other) => sameEndpoint(other.target, first.target))) {
      kept.push(first);
      for (const other of rest) {
        plan.skipped.push({
          origin: other.origin,
          reason: `same target as ${first.origin}`,
          kind: 'duplicate',
        });
      }
      continue;
    }
    const names = group.map((f) => f.origin);
    for (const forward of group) {
      const others = names.filter((n) => n !== forward.origin).join(', ');
      plan.skipped.push({
        origin: forward.origin,
        reason: `port ${port} conflicts with ${others}`,
        kind: 'conflict',
      });
    }
    warnOrFail(
      plan,
      strict,
      'ERR_LINKFWD_DISCOVERED_CONFLICT',
      `${names.join(' and ')} both want port ${port} with different targets; none of them is forwarded`,
      names.join(','),
    );
  }
  return kept;
}

/** A warning, or with `--strict` an error. */
function warnOrFail(
  plan: Plan,
  strict: boolean | undefined,
  code: LinkfwdErrorCode,
  message: string,
  origin: string,
) {
  if (strict === true)
    plan.errors.push(new LinkfwdError(code, `${message} (--strict)`, { origin }));
  else plan.warnings.push(message);
}

function explicitConflict(first: PlannedForward, second: PlannedForward): LinkfwdError {
  const shared = second.listen.find((a) => first.listen.some((b) => addressesOverlap(a, b)));
  const where =
    second.unix !== undefined
      ? ` on ${second.unix}`
      : shared === undefined
        ? ''
        : ` on ${formatEndpoint(shared)}${protocolSuffix(second)}`;
  return new LinkfwdError(
    'ERR_LINKFWD_CONFLICT',
    `${describeOrigin(first)} and ${describeOrigin(second)} both listen${where}`,
    { origin: second.origin },
  );
}

function sourceRank(source: ForwardSource): number {
  return source === 'flag' ? 0 : source === 'env' ? 1 : 2;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}

/** `/udp` for a UDP forward, nothing for TCP (the default). */
export function protocolSuffix(forward: Pick<PlannedForward, 'protocol'>): string {
  return forward.protocol === 'udp' ? '/udp' : '';
}

/**
 * Two forwards collide when any of their listen addresses would fight over one socket: same
 * protocol (a UDP and a TCP socket share a port number peacefully), or the same Unix path.
 */
function overlaps(a: PlannedForward, b: PlannedForward): boolean {
  if (a.unix !== undefined || b.unix !== undefined) return a.unix === b.unix;
  if ((a.protocol ?? 'tcp') !== (b.protocol ?? 'tcp')) return false;
  return a.listen.some((x) => b.listen.some((y) => addressesOverlap(x, y)));
}

/** Same port and the same address, or a wildcard that covers the other (`0.0.0.0`, `::`). */
function addressesOverlap(a: Endpoint, b: Endpoint): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  const x = normalizeAddress(a.host);
  const y = normalizeAddress(b.host);
  if (x === y || x === '::' || y === '::') return true;
  return (x === '0.0.0.0' && isIPv4(y)) || (y === '0.0.0.0' && isIPv4(x));
}
