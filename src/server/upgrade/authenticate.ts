import type { IncomingMessage } from 'node:http';
import { CallbackError } from '../../common/errors.js';
import { invalid } from '../../common/validate.js';
import type { UpgradeRejection } from './upgrade-gate.js';

/**
 * An HTTP refusal of an upgrade by `authenticate`: a status from 400 to 599 and a reason sent
 * as its body (and headers such as `WWW-Authenticate` or `Retry-After`).
 */
export interface AuthRefusal {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Decides who an upgrade request is, before the WebSocket is accepted: return the identity
 * (any JSON value but `false`, `null` and `undefined`: a user id, a claims object), `false`
 * to refuse with 401, or `{ status, reason }` to refuse with another status. May be async.
 * It runs for every link, so also before each resume, on whichever server the client
 * reaches; a resume whose identity differs from its session's is refused.
 *
 * An object with a numeric `status` is taken as a refusal, never as an identity.
 *
 * @example
 * authenticate: async (request) => {
 *   const token = new URL(request.url!, 'http://x').searchParams.get('token');
 *   const user = token && (await verifyToken(token));
 *   return user ? { userId: user.id } : false;
 * }
 */
export type Authenticate<Identity = unknown> = (
  request: IncomingMessage,
) => Identity | false | AuthRefusal | PromiseLike<Identity | false | AuthRefusal>;

/** What `authenticate` decided: an identity, or the refusal to answer with. */
export type AuthVerdict = { readonly ok: true; readonly identity: unknown } | UpgradeRejection;

/** Validates the `authenticate` option: a function, or absent. */
export function resolveAuthenticate(value: unknown): Authenticate | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') invalid('authenticate', 'a function', value);
  return value as Authenticate;
}

function isRefusal(value: unknown): value is AuthRefusal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number'
  );
}

const INTERNAL: UpgradeRejection = { ok: false, status: 500, message: 'Internal Server Error' };

/**
 * Runs `authenticate` for one request and turns what it says into a verdict. What the app
 * returned by mistake (`undefined`, a status outside 400–599, an identity that is not JSON) or
 * threw is reported through `report` and answered with 500, so that a bug shows at once rather
 * than letting everyone in.
 *
 * @example
 * const verdict = await authenticateUpgrade(options.authenticate, request, report);
 * if (!verdict.ok) return rejectUpgrade(socket, verdict);
 */
export async function authenticateUpgrade(
  authenticate: Authenticate,
  request: IncomingMessage,
  report: (error: Error) => void,
): Promise<AuthVerdict> {
  let value: unknown;
  try {
    value = await authenticate(request);
  } catch (error) {
    report(new CallbackError('The `authenticate` function threw', error));
    return INTERNAL;
  }
  if (value === false) return { ok: false, status: 401, message: 'Unauthorized' };
  if (isRefusal(value)) {
    const { status, reason, headers } = value;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      report(
        new TypeError(
          `\`authenticate\` refused with status ${status}; a refusal needs a status from 400 to 599`,
        ),
      );
      return INTERNAL;
    }
    return {
      ok: false,
      status,
      message: typeof reason === 'string' ? reason : 'Refused',
      ...(headers ? { headers } : {}),
    };
  }
  if (value === undefined || value === null) {
    report(
      new TypeError(
        `\`authenticate\` returned ${value}: return the identity, \`false\` (401) or { status, reason }`,
      ),
    );
    return INTERNAL;
  }
  try {
    canonical(value);
  } catch (error) {
    report(
      new TypeError(
        `\`authenticate\` returned an identity that is not JSON (${(error as Error).message}): it is stored with the session and compared on every resume`,
      ),
    );
    return INTERNAL;
  }
  return { ok: true, identity: value };
}

/** JSON with object keys sorted, so that equal identities have equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') throw new TypeError('a BigInt');
    if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError(`a ${typeof v}`);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * Whether a resuming link's identity is its session's: equal as JSON, key order aside. Both
 * absent (no `authenticate`) is equal too.
 *
 * @example
 * sameIdentity({ user: 'a', role: 'x' }, { role: 'x', user: 'a' }) // true
 */
export function sameIdentity(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical(a) === canonical(b);
}
