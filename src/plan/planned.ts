/** A planned forward and the plan: the vocabulary every module of the plan stage shares. */
import type { LinkfwdError } from '../errors.js';
import type { SkippedVariable } from './link-env.js';
import type { Endpoint, ForwardSource, Protocol } from './spec.js';

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
export interface DialName {
  name: string;
  kind: 'docker' | 'kubernetes';
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

/** How messages name a forward's origin: `-f 5432:db:5432`, `LINKFWD_FORWARD 5432:db:5432`, `DB_PORT_5432_TCP`. */
export function describeOrigin(forward: Pick<PlannedForward, 'origin' | 'source'>): string {
  if (forward.source === 'flag') return `-f ${forward.origin}`;
  if (forward.source === 'env') return `LINKFWD_FORWARD ${forward.origin}`;
  return forward.origin;
}

/** `/udp` for a UDP forward, nothing for TCP (the default). */
export function protocolSuffix(forward: Pick<PlannedForward, 'protocol'>): string {
  return forward.protocol === 'udp' ? '/udp' : '';
}
