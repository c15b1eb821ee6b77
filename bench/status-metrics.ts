/**
 * What one `/metrics` scrape costs linkfwd's event loop: CPU per render of the status
 * endpoint's metrics (no forwarders), against rendering prom-client's default process metrics,
 * which read /proc, for every scrape. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/status-metrics.ts [renders, default 2000]
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { StatusMetrics } from '../src/status/metrics.js';

const RENDERS = Number(process.argv[2] ?? 2000);

async function cpuPerRender(name: string, render: () => Promise<string>): Promise<void> {
  for (let i = 0; i < 200; i++) await render(); // warm-up
  const started = process.cpuUsage();
  for (let i = 0; i < RENDERS; i++) await render();
  const { user, system } = process.cpuUsage(started);
  console.log(`${name.padEnd(52)} ${((user + system) / RENDERS).toFixed(0)} µs CPU per render`);
}

const metrics = new StatusMetrics(() => []);
await cpuPerRender('/metrics as served (process metrics up to 1 s old)', () => metrics.render());
const defaults = new Registry();
collectDefaultMetrics({ register: defaults });
await cpuPerRender("prom-client's default process metrics, rendered anew", () =>
  defaults.metrics(),
);
