export { formatDuration, parseDuration } from './duration.js';
export {
  ERROR_CODES,
  EXIT_LINKFWD_FAILED,
  EXIT_NOT_EXECUTABLE,
  EXIT_NOT_FOUND,
  isLinkfwdError,
  LinkfwdError,
  type LinkfwdErrorCode,
} from './errors.js';
export { type ChildOutcome, commandError, exitStatusOf } from './exit-status.js';
export {
  type Forwarder,
  type ForwarderGroup,
  type ForwarderOptions,
  type ForwardStats,
  startForwarder,
  startForwarders,
} from './forwarder.js';
export {
  type Env,
  type LinkEnvResult,
  type LinkForward,
  parseLinkEnv,
  type SkippedVariable,
} from './link-env.js';
export type { Logger } from './log.js';
export {
  DEFAULT_BIND,
  DEFAULT_EXCLUDE,
  describeOrigin,
  type ListenAddress,
  normalizeAlias,
  type Plan,
  type PlanInput,
  type PlannedForward,
  planForwards,
} from './plan.js';
export { formatPlanTable, type PlanJson, planToJson } from './print.js';
export { type RunOptions, run } from './run.js';
export { FORWARDED_SIGNALS, TERMINAL_SIGNALS, TERMINATING_SIGNALS } from './signals.js';
export {
  type Endpoint,
  type ForwardSource,
  type ForwardSpec,
  formatEndpoint,
  formatForwardSpec,
  type ParseSpecOptions,
  parseForwardSpec,
} from './spec.js';
export {
  installSignalRouter,
  type ProcessLike,
  type SignalRouter,
  type SignalRouterOptions,
  type Supervised,
  type SuperviseOptions,
  superviseChild,
} from './supervisor.js';
export { type WaitOptions, waitForTargets } from './wait.js';
