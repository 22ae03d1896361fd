/** What every scenario receives and returns; the report and the JSON are built from these. */

export interface Capabilities {
  /** The client accepts `session: false` (plain mode can be forced). */
  readonly clientSession: boolean;
  /** The server accepts `resume` (it serves session mode). */
  readonly serverResume: boolean;
  /** A session-mode link came up: the server's hello reached the client. */
  readonly sessionWorks: boolean;
}

export interface Context {
  /** `--quick`: fewer runs, fewer connections, shorter windows, for development. */
  readonly quick: boolean;
  readonly caps: Capabilities;
  log(message: string): void;
}

/** Shown in a session-mode row until the lead's session mode is in the build. */
export const PENDING = 'pending (session mode not yet built)';

export interface Target {
  /** What is measured, e.g. "plain echo ≥ 0.95× raw ws". */
  readonly name: string;
  /** The figure, formatted. */
  readonly value: string;
  /** `null` while the row it needs is pending. */
  readonly met: boolean | null;
}

export interface Table {
  readonly title?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  /** One paragraph: how it was measured. */
  readonly method: string;
  readonly tables: readonly Table[];
  readonly notes: readonly string[];
  readonly targets: readonly Target[];
  /** Every measured number, for bench/results/latest.json. */
  readonly raw: unknown;
  durationMs?: number;
  /** Share of the CPUs busy with other work in the second before the scenario began. */
  busyBefore?: number;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(ctx: Context): Promise<ScenarioResult>;
}
