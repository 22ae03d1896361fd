// A swarm of healthy `ws` clients in a process of its own, so that a stall of the server's
// event loop does not also stall the clients (they answer pings while the server is blocked,
// as real clients on other machines would). Driven over IPC by the server tests and benches.
//
//   fork('server-swarm.mjs', [url, count])
//   → { type: 'ready', open }                 once every client has opened (or failed)
//   ← { type: 'send', text }                  the first client sends `text`
//   ← { type: 'send-on-ping', text }          the first client sends `text` right after it
//                                             answers its next ping (while the server still
//                                             has the other clients' pongs to read)
//   ← { type: 'report' } → { type: 'report', open, closed, codes, memory }
//   ← { type: 'exit' }                        terminate everything and exit
import { WebSocket } from 'ws';

const [url, countArg, batchArg] = process.argv.slice(2);
const count = Number(countArg);
const batch = Number(batchArg ?? 100);
const sockets = [];
const codes = {};
let open = 0;
let closed = 0;

function connectOne() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('open', () => {
      open++;
      resolve();
    });
    ws.on('error', () => resolve());
    ws.on('close', (code) => {
      closed++;
      codes[code] = (codes[code] ?? 0) + 1;
      resolve();
    });
  });
}

// In batches, so the listen backlog (511) never overflows.
for (let i = 0; i < count; i += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, count - i) }, connectOne));
}
process.send({ type: 'ready', open });

process.on('message', (message) => {
  if (message.type === 'send') sockets[0]?.send(message.text);
  if (message.type === 'send-on-ping') {
    // ws answers the ping (autoPong) before emitting 'ping', so the pong goes out first.
    sockets[0]?.once('ping', () => sockets[0].send(message.text));
  }
  if (message.type === 'report') {
    process.send({ type: 'report', open, closed, codes, memory: process.memoryUsage().rss });
  }
  if (message.type === 'exit') {
    for (const ws of sockets) ws.terminate();
    process.disconnect();
  }
});
// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
