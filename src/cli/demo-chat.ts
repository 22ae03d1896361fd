import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { HeartlineServer, ServerClient } from '../server/index.js';
import type { ChatStore, StoredMember } from './chat-store.js';

/**
 * The chat room behind `heartline demo`: a small JSON protocol over Heartline sessions.
 *
 * Client → server:
 * - `{ type: 'join', name }`: take a name (again, after a fresh session);
 * - `{ type: 'say', id, text }`: a message; `id` is made by the client and unique.
 *
 * Server → client:
 * - `{ type: 'history', messages }`: to a new session, the last `history` messages;
 * - `{ type: 'received', id }`: to the sender, as soon as the room has a `say`, before its
 *   copy goes to the room (the page's "sent", one tick);
 * - `{ type: 'said', id, from, text, at, seq, run }`: to the whole room, the sender
 *   included, so every page shows the server's one order (`seq` counts up within one `run`,
 *   a random id per server process: a restarted server starts counting again);
 * - `{ type: 'members', names, away }`: to the whole room, when someone joins, leaves, loses
 *   the link or comes back; `away` lists the names whose link is down;
 * - `{ type: 'error', reason }`: to the sender of input that was ignored.
 *
 * Membership follows the session, not the link: a session whose link drops is shown as away
 * (`drop`) until it resumes (`resume`); it leaves on `close`, when the session ends.
 */

/** Bounds of the chat protocol, in characters (code points). */
export const CHAT_LIMITS = {
  name: 24,
  text: 500,
  id: 64,
  /** Messages kept for new sessions. */
  history: 50,
  /** `say` messages held for a session that has not joined yet (see `ChatRoom`). */
  waiting: 50,
  /** Message ids remembered to refuse a repeated one. */
  recentIds: 1_000,
} as const;

/** The one room of the demo. */
export const CHAT_ROOM = 'chat';

export interface ChatMessage {
  readonly type: 'said';
  readonly id: string;
  readonly from: string;
  readonly text: string;
  /** When the server received it (`Date.now()`). */
  readonly at: number;
  /** The server's order within `run`, from 1. */
  readonly seq: number;
  /** Which server process numbered it. */
  readonly run: string;
}

export type ChatInput = { type: 'join'; name: string } | { type: 'say'; id: string; text: string };

/** Input the room ignores, with why. */
export class ChatInputError extends Error {
  override readonly name = 'ChatInputError';
}

const length = (text: string) => [...text].length;
/** C0 and C1 controls, and the bidi overrides and isolates that can disguise a name. */
function hasControl(text: string): boolean {
  for (const c of text) {
    const n = c.codePointAt(0)!;
    if (n < 0x20 || (n >= 0x7f && n <= 0x9f) || (n >= 0x202a && n <= 0x202e)) return true;
    if (n >= 0x2066 && n <= 0x2069) return true;
  }
  return false;
}
const ID = /^[A-Za-z0-9_-]+$/;

/** A display name: trimmed, inner whitespace collapsed, 1–24 characters, no control characters. */
export function parseName(value: unknown): string {
  if (typeof value !== 'string') throw new ChatInputError('Expected `name` to be a string');
  const name = value.trim().replace(/\s+/g, ' ');
  if (name === '') throw new ChatInputError('Expected `name` to be non-empty');
  if (length(name) > CHAT_LIMITS.name)
    throw new ChatInputError(`Expected \`name\` to have at most ${CHAT_LIMITS.name} characters`);
  if (hasControl(name)) throw new ChatInputError('Expected `name` to have no control characters');
  return name;
}

/**
 * One message of a client, validated: the one parser of the chat protocol. Throws a
 * `ChatInputError` that says what was wrong.
 *
 * @example parseChatInput('{"type":"join","name":"Ada"}') // { type: 'join', name: 'Ada' }
 */
export function parseChatInput(data: string | Buffer): ChatInput {
  if (typeof data !== 'string') throw new ChatInputError('Expected a text message, got binary');
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    throw new ChatInputError('Expected JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ChatInputError('Expected a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.type === 'join') return { type: 'join', name: parseName(m.name) };
  if (m.type === 'say') {
    const { id, text } = m;
    if (typeof id !== 'string' || !ID.test(id) || id.length > CHAT_LIMITS.id)
      throw new ChatInputError(
        `Expected \`id\` to be 1–${CHAT_LIMITS.id} letters, digits, '-' or '_'`,
      );
    if (typeof text !== 'string') throw new ChatInputError('Expected `text` to be a string');
    if (text.trim() === '') throw new ChatInputError('Expected `text` to be non-empty');
    if (length(text) > CHAT_LIMITS.text)
      throw new ChatInputError(`Expected \`text\` to have at most ${CHAT_LIMITS.text} characters`);
    return { type: 'say', id, text };
  }
  throw new ChatInputError(
    `Expected \`type\` to be 'join' or 'say', got ${JSON.stringify(m.type) ?? 'nothing'}`,
  );
}

