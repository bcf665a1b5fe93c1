/**
 * A strict reader of Prometheus's text exposition format 0.0.4, for tests: it throws on any
 * line a Prometheus server would refuse (or that breaks the format's rules for histograms), and
 * returns every sample by name and labels.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|[-+]?Inf|NaN)';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${LABEL_VALUE})(?:,${LABEL}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`);
const PAIR = new RegExp(`(${LABEL})=(${LABEL_VALUE})`, 'g');
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment as unknown as [string, string, string, string];
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`bad metric name, ${where}`);
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`unknown type, ${where}`);
        if (types.has(name)) throw new Error(`second TYPE for ${name}, ${where}`);
        if (samples.some((s) => familyOf(s.name, types) === name)) throw new Error(`TYPE after samples of ${name}, ${where}`);
        types.set(name, rest);
      } else {
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`bad escape in HELP, ${where}`);
        help.set(name, rest);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample, ${where}`);
    const [, name, labelText = '', raw] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const [, label, quoted] of labelText.matchAll(PAIR)) {
      if (label! in labels) throw new Error(`label ${label} twice, ${where}`);
      labels[label!] = unescaped(quoted!.slice(1, -1));
    }
    samples.push({ name, labels, value: Number(raw.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity')) });
  }
  checkHistograms(types, samples);
  return { types, help, samples };
}

function unescaped(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function familyOf(sampleName: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = sampleName.slice(0, -suffix.length);
    if (sampleName.endsWith(suffix) && types.get(base) === 'histogram') return base;
  }
  return sampleName;
}

/** Buckets grow with `le`, never shrink, and the +Inf bucket equals `_count`, per series. */
function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [name, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const sample of samples.filter((s) => s.name === `${name}_bucket`)) {
      const { le, ...rest } = sample.labels;
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), sample]);
    }
    for (const [key, buckets] of series) {
      const les = buckets.map((b) => Number(b.labels.le === '+Inf' ? Infinity : b.labels.le));
      if (les.some((le, i) => i > 0 && le <= les[i - 1]!)) throw new Error(`${name} ${key}: buckets out of order`);
      if (les.at(-1) !== Infinity) throw new Error(`${name} ${key}: no +Inf bucket`);
      if (buckets.some((b, i) => i > 0 && b.value < buckets[i - 1]!.value)) throw new Error(`${name} ${key}: buckets not cumulative`);
      const count = samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key);
      if (count?.value !== buckets.at(-1)!.value) throw new Error(`${name} ${key}: +Inf bucket is not _count`);
      if (!samples.some((s) => s.name === `${name}_sum` && JSON.stringify(s.labels) === key)) throw new Error(`${name} ${key}: no _sum`);
    }
  }
}

/** The value of the one sample with this name and exactly these labels; undefined when there is none. */
export function metricValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = exposition.samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${want}`);
  return found[0]?.value;
}
