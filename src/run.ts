import { LinkfwdError } from './errors.js';
import {
  dialByName,
  type ForwarderGroup,
  startForwarders,
  waitForTargets,
} from './forward/index.js';
import {
  debugForward,
  debugSupervisor,
  type Logger,
  loadDebugIfWanted,
  silentLogger,
} from './log.js';
import { DEFAULTS, type Settings } from './options/index.js';
import {
  describeOrigin,
  type Endpoint,
  type Env,
  type ForwardSpec,
  formatEndpoint,
  formatPlanTable,
  type Plan,
  type PlannedForward,
  parseForwardSpec,
  planForwards,
  planToJson,
  protocolSuffix,
} from './plan/index.js';
import {
  exitStatusOf,
  findSetpriv,
  installSignalRouter,
  type ProcessLike,
  signalNumber,
  superviseChild,
} from './supervise/index.js';

type StatusServer = import('./status/index.js').StatusServer;

/** Everything `linkfwd` does, as options. Durations are in milliseconds. */
export interface RunOptions extends Omit<Partial<Settings>, 'specs'> {
  /** The app: `[command, ...args]`. Empty or absent: forward-only mode. */
  command?: readonly string[];
  /** Explicit forwards: spec text (`5432:db:5432`) or parsed specs. */
  forwards?: readonly (string | ForwardSpec)[];
  /**
   * Where link variables are read, and exactly the environment the app receives
   * (default `process.env`).
   */
  env?: Env;
  /** Dry run: write the plan to `stdout` as a table or JSON, bind nothing. */
  print?: 'table' | 'json';
  stdout?: NodeJS.WritableStream;
  logger?: Logger;
  /** The process whose signals are forwarded (tests inject an EventEmitter). */
  process?: ProcessLike;
  /** Called once every listener is bound, before `--wait` and before the app starts. */
  onListening?: (forwarders: ForwarderGroup) => void;
  /** Called once the `status` endpoint listens, with its address (the real port for port 0). */
  onStatusListening?: (address: Endpoint) => void;
}

/**
 * What the CLI does: plan the forwards, bind them all (explicit ones all-or-nothing), optionally
 * wait for the targets, run the app with its signals forwarded, tear everything down when it
 * exits and resolve with the status to exit with (README: "Signals and exit status"). Forward-only mode (no command)
 * serves until SIGTERM, SIGINT or SIGHUP and resolves with 0.
 *
 * @throws {LinkfwdError} when linkfwd itself fails (status 125) or the command cannot be run
 *   (127, 126); everything opened is closed first. Never calls `process.exit`.
 */