/** What the room tells its host, for the log. */
export interface ChatRoomEvents {
  /** A session joined (or changed its name). */
  join: [client: ServerClient, name: string];
  /** A joined session ended. */
  leave: [client: ServerClient, name: string];
  said: [message: ChatMessage];
  /** Input was ignored; the client was sent `{ type: 'error', reason }`. */
  invalid: [client: ServerClient, error: ChatInputError];
}

interface Member {
  name: string | undefined;
  /** When it took its name (ms): the order of the names. */
  since: number;
  /** The session's link is down (between `drop` and `resume`). */
  away: boolean;
  /** `say`s that came before `join`: see the class comment. */
  waiting: { id: string; text: string }[];
}

/**
 * The demo's chat room on a `HeartlineServer`: validates input, numbers messages, keeps the
 * last `CHAT_LIMITS.history` of them in memory, and tracks members by session.
 *
 * A session joins the room's broadcasts as soon as it connects, so nothing said between its
 * history and its `join` is missed. `say`s that arrive before `join` are held (bounded) and
 * said once it comes: a page whose server restarted resends what was never acknowledged as
 * soon as its fresh session opens, before its app can send `join` again.
 */
export class ChatRoom extends EventEmitter<ChatRoomEvents> {
  /** This process's id for `ChatMessage.run` (the room's, with a shared store). */
  run: string = randomBytes(6).toString('base64url');
  readonly #server: HeartlineServer;
  readonly #history: ChatMessage[] = [];
  readonly #members = new Map<ServerClient, Member>();
  readonly #recentIds = new Set<string>();
  #seq = 0;
  /** With several servers in one room: where they share numbering, history and members. */
  readonly #shared: ChatStore | undefined;
  /** Every member of the room, as last read from the shared store. */
  #everyone: StoredMember[] = [];

  /** Resolves when the room can take messages (with a shared store: its numbering is read). */
  readonly ready: Promise<void>;

