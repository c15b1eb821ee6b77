/**
 * linkfwd's library: the public API, and nothing else. Loading it allocates nothing and
 * registers nothing; each mechanism is made on first use.
 */
export {
  ERROR_CODES,
  isLinkfwdError,
  LinkfwdError,
  type LinkfwdErrorCode,
} from './errors.js';
export {
  type Forwarder,
  type ForwarderGroup,
  type ForwarderOptions,
  type ForwardStats,
  startForwarder,
  startForwarders,
  type UdpStats,
  type WaitOptions,
  waitForTargets,
} from './forward/index.js';
export type { Logger } from './log.js';
export {
  type Endpoint,
  type Env,
  type ForwardSource,
  type ForwardSpec,
  formatEndpoint,
  formatForwardSpec,
  type LinkEnvResult,
  type LinkForward,
  type ListenAddress,
  type ParseSpecOptions,
  type Plan,
  type PlanInput,
  type PlanJson,
  type PlannedForward,
  type Protocol,
  parseForwardSpec,
  parseLinkEnv,
  planForwards,
  planToJson,
  type SkippedVariable,
} from './plan/index.js';
export { type RunOptions, run } from './run.js';
export {
  type ChildOutcome,
  exitStatusOf,
  type ProcessLike,
  type Supervised,
  type SuperviseOptions,
  supervise,
} from './supervise/index.js';
