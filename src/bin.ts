#!/usr/bin/env node
import { main } from './cli.js';

// A closed stderr (EPIPE) must not kill linkfwd while the app runs.
process.stderr.on('error', () => {});
process.stdout.on('error', () => {});

process.exitCode = await main(process.argv.slice(2), process);
// Everything is closed by now; a handle left behind must not keep linkfwd (and so the
// container) alive after its app has gone.
setTimeout(() => process.exit(), 500).unref();
