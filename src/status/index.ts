/**
 * The status stage: the `--status` HTTP endpoint (`/healthz`, `/readyz`, `/metrics`). run.ts
 * loads it with `import()` only when `--status` is given, so that neither `node:http` nor
 * `prom-client` is loaded otherwise. It reads the forwarders' stats; forward/ and supervise/
 * never import it.
 */
export type { StatusServer } from './server.js';
export { startStatusServer } from './server.js';
