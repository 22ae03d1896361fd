// Which Heartline features this build has: whether the client takes `session`, whether the
// server takes `resume`, and whether a session-mode link really comes up (the server's hello
// arrives). Session rows of the bench run only when it does.
//
//   fork('probe.mjs') → { type: 'result', clientSession, serverResume, sessionWorks }
import { once } from 'node:events';
import { HeartlineServer } from '../.build/server/index.js';
import { openClient } from './clients.mjs';
import {
  clientAcceptsSession,
  heartlineServerOptions,
  serverAcceptsResume,
  sessionWitness,
  tell,
} from './lib.mjs';

let sessionWorks = false;
if (serverAcceptsResume()) {
  const server = new HeartlineServer(heartlineServerOptions('session', { port: 0 }));
  await once(server, 'listening');
  const witness = sessionWitness();
  const opened = new Promise((resolve) => {
    const client = openClient('heartline', `ws://127.0.0.1:${server.address().port}`, {
      mode: 'session',
      options: { logger: witness.logger, reconnect: false },
      onOpen: () => resolve(client),
      onError: () => {},
    });
    setTimeout(() => resolve(client), 3_000);
  });
  const client = await opened;
  sessionWorks = witness.sessions > 0;
  client.close();
  await server.close({ deadline: 100 });
}
tell({
  type: 'result',
  clientSession: clientAcceptsSession(),
  serverResume: serverAcceptsResume(),
  sessionWorks,
});
