// The app: it knows only localhost:<DEMO_PORT>, never where the database really lives.
import { connect } from 'node:net';

const port = Number(process.env.DEMO_PORT ?? 15432);
const socket = connect({ host: 'localhost', port });
socket.setEncoding('utf8');
socket.on('connect', () => {
  console.log(`app: connected to localhost:${port} (${socket.remoteAddress})`);
});

const replies = [];
let buffered = '';
socket.on('data', (chunk) => {
  buffered += chunk;
  for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
    const line = buffered.slice(0, end);
    buffered = buffered.slice(end + 1);
    replies.push(line);
    console.log(`app: database said: ${line}`);
    // The greeting came first, unasked: the forward dialled the database as soon as the app
    // connected, as server-speaks-first protocols need.
    if (replies.length === 1) socket.write('WHO\n');
    if (replies.length === 2) socket.write('QUIT\n');
  }
});
socket.on('end', () => {
  process.exitCode = replies.at(-1) === 'BYE' ? 0 : 1;
});
socket.on('error', (error) => {
  console.error(`app: ${error.message}`);
  process.exitCode = 1;
});
