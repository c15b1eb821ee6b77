/**
 * Conflicts between forwards: `--bind` addresses that cover each other, explicit forwards that
 * would listen on one socket (an error), discovered ones that collapse or cancel each other
 * (README: "Explicit, discovered, and conflicts").
 */
import { LinkfwdError, type LinkfwdErrorCode } from '../errors.js';
import { debugPlan } from '../log.js';
import { isIPv4, isIPv6, normalizeAddress } from './ip.js';
import { describeOrigin, type Plan, type PlannedForward, protocolSuffix } from './planned.js';
import { type Endpoint, formatEndpoint } from './spec.js';

/** Two `--bind` addresses one of which covers the other: every listener would fail to bind. */
export function bindClash(bind: readonly string[]): LinkfwdError | undefined {
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
export function settleDiscovered(
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
export function warnOrFail(
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

export function explicitConflict(first: PlannedForward, second: PlannedForward): LinkfwdError {
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

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}

/**
 * Two forwards collide when any of their listen addresses would fight over one socket: same
 * protocol (a UDP and a TCP socket share a port number peacefully), or the same Unix path.
 */
export function overlaps(a: PlannedForward, b: PlannedForward): boolean {
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
