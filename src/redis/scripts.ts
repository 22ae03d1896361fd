/**
 * The Lua scripts of `heartline/redis`. Every step that must be atomic is one script, and
 * every key of a cluster shares one hash tag (`hl:{<prefix>}:`), so that a script runs in one
 * slot on a standalone server, under Sentinel or in a Redis Cluster. Scripts run by `EVALSHA`,
 * and by `EVAL` when Redis answers `NOSCRIPT` (after a restart its script cache is empty).
 *
 * Keys (`P` = the prefix):
 * - `P meta` HASH: `e` epoch, `s` last offset, `t` last offset trimmed, `b` bytes kept, `a` last
 *   offset addressed to everyone;
 * - `P log` STREAM: one entry per reliable message, id `<offset>-0`, fields `a` audience,
 *   `b` the form byte (codec.ts: text, binary, or a request, reply or failure), `d` payload;
 * - `P s:<id>` HASH, a session: `k` SHA-256 of its token, `p` protocol, `q` last client number
 *   persisted, `o` owner node, `g` fencing generation, `c` offset it started at, `la` last offset
 *   addressed to it, `i` its identity (JSON, from `authenticate`);
 * - `P r:<id>` HASH, its rooms → the offset it joined at; `P l:<id>` LIST of rooms it left,
 *   `from|to|room`;
 * - `P rl:<room>` the last offset addressed to a room; `P x:<id>` a tombstone of an expired
 *   session; `P n:<node>` a node's liveness; `P w:<writer>` a writer's last batch (for retries).
 */
import { createHash } from 'node:crypto';
import type { CommandPort, RedisArg } from './port.js';

/** Shared Lua: the membership rule of a replay (engine.ts), for one session. */
const MEMBERSHIP = `
local function membership(sess, rooms, left)
  local m = { joined = {}, left = {}, since = tonumber(redis.call('HGET', sess, 'c')) or 0 }
  local flat = redis.call('HGETALL', rooms)
  for i = 1, #flat, 2 do m.joined[flat[i]] = tonumber(flat[i + 1]) end
  for _, l in ipairs(redis.call('LRANGE', left, 0, -1)) do
    local a, b, room = string.match(l, '^(%d+)|(%d+)|(.*)$')
    m.left[#m.left + 1] = { tonumber(a), tonumber(b), room }
  end
  return m
end
local function isFor(m, id, off, aud)
  local a = cjson.decode(aud)
  if a.c then return a.c == id end
  if a.x then for _, x in ipairs(a.x) do if x == id then return false end end end
  if not a.r then return off > m.since end
  for _, room in ipairs(a.r) do
    local j = m.joined[room]
    if j and off > j then return true end
    for _, l in ipairs(m.left) do
      if l[3] == room and off > l[1] and off <= l[2] then return true end
    end
  end
  return false
end
`;

/**
 * Appends one batch of reliable messages: offsets from one counter, one stream entry each,
 * the trim, and one feed message for the whole batch, all atomic. A retried batch (the reply
 * was lost) is recognised by its writer's sequence number and not appended twice.
 */
