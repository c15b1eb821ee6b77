/**
 * The programs bench/status-flood.ts runs as processes of their own (`node -e`), as strings so
 * that they start without tsx.
 */

/**
 * The flood, aimed at `argv[1]` (a port on 127.0.0.1): 1,000 `/readyz` probes in flight, each
 * re-sent as soon as it is answered or fails; 200 slowloris connections that drip a header
 * line every 500 ms; 20 connections at a time sending 16 KiB of headers. On an IPC message it
 * replies with its counters: connections opened, probes answered.
 */
export const FLOOD = `
  const { request } = require('node:http');
  const { connect } = require('node:net');
  const port = Number(process.argv[1]);
  const counts = { connections: 0, answered: 0 };
  const probe = () => {
    counts.connections++;
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (res) => {
      res.resume(); res.on('end', () => { counts.answered++; probe(); });
      res.on('error', () => setTimeout(probe, 10));
    });
    req.on('error', () => setTimeout(probe, 10));
    req.end();
  };
  const loris = () => {
    counts.connections++;
    const s = connect({ host: '127.0.0.1', port }, () => s.write('GET /healthz HTTP/1.1\\r\\n'));
    const drip = setInterval(() => s.write('X-A: b\\r\\n'), 500);
    s.on('error', () => {}); s.on('close', () => { clearInterval(drip); setTimeout(loris, 10); });
  };
  const huge = 'GET /healthz HTTP/1.1\\r\\nX: ' + 'a'.repeat(16384) + '\\r\\n\\r\\n';
  const big = () => {
    counts.connections++;
    const s = connect({ host: '127.0.0.1', port }, () => s.write(huge));
    s.on('error', () => {}); s.resume(); s.on('close', () => setTimeout(big, 10));
  };
  for (let i = 0; i < 1000; i++) probe();
  for (let i = 0; i < 200; i++) loris();
  for (let i = 0; i < 20; i++) big();
  process.on('message', () => process.send(counts));`;

/**
 * The control's target: a plain `node:http` server on 127.0.0.1:`argv[1]` with the status
 * endpoint's limits (2 s headers, 5 s request, 8 KiB headers, 64 connections, the oldest
 * closed), answering "ok" with `connection: close`. Prints "listening" once it listens.
 */
export const SINK = `
  const { createServer } = require('node:http');
  const server = createServer({ headersTimeout: 2000, requestTimeout: 5000,
    maxHeaderSize: 8192, connectionsCheckingInterval: 250 }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 3,
      'cache-control': 'no-store', connection: 'close' });
    res.end('ok\\n');
  });
  const open = new Set();
  server.on('connection', (s) => {
    open.add(s); s.once('close', () => open.delete(s));
    if (open.size <= 64) return;
    const oldest = open.values().next().value; open.delete(oldest); oldest.destroy();
  });
  server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));`;
