import { LinkfwdError } from '../errors.js';
import { debugPlan } from '../log.js';
import {
  bindClash,
  explicitConflict,
  overlaps,
  settleDiscovered,
  warnOrFail,
} from './conflicts.js';
import { isLoopback, normalizeAddress } from './ip.js';
import { compareNames, type Env, parseLinkEnv } from './link-env.js';
import {
  type DialName,
  describeOrigin,
  type ListenAddress,
  type Plan,
  type PlannedForward,
} from './planned.js';
import type { ForwardSource, ForwardSpec } from './spec.js';

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

export const DEFAULT_BIND: readonly string[] = ['127.0.0.1', '::1'];
export const DEFAULT_EXCLUDE: readonly string[] = ['KUBERNETES'];

/** `MY-db` → `MY_DB`: aliases compare case-insensitively, `-` equal to `_`. */
function normalizeAlias(alias: string): string {
  return alias.toUpperCase().replaceAll('-', '_');
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

function sourceRank(source: ForwardSource): number {
  return source === 'flag' ? 0 : source === 'env' ? 1 : 2;
}