export async function run(options: RunOptions = {}): Promise<number> {
  await loadDebugIfWanted();
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const plan = planRun(options, env);
  for (const warning of plan.warnings) logger.warn(warning);
  if (options.dial === 'alias') {
    // Resolved once here, outside the pure planner; --print then shows what is dialled.
    plan.forwards = await dialByName(plan.forwards, { logger, env });
  }
  if (options.print !== undefined) {
    const out = options.stdout ?? process.stdout;
    out.write(
      options.print === 'json' ? `${JSON.stringify(planToJson(plan))}\n` : formatPlanTable(plan),
    );
  }
  // --print ends with the status the start-up would have before binding.
  if (plan.errors[0] !== undefined) throw plan.errors[0];
  const [command, ...args] = options.command ?? [];
  if (command === undefined && plan.forwards.length === 0) {
    throw new LinkfwdError(
      'ERR_LINKFWD_USAGE',
      'nothing to do: no command and nothing to forward (see --help)',
    );
  }
  if (options.print !== undefined) return 0;

  // Signal listeners go in before anything is bound: a SIGTERM during start-up must close the
  // listeners and exit 128+n, not kill linkfwd with the default action or start the app.
  let forwarders: ForwarderGroup | undefined;
  let status: StatusServer | undefined;
  const router = installSignalRouter(options.process, {
    // Probes fail from the first TERM on, while the app may still be shutting down.
    onTerminating: () => status?.setPhase('stopping'),
  });
  try {
    if (options.status !== undefined) {
      // Loaded only here: without --status, neither node:http nor prom-client is loaded.
      const { startStatusServer } = await import('./status/index.js');
      status = await startStatusServer({ address: options.status, logger });
      options.onStatusListening?.(status.address);
    }
    forwarders = await startForwarders(plan.forwards, {
      connectTimeout: options.connectTimeout,
      idleTimeout: options.idleTimeout,
      maxConnections: options.maxConnections,
      udpIdleTimeout: options.udpIdleTimeout,
      unixMode: options.unixMode,
      mkdir: options.mkdir,
      strict: options.strict,
      threads: options.threads ?? DEFAULTS.threads,
      logger,
      onDialed: status?.observeDial,
    });
    status?.setForwarders(forwarders.forwarders);
    const threadFailed = forwarders.failed;
    for (const { forward, addresses } of forwarders.forwarders) {
      const where = forward.unix ?? addresses.map(formatEndpoint).join(', ');
      const line = `${where}${protocolSuffix(forward)} → ${formatEndpoint(forward.target)} (${describeOrigin(forward)})`;
      debugForward('listening on %s', line);
      // Forward-only mode says where it listens, as `kubectl port-forward` does: with nothing
      // else on the terminal, a silent sidecar looks hung. With an app, the app speaks.
      if (command === undefined) logger.info?.(`forwarding ${line}`);
    }
    options.onListening?.(forwarders);
    const ended = (signal: NodeJS.Signals) => {
      debugSupervisor('%s before the app started', signal);
      return command === undefined ? 0 : 128 + signalNumber(signal);
    };
    if (router.pendingTermination !== undefined) return ended(router.pendingTermination);
    if (options.wait === true) {
      // Only the targets that can be probed are waited for (UDP ones cannot).
      const started = forwarders.forwarders.map((f) => f.forward);
      const interrupted = await waitUnlessTerminated(started, options, router.terminated);
      if (interrupted !== undefined) return ended(interrupted);
    }
    if (command === undefined) {
      status?.setPhase('running');
      const ended = await Promise.race([router.terminated, threadFailed]);
      status?.setPhase('stopping');
      if (ended instanceof LinkfwdError) throw ended;
      debugSupervisor('%s: forward-only mode ends', ended);
      return 0;
    }
    if (command === '') {
      // What a shell says of an empty command word; Node would refuse it as an argument.
      throw new LinkfwdError('ERR_LINKFWD_COMMAND_NOT_FOUND', 'cannot run "": command not found');
    }
    const setpriv = findSetpriv();
    if (setpriv === undefined) debugSupervisor('no setpriv: the app outlives a SIGKILL of linkfwd');
    const supervised = superviseChild({ command, args, env, router, logger, setpriv });
    status?.setAppRunning(true);
    status?.setPhase('running');
    const first = await Promise.race([supervised.exited, threadFailed]);
    status?.setAppRunning(false);
    status?.setPhase('stopping');
    if (first instanceof LinkfwdError) {
      // A forwarding thread died: its share of the clients would go unserved. Stop the app as
      // a signal to linkfwd would, wait for it, and fail (125).
      supervised.child.kill('SIGTERM');
      await supervised.exited;
      throw first;
    }
    const outcome = first;
    if (outcome.kind === 'failed') throw outcome.error;
    debugSupervisor(
      'app %s',
      outcome.kind === 'exited' ? `exited ${outcome.code}` : outcome.signal,
    );
    return exitStatusOf(outcome);
  } finally {
    status?.setPhase('stopping');
    await forwarders?.close();
    for (const forwarder of forwarders?.forwarders ?? []) {
      debugForward('%s: %j', describeOrigin(forwarder.forward), forwarder.stats());
    }
    await status?.close();
    router.dispose();
  }
}

function planRun(options: RunOptions, env: Env): Plan {
  const specs = (options.forwards ?? []).map((spec) =>
    typeof spec === 'string' ? parseForwardSpec(spec, { allowPortZero: true }) : spec,
  );
  return planForwards({
    specs,
    env,
    links: options.links,
    only: options.only,
    exclude: options.exclude,
    bind: options.bind,
    strict: options.strict,
    allowMissing: options.allowMissing,
  });
}

/** Waits for the targets; resolves with the signal if a terminating one came first. */
async function waitUnlessTerminated(
  forwards: readonly PlannedForward[],
  options: RunOptions,
  terminated: Promise<NodeJS.Signals>,
): Promise<NodeJS.Signals | undefined> {
  const stop = new AbortController();
  let signal: NodeJS.Signals | undefined;
  void terminated.then((received) => {
    signal = received;
    stop.abort();
  });
  try {
    await waitForTargets(forwards, {
      timeout: options.waitTimeout ?? DEFAULTS.waitTimeout,
      connectTimeout: options.connectTimeout,
      signal: stop.signal,
    });
  } catch (error) {
    if (signal === undefined) throw error;
  }
  return signal;
}
