/**
 * A small Prometheus registry: counters, gauges and histograms with fixed buckets, written in
 * the text exposition format 0.0.4. Gatehouse needs nothing more, so no client library: each
 * series is a Map entry found by its label values, which keeps the per-request cost to one
 * lookup and a few additions.
 */

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Kind = 'counter' | 'gauge' | 'histogram';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export abstract class Family<L extends string, S> {
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {
    // Names are the code's, never a client's: a bad one is a bug, caught at start.
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new Error(`invalid label name ${label} on ${name}`);
    }
  }

  abstract readonly kind: Kind;
  protected abstract initial(): S;
  protected abstract lines(name: string, labels: string, state: S, values: string[]): string[];

  /** The series of these label values, made on first use. */
  protected state(labels: Readonly<Record<L, string>>): S {
    const values = this.labelNames.map((name) => labels[name]);
    // \u0000 cannot come from our code's label values, so keys of distinct series never collide.
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      entry = { values, state: this.initial() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`];
    for (const { values, state } of this.series.values()) out.push(...this.lines(this.name, labelText(this.labelNames, values), state, values));
    return out.join('\n');
  }
}

export class Counter<L extends string = never> extends Family<L, { value: number }> {
  readonly kind = 'counter';

  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, labelNames);
    // Without labels there is one series: it exists (at 0) from the start.
    if (labelNames.length === 0) this.state({} as Record<L, string>);
  }
  protected initial() {
    return { value: 0 };
  }
  protected lines(name: string, labels: string, state: { value: number }) {
    return [`${name}${labels} ${formatNumber(state.value)}`];
  }

  /**
   * The series of these label values (made at 0 if new, so a rate over it reads 0 rather than
   * nothing before its first event); hold on to it where the labels repeat on a hot path.
   */
  labels(labels: Readonly<Record<L, string>>): { inc(by?: number): void } {
    const state = this.state(labels);
    const name = this.name;
    return {
      inc(by = 1) {
        if (!(by >= 0)) throw new Error(`a counter only goes up; ${name} was given ${by}`);
        state.value += by;
      },
    };
  }

  inc(labels: Readonly<Record<L, string>>, by = 1): void {
    this.labels(labels).inc(by);
  }
}

export class Gauge<L extends string = never> extends Family<L, { value: number }> {
  readonly kind = 'gauge';
  protected initial() {
    return { value: 0 };
  }
  protected lines(name: string, labels: string, state: { value: number }) {
    return [`${name}${labels} ${formatNumber(state.value)}`];
  }

  set(labels: Readonly<Record<L, string>>, value: number): void {
    this.state(labels).value = value;
  }
}

interface HistogramState {
  /** Observations per bucket (not cumulative; summed when written). */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Family<L, HistogramState> {
  readonly kind = 'histogram';
  private readonly bounds: readonly number[];
  private readonly boundLabels: readonly string[];

  constructor(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`${name}: buckets must be finite and increasing`);
    }
    this.bounds = buckets;
    this.boundLabels = [...buckets.map(formatNumber), '+Inf'];
    if (labelNames.length === 0) this.state({} as Record<L, string>);
  }

  protected initial(): HistogramState {
    return { counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected lines(name: string, labels: string, state: HistogramState, values: string[]) {
    const out: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.boundLabels.length; i++) {
      cumulative += state.counts[i]!;
      const withLe = labelText([...this.labelNames, 'le'], [...values, this.boundLabels[i]!]);
      out.push(`${name}_bucket${withLe} ${cumulative}`);
    }
    out.push(`${name}_sum${labels} ${formatNumber(state.sum)}`, `${name}_count${labels} ${state.count}`);
    return out;
  }

  /** The series of these label values; hold on to it where the labels repeat on a hot path. */
  labels(labels: Readonly<Record<L, string>>): { observe(value: number): void } {
    const state = this.state(labels);
    const bounds = this.bounds;
    return {
      observe(value) {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        state.counts[i]!++;
        state.sum += value;
        state.count++;
      },
    };
  }

  observe(labels: Readonly<Record<L, string>>, value: number): void {
    this.labels(labels).observe(value);
  }
}

export type AnyFamily = Family<string, unknown>;

/** The metric families of one process, written in the order they were registered. */
export class Registry {
  private readonly families: AnyFamily[] = [];
  private readonly collectors: Array<() => void> = [];

  register<F extends AnyFamily>(family: F): F {
    if (this.families.some((f) => f.name === family.name)) throw new Error(`metric ${family.name} registered twice`);
    this.families.push(family);
    return family;
  }

  /** `collect` runs before each exposition: where gauges read the state they report. */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  render(): string {
    for (const collect of this.collectors) collect();
    return `${this.families.map((f) => f.render()).join('\n')}\n`;
  }
}

function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  return `{${names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? '')}"`).join(',')}}`;
}

/** The exposition format's escapes for a label value: backslash, double quote, line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
