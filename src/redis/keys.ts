/**
 * The names of everything `heartline/redis` keeps in Redis (scripts.ts describes each). They
 * share one hash tag, `{<prefix>}`, so that every script runs in one slot, in a Redis Cluster
 * too, and two apps with different prefixes on one Redis never see each other.
 */
export class Keys {
  /** `hl:{<prefix>}:`, the start of every key and channel. */
  readonly base: string;
  readonly meta: string;
  readonly log: string;
  /** The sharded channel every reliable batch is published on. */
  readonly feed: string;
  /** The sharded channel of volatile messages (never stored). */
  readonly volatile: string;

  constructor(prefix: string) {
    this.base = `hl:{${prefix}}:`;
    this.meta = `${this.base}meta`;
    this.log = `${this.base}log`;
    this.feed = `${this.base}feed`;
    this.volatile = `${this.base}vol`;
  }

  session(id: string): string {
    return `${this.base}s:${id}`;
  }
  rooms(id: string): string {
    return `${this.base}r:${id}`;
  }
  left(id: string): string {
    return `${this.base}l:${id}`;
  }
  tombstone(id: string): string {
    return `${this.base}x:${id}`;
  }
  roomLast(room: string): string {
    return `${this.base}rl:${room}`;
  }
  node(id: string): string {
    return `${this.base}n:${id}`;
  }
  /** A node's control channel: takeover requests, their answers, and feed probes. */
  control(id: string): string {
    return `${this.base}ctl:${id}`;
  }
  writer(id: string): string {
    return `${this.base}w:${id}`;
  }
}
