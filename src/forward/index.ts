/**
 * The forwarding stage: listeners, accepting, connections and the data path, the open-file
 * budget, and waiting for targets. Sockets only: it starts no process and knows no signal.
 */

export { dialByName } from './dial-names.js';
export { processFdBudget } from './fd-budget.js';
export type { ForwarderGroup } from './forwarder.js';
export { startForwarder, startForwarders } from './forwarder.js';
export type { Forwarder, ForwarderOptions, ForwardStats, UdpStats } from './settings.js';
export type { WaitOptions } from './wait.js';
export { isProbeable, probe, waitForTargets } from './wait.js';
