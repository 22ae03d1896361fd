// One node of a test cluster (test/support/cluster.ts): a process of its own that builds a
// server with a "server factory" module and reports its port to the parent over IPC. Plain
// JavaScript so that plain `node` runs it; the parent adds `--import tsx` for a .ts factory.
//
//   fork('cluster-node.mjs', [JSON.stringify({ factory, options, index, port, closeTimeout })])
//
// The factory module's default export:
//
//   export default async function (options, { index, port }) {
//     // listen on 127.0.0.1 at `port` (0 on the first start, the previous port on a restart)
//     return { port, close: async () => {}, command: async (body) => reply };  // command optional
//   }
//
// → { type: 'listening', port }          the factory resolved
// → { type: 'failed', error }            the factory threw (then the process exits with 1)
// ← { type: 'command', id, body }        → { type: 'reply', id, value } or { …, error }
// SIGTERM                                await close(), exit 0 (exit 1 after closeTimeout ms,
//                                        or if close() throws)
// IPC disconnect (the parent is gone)    exit at once: a node never outlives its test
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2]);
const { index, port = 0, closeTimeout = 5_000 } = config;

function tell(message) {
  if (process.connected) process.send(message);
}

function describe(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

process.on('disconnect', () => process.exit(0));

let node;
try {
  const factory = (await import(pathToFileURL(config.factory).href)).default;
  if (typeof factory !== 'function') {
    throw new TypeError(`${config.factory} has no default export function (a server factory)`);
  }
  node = await factory(config.options, { index, port });
  if (!node || !Number.isInteger(node.port) || typeof node.close !== 'function') {
    throw new TypeError('the server factory must resolve with { port, close }');
  }
} catch (error) {
  tell({ type: 'failed', error: describe(error) });
  // Let the IPC message leave before exiting.
  setImmediate(() => process.exit(1));
}

if (node) {
  let closing = false;
  process.on('SIGTERM', async () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(1), closeTimeout).unref();
    try {
      await node.close();
      process.exit(0);
    } catch (error) {
      console.error(`node ${index}: close() failed: ${describe(error)}`);
      process.exit(1);
    }
  });

  process.on('message', async (message) => {
    if (message?.type !== 'command') return;
    try {
      if (typeof node.command !== 'function')
        throw new Error('this server factory takes no commands');
      const value = await node.command(message.body);
      tell({ type: 'reply', id: message.id, value });
    } catch (error) {
      tell({ type: 'reply', id: message.id, error: describe(error) });
    }
  });

  tell({ type: 'listening', port: node.port });
}
