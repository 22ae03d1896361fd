/**
 * What a bundler resolves `heartline/server` to under the `browser` condition: the server
 * needs Node (`node:http`, `ws`), so importing it in a browser bundle fails at once with an
 * error that says what to import instead, rather than with a missing `node:http`.
 */
throw new Error(
  "heartline/server runs on Node.js only and cannot be bundled for the browser. In browser code import { HeartlineSocket } from 'heartline'.",
);

export {};
