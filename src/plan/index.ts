/**
 * The plan stage, pure: argv and environment in, the forwards to open out. Nothing here opens
 * a socket, starts a process, sets a timer or reads `process.env`.
 */
export { isIPLiteral, isLoopback } from './ip.js';
export type { Env, LinkEnvResult, LinkForward, SkippedVariable } from './link-env.js';
export { parseLinkEnv } from './link-env.js';
export type { PlanInput } from './plan.js';
export { DEFAULT_BIND, DEFAULT_EXCLUDE, planForwards } from './plan.js';
export type { ListenAddress, Plan, PlannedForward } from './planned.js';
export { describeOrigin, protocolSuffix } from './planned.js';
export type { PlanJson } from './print.js';
export { formatPlanTable, planToJson } from './print.js';
export type { Endpoint, ForwardSource, ForwardSpec, ParseSpecOptions, Protocol } from './spec.js';
export { formatEndpoint, formatForwardSpec, parseForwardSpec } from './spec.js';
