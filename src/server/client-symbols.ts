/**
 * Symbol keys for what the server calls on a `ServerClient` and what its socket listeners call,
 * kept off the public surface (they are not exported from `heartline/server`).
 */
export const kDeliver = Symbol('heartline.deliver');
export const kEnd = Symbol('heartline.end');
export const kExpire = Symbol('heartline.expire');
export const kPing = Symbol('heartline.ping');
export const kClient = Symbol('heartline.client');
export const kOnMessage = Symbol('heartline.onMessage');
export const kOnPong = Symbol('heartline.onPong');
export const kOnPing = Symbol('heartline.onPing');
export const kOnError = Symbol('heartline.onError');
export const kOnClose = Symbol('heartline.onClose');
/** Session mode: attach a new link to the session, send the hello, replay. */
export const kResume = Symbol('heartline.resume');
/** Session mode: the resume window passed; the session ends. */
export const kExpireSession = Symbol('heartline.expireSession');
/** Session mode: send the batched cumulative ack. */
export const kFlushAck = Symbol('heartline.flushAck');
/** Session mode: the session's secret token and position, for the store. */
export const kSession = Symbol('heartline.session');
