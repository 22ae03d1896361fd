/**
 * What a bundler resolves `heartline/redis` to under the `browser` condition: the Redis engine
 * runs on Node.js inside a server, so importing it in a browser bundle fails at once with an
 * error that says so.
 */
throw new Error(
  "heartline/redis runs on Node.js only, inside a HeartlineServer. In browser code import { HeartlineSocket } from 'heartline'.",
);

export {};
