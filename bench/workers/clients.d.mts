/** Types of clients.mjs, for the TypeScript workers that run under tsx. */
export interface BenchClient {
  readonly raw: unknown;
  send(text: string): void;
  close(): void;
}

export interface ClientHooks {
  mode?: 'plain' | 'session' | undefined;
  cork?: boolean | undefined;
  options?: object;
  onOpen?: () => void;
  onMessage?: (text: string) => void;
  onDrop?: (why: string) => void;
  onError?: () => void;
}

export function openClient(kind: string, url: string, hooks?: ClientHooks): BenchClient;
