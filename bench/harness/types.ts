/** What every scenario receives and returns; the report and the JSON are built from these. */

export interface Context {
  /** `--quick`: fewer rounds, fewer connections, shorter windows, for development. */
  readonly quick: boolean;
  log(message: string): void;
}

export interface Target {
  /** The issue that set it: the report lists issue 13's goals first, then the older ones. */
  readonly issue: number;
  /** What is measured, e.g. "plain echo ≥ 3.5× raw ws msgs/s". */
  readonly name: string;
  /** The figure, formatted, with what it is compared to. */
  readonly value: string;
  /** A row that failed to run misses its target. */
  readonly met: boolean;
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
