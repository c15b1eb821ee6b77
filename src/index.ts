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
export {
  type Endpoint,
  type ForwardSource,
  type ForwardSpec,
  formatEndpoint,
  formatForwardSpec,
  type ParseSpecOptions,
  parseForwardSpec,
} from './spec.js';
export { type WaitOptions, waitForTargets } from './wait.js';
