// A server factory for cluster.ts (see its header): a plain `ws` echo server that greets every
// connection with its node's name, "node <index>". The harness's own tests run on it; it needs
// no build.
//
// options: { hangOnClose = false }   close() never resolves (to test closeTimeout)
// commands: { type: 'clients' }      → the number of open connections
//           { type: 'env', name }    → process.env[name]
//           { type: 'options' }      → the options this node was given
//           { type: 'fail' }         → rejects, to test how a failed command is reported
import { once } from 'node:events';
import { WebSocketServer } from 'ws';

export default async function echoNode(options = {}, { index, port }) {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.send(`node ${index}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return {
    port: wss.address().port,
    async close() {
      if (options.hangOnClose) return new Promise(() => {});
      // 1001 Going Away: a graceful stop is visible to the clients, unlike a crash (1006).
      for (const ws of wss.clients) ws.close(1001, 'node stopping');
      await new Promise((resolve) => wss.close(resolve));
    },
    command(body) {
      switch (body?.type) {
        case 'clients':
          return wss.clients.size;
        case 'env':
          return process.env[body.name] ?? null;
        case 'options':
          return options;
        default:
          throw new Error(`unknown command ${JSON.stringify(body)}`);
      }
    },
  };
}