const APPEND = `
local meta, log, writer = KEYS[1], KEYS[2], KEYS[3]
local e = redis.call('HGET', meta, 'e')
if not e then
  -- The log has no history (a restart without persistence, an eviction): a new epoch.
  e = ARGV[2]
  redis.call('DEL', log)
  redis.call('HSET', meta, 'e', e, 's', 0, 't', 0, 'b', 0, 'a', 0)
end
if ARGV[1] ~= '' and e ~= ARGV[1] then return { 'EPOCH', e } end
if (tonumber(redis.call('HGET', meta, 's')) or 0) < tonumber(ARGV[9]) then
  -- The counter is below an offset a node has delivered: a failover lost an acknowledged tail.
  -- Offsets would be reused; a new epoch makes every session start afresh instead.
  e = ARGV[2]
  redis.call('DEL', log)
  redis.call('HSET', meta, 'e', e, 's', 0, 't', 0, 'b', 0, 'a', 0)
  return { 'EPOCH', e }
end
local seq = tonumber(ARGV[3])
local last = redis.call('GET', writer)
if last then
  local sp = string.find(last, ' ', 1, true)
  local lseq = tonumber(string.sub(last, 1, sp - 1))
  if seq == lseq then return { 'OK', tonumber(string.sub(last, sp + 1)), e } end
  if seq < lseq then return { 'STALE', e } end
end
local n = tonumber(ARGV[8])
local first = redis.call('HINCRBY', meta, 's', n) - n + 1
local bytes = tonumber(redis.call('HGET', meta, 'b')) or 0
local ttl = ARGV[6]
local parts = { e, '|', n, '|' }
local ai, ki = 10, 4
local lastAll = nil
for i = 0, n - 1 do
  local off = first + i
  local kind, aud, bin, data = ARGV[ai], ARGV[ai + 1], ARGV[ai + 2], ARGV[ai + 3]
  local nk = tonumber(ARGV[ai + 4])
  ai = ai + 5
  redis.call('XADD', log, off .. '-0', 'a', aud, 'b', bin, 'd', data)
  bytes = bytes + #data
  if kind == 'a' then lastAll = off end
  for _ = 1, nk do
    local key = KEYS[ki]
    ki = ki + 1
    if kind == 'c' then
      if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'la', off) end
    else
      redis.call('SET', key, off, 'PX', ttl)
    end
  end
  parts[#parts + 1] = off .. ':' .. #aud .. ':' .. aud .. bin .. #data .. ':' .. data
end
local maxn, maxb = tonumber(ARGV[4]), tonumber(ARGV[5])
local len = redis.call('XLEN', log)
local t = tonumber(redis.call('HGET', meta, 't')) or 0
local trimmed = t
while (len > maxn or bytes > maxb) and len > 1 do
  local batch = redis.call('XRANGE', log, '(' .. trimmed .. '-0', '+', 'COUNT', 64)
  if #batch == 0 then break end
  for _, item in ipairs(batch) do
    if not ((len > maxn or bytes > maxb) and len > 1) then break end
    local f = item[2]
    for j = 1, #f, 2 do if f[j] == 'd' then bytes = bytes - #f[j + 1] end end
    trimmed = tonumber(string.match(item[1], '^(%d+)'))
    len = len - 1
  end
end
if trimmed > t then redis.call('XTRIM', log, 'MINID', (trimmed + 1) .. '-0') end
redis.call('HSET', meta, 'b', bytes, 't', trimmed)
if lastAll then redis.call('HSET', meta, 'a', lastAll) end
redis.call('SET', writer, seq .. ' ' .. first, 'PX', 3600000)
redis.call('SPUBLISH', ARGV[7], table.concat(parts))
return { 'OK', first, e }
`;

/**
 * Reads the next page of a replay for one session: the entries after `after` that were for it
 * by membership at the time each was sent, or `GAP` when an entry it may need was trimmed.
 * Returns the offset scanned up to and the log's last offset, so the cursor knows when it is
 * caught up.
 */
const READ = `
${MEMBERSHIP}
local meta, log, sess = KEYS[1], KEYS[2], KEYS[3]
local e = redis.call('HGET', meta, 'e')
if e ~= ARGV[1] then return { 'EPOCH' } end
if redis.call('EXISTS', sess) == 0 then return { 'GONE' } end
local id, after, max, scan, prefix = ARGV[5], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[6]
local budget = tonumber(ARGV[7]) -- bytes per page: a page of big messages stays small
local m = membership(sess, KEYS[4], KEYS[5])
local t = tonumber(redis.call('HGET', meta, 't')) or 0
local s = tonumber(redis.call('HGET', meta, 's')) or 0
if after < t then
  -- Entries after the position are gone: a hole if any of them may have been for it.
  local function last(key) return tonumber(redis.call('GET', key)) or 0 end
  local hole = (tonumber(redis.call('HGET', sess, 'la')) or 0) > after
  if (tonumber(redis.call('HGET', meta, 'a')) or 0) > math.max(after, m.since) then hole = true end
  for room, j in pairs(m.joined) do
    if last(prefix .. 'rl:' .. room) > math.max(after, j) then hole = true end
  end
  for _, l in ipairs(m.left) do
    if l[2] > after and last(prefix .. 'rl:' .. l[3]) > math.max(after, l[1]) then hole = true end
  end
  if hole then return { 'GAP' } end
  after = t
end
local items = redis.call('XRANGE', log, '(' .. after .. '-0', '+', 'COUNT', scan)
local out = {}
local scanned = after
for _, item in ipairs(items) do
  local off = tonumber(string.match(item[1], '^(%d+)'))
  scanned = off
  local f = item[2]
  local aud, bin, data = f[2], f[4], f[6]
  if isFor(m, id, off, aud) then
    out[#out + 1] = off .. ':' .. #aud .. ':' .. aud .. bin .. #data .. ':' .. data
    budget = budget - #data
    if #out >= max or budget <= 0 then break end
  end
end
return { 'OK', scanned, s, table.concat(out) }
`;