  constructor(server: HeartlineServer, shared?: ChatStore) {
    super();
    this.#server = server;
    this.#shared = shared;
    this.ready = shared
      ? shared.run().then((run) => {
          this.run = run;
        })
      : Promise.resolve();
    if (shared) {
      // Members of a server that died fade out: those alive are written again now and then.
      const refresh = setInterval(() => {
        for (const [client, member] of this.#members) this.#store(client, member);
      }, 30_000);
      refresh.unref();
      server.once('close', () => clearInterval(refresh));
    }
    server.on('connection', (client) => this.#connected(client));
  }

  /** The names of the members, each once, in the order they joined. */
  names(): string[] {
    return [...new Set(this.#all().map((m) => m.name))];
  }

  /** The names whose every session is away (its link is down, waiting for a resume). */
  away(): string[] {
    const here = new Set<string>();
    const away = new Set<string>();
    for (const member of this.#all()) {
      if (member.away) away.add(member.name);
      else here.add(member.name);
    }
    return [...away].filter((name) => !here.has(name));
  }

  /** Every member with a name, here and (with a shared store) on the other servers, in join order. */
  #all(): StoredMember[] {
    const here = [...this.#members.entries()].flatMap(([client, m]) =>
      m.name === undefined ? [] : [{ id: client.id, name: m.name, away: m.away, since: m.since }],
    );
    const ids = new Set(here.map((m) => m.id));
    const others = this.#everyone.filter((m) => !ids.has(m.id));
    return [...here, ...others].sort((a, b) => a.since - b.since);
  }

  /** Writes one local member to the shared store. */
  #store(client: ServerClient, member: Member): void {
    if (!this.#shared || member.name === undefined) return;
    const stored = { id: client.id, name: member.name, away: member.away, since: member.since };
    void this.#shared.setMember(client.id, stored).catch(() => {});
  }

  /** The messages kept for new sessions, oldest first. */
  history(): readonly ChatMessage[] {
    return this.#history;
  }

  #connected(client: ServerClient): void {
    const member: Member = { name: undefined, since: 0, away: false, waiting: [] };
    this.#members.set(client, member);
    client.join(CHAT_ROOM);
    if (client.resumed) {
      // Resumed here from another server of the room: it has its history, and its name.
      const known = this.#everyone.find((m) => m.id === client.id);
      void this.#shared
        ?.members()
        .then((all) => all.find((m) => m.id === client.id) ?? known)
        .then((stored) => {
          if (!stored || member.name !== undefined) return;
          Object.assign(member, { name: stored.name, since: stored.since, away: false });
          this.#store(client, member);
          this.#sendMembers();
        });
    } else if (this.#shared) {
      void this.#shared
        .history()
        .then((messages) => client.send(JSON.stringify({ type: 'history', messages })));
    } else client.send(JSON.stringify({ type: 'history', messages: this.#history }));
    client.on('message', (data) => {
      let input: ChatInput;
      try {
        input = parseChatInput(data);
      } catch (error) {
        if (!(error instanceof ChatInputError)) throw error;
        client.send(JSON.stringify({ type: 'error', reason: error.message }));
        this.emit('invalid', client, error);
        return;
      }
      if (input.type === 'join') this.#join(client, member, input.name);
      else if (member.name === undefined) {
        if (member.waiting.length < CHAT_LIMITS.waiting) member.waiting.push(input);
        else this.#refuse(client, `Expected 'join' before more than ${CHAT_LIMITS.waiting} 'say'`);
      } else this.#say(client, member.name, input.id, input.text);
    });
    // The others see who is cut off: the link dropped, and the session waits for a resume.
    client.on('drop', () => this.#setAway(member, true));
    client.on('resume', () => this.#setAway(member, false));
    client.on('close', (code) => {
      this.#members.delete(client);
      if (member.name === undefined) return;
      // A session that moved to another server of the room (4000), or is handed over at
      // shutdown, is still a member there.
      const gone = code !== 4000 && this.#server.state === 'running';
      if (this.#shared && gone) void this.#shared.removeMember(client.id).catch(() => {});
      this.emit('leave', client, member.name);
      // At shutdown every session closes; nobody is left to tell.
      if (this.#server.state === 'running') this.#sendMembers();
    });
  }

  #setAway(member: Member, away: boolean): void {
    if (member.away === away) return;
    member.away = away;
    if (member.name === undefined || this.#server.state !== 'running') return;
    for (const [client, m] of this.#members) if (m === member) this.#store(client, member);
    this.#sendMembers();
  }

  #join(client: ServerClient, member: Member, name: string): void {
    if (member.name === undefined) {
      // The map's order is the order of joining (`names()`), not of connecting.
      this.#members.delete(client);
      this.#members.set(client, member);
    }
    if (member.name === undefined) member.since = Date.now();
    member.name = name;
    this.#store(client, member);
    this.emit('join', client, name);
    this.#sendMembers();
    for (const say of member.waiting.splice(0)) this.#say(client, name, say.id, say.text);
  }

  #say(client: ServerClient, from: string, id: string, text: string): void {
    if (this.#recentIds.has(id)) {
      this.#refuse(client, `Message id ${id} was already used`);
      return;
    }
    this.#recentIds.add(id);
    if (this.#recentIds.size > CHAT_LIMITS.recentIds) {
      this.#recentIds.delete(this.#recentIds.values().next().value as string);
    }
    // The sender learns that the room has it before the room's copy goes out: "sent", then
    // "delivered". The session's own ack comes later (acks are batched per event-loop turn).
    const post = (seq: number) => {
      const message: ChatMessage = {
        type: 'said',
        id,
        from,
        text,
        at: Date.now(),
        seq,
        run: this.run,
      };
      this.#history.push(message);
      if (this.#history.length > CHAT_LIMITS.history) this.#history.shift();
      client.send(JSON.stringify({ type: 'received', id }));
      this.#server.to(CHAT_ROOM).send(JSON.stringify(message));
      void this.#shared?.remember(message).catch(() => {});
      this.emit('said', message);
    };
    // Several servers number the room's messages in one sequence (the shared store's).
    if (this.#shared)
      void this.#shared.next().then(post, () => this.#refuse(client, 'The room is unavailable'));
    else post(++this.#seq);
  }

  #refuse(client: ServerClient, reason: string): void {
    const error = new ChatInputError(reason);
    client.send(JSON.stringify({ type: 'error', reason }));
    this.emit('invalid', client, error);
  }

  #sendMembers(): void {
    const send = () => {
      this.#server
        .to(CHAT_ROOM)
        .send(JSON.stringify({ type: 'members', names: this.names(), away: this.away() }));
    };
    if (!this.#shared) {
      send();
      return;
    }
    void this.#shared.members().then(
      (all) => {
        this.#everyone = all;
        if (this.#server.state === 'running') send();
      },
      () => {},
    );
  }
}