/**
 * Claims a session for a resume: checks the epoch, the session, its token and the position,
 * then bumps its fencing generation and names the new owner. Answers the refusal reason, or
 * what the new owner needs: the last client number persisted, the protocol, the old owner,
 * the new generation, and the rooms.
 */
const CLAIM = `
local meta, sess, tomb, rooms = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local e = redis.call('HGET', meta, 'e')
if not e or e ~= ARGV[1] then return { 'NO', 'epoch' } end
if redis.call('EXISTS', sess) == 0 then
  if redis.call('EXISTS', tomb) == 1 then return { 'NO', 'expired' } end
  return { 'NO', 'unknown' }
end
local h = redis.call('HMGET', sess, 'k', 'q', 'p', 'o', 'c', 'i')
if h[1] ~= ARGV[2] then return { 'NO', 'token' } end
local previous = h[4] or ''
local alive = previous ~= '' and redis.call('EXISTS', ARGV[5] .. 'n:' .. previous) or 0
local offset = tonumber(ARGV[3])
local s = tonumber(redis.call('HGET', meta, 's')) or 0
if offset > s or offset < (tonumber(h[5]) or 0) then return { 'NO', 'unknown' } end
local g = redis.call('HINCRBY', sess, 'g', 1)
redis.call('HSET', sess, 'o', ARGV[4])
return { 'OK', tonumber(h[2]) or 0, h[3] or '', previous, g, redis.call('HGETALL', rooms), alive, h[6] or '' }
`;

/**
 * Records the last client number handled by each session this node owns, fenced by the
 * generation it owns it under: a node that lost a session cannot write over its new owner.
 */
const PERSIST = `
local out = {}
for i, key in ipairs(KEYS) do
  local g, seq = ARGV[2 * i], tonumber(ARGV[2 * i + 1])
  local h = redis.call('HMGET', key, 'g', 'o', 'q')
  if h[1] == g and h[2] == ARGV[1] then
    if (tonumber(h[3]) or 0) < seq then redis.call('HSET', key, 'q', seq) end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`;

/**
 * A node that shuts down lets go of a session: its last handled number is recorded and its
 * owner cleared (fenced), so that the next node resumes it at once, without asking.
 */
const RELEASE = `
local h = redis.call('HMGET', KEYS[1], 'g', 'o', 'q')
if h[1] ~= ARGV[2] or h[2] ~= ARGV[1] then return 0 end
if (tonumber(h[3]) or 0) < tonumber(ARGV[3]) then redis.call('HSET', KEYS[1], 'q', ARGV[3]) end
redis.call('HSET', KEYS[1], 'o', '')
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[4]) end
return 1
`;

/**
 * A session ends for good (closed, or its window passed): its keys go, fenced by owner and
 * generation, so that a node that lost it to another cannot end it there. KEYS: the session's
 * keys, then its tombstone; ARGV: node, generation, the tombstone's life in ms (0: none).
 */
const END = `
local h = redis.call('HMGET', KEYS[1], 'g', 'o')
if h[1] ~= ARGV[2] or h[2] ~= ARGV[1] then return 0 end
for i = 1, #KEYS - 1 do redis.call('DEL', KEYS[i]) end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[#KEYS], '1', 'PX', ARGV[3]) end
return 1
`;

/** Keeps keys alive (an owner's sessions, refreshed in batches). */
const TOUCH = `
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[1]) end
return #KEYS
`;

export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  append: script('append', APPEND),
  read: script('read', READ),
  claim: script('claim', CLAIM),
  persist: script('persist', PERSIST),
  release: script('release', RELEASE),
  end: script('end', END),
  touch: script('touch', TOUCH),
} as const;

/**
 * Runs a script by its SHA, loading it with `EVAL` when Redis does not know it.
 *
 * @example
 * const reply = await run(port, SCRIPTS.touch, [key], ['60000']);
 */
export async function run(
  port: CommandPort,
  s: Script,
  keys: readonly RedisArg[],
  args: readonly RedisArg[],
): Promise<unknown> {
  try {
    return await port.call(['EVALSHA', s.sha, String(keys.length), ...keys, ...args]);
  } catch (error) {
    if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
    return port.call(['EVAL', s.source, String(keys.length), ...keys, ...args]);
  }
}

/** The hash of a resume token as sessions store it: the token itself never reaches Redis. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A reply element as text (bulk strings arrive as Buffers). */
export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** A reply element as a number. */
export function count(value: unknown): number {
  return typeof value === 'number' ? value : Number(text(value));
}
