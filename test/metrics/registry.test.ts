import { describe, expect, it } from 'vitest';
import { Counter, escapeLabelValue, Gauge, Histogram, Registry } from '../../src/metrics/registry.js';
import { parseExposition, metricValue } from './exposition.js';

describe('the metrics registry', () => {
  it('writes counters, gauges and histograms in the text format, each family with HELP and TYPE', () => {
    const registry = new Registry();
    const requests = registry.register(new Counter('demo_requests_total', 'Requests.', ['route', 'status']));
    const temperature = registry.register(new Gauge('demo_temperature_celsius', 'Temperature.', []));
    const latency = registry.register(new Histogram('demo_latency_seconds', 'Latency.', ['route'], [0.1, 1]));
    requests.inc({ route: '/a', status: '200' });
    requests.inc({ route: '/a', status: '200' }, 2);
    temperature.set({}, -1.5);
    latency.observe({ route: '/a' }, 0.05);
    latency.observe({ route: '/a' }, 0.1); // on the bound: counts in that bucket (le is "less or equal")
    latency.observe({ route: '/a' }, 3);

    const text = registry.render();
    expect(text).toBe(
      [
        '# HELP demo_requests_total Requests.',
        '# TYPE demo_requests_total counter',
        'demo_requests_total{route="/a",status="200"} 3',
        '# HELP demo_temperature_celsius Temperature.',
        '# TYPE demo_temperature_celsius gauge',
        'demo_temperature_celsius -1.5',
        '# HELP demo_latency_seconds Latency.',
        '# TYPE demo_latency_seconds histogram',
        'demo_latency_seconds_bucket{route="/a",le="0.1"} 2',
        'demo_latency_seconds_bucket{route="/a",le="1"} 2',
        'demo_latency_seconds_bucket{route="/a",le="+Inf"} 3',
        'demo_latency_seconds_sum{route="/a"} 3.15',
        'demo_latency_seconds_count{route="/a"} 3',
        '',
      ].join('\n'),
    );
    expect(metricValue(parseExposition(text), 'demo_latency_seconds_count', { route: '/a' })).toBe(3);
  });

  it('escapes backslashes, double quotes and line feeds in label values, and reads back the same value', () => {
    const registry = new Registry();
    const odd = 'a\\b "quoted"\nsecond line';
    registry.register(new Counter('demo_total', 'Help with a \\ and a\nline feed.', ['value'])).inc({ value: odd });
    const text = registry.render();
    expect(text).toContain('demo_total{value="a\\\\b \\"quoted\\"\\nsecond line"} 1');
    expect(text).toContain('# HELP demo_total Help with a \\\\ and a\\nline feed.');
    expect(text.split('\n')).toHaveLength(4); // HELP, TYPE, the sample and the final line feed: none leaked unescaped
    expect(metricValue(parseExposition(text), 'demo_total', { value: odd })).toBe(1);
    expect(escapeLabelValue('plain')).toBe('plain');
  });

  it('keeps one series per distinct set of label values, made at 0 when first named', () => {
    const registry = new Registry();
    const outcomes = registry.register(new Counter('demo_outcomes_total', 'Outcomes.', ['outcome']));
    outcomes.labels({ outcome: 'failure' });
    const success = outcomes.labels({ outcome: 'success' });
    success.inc();
    success.inc();
    const parsed = parseExposition(registry.render());
    expect(metricValue(parsed, 'demo_outcomes_total', { outcome: 'failure' })).toBe(0);
    expect(metricValue(parsed, 'demo_outcomes_total', { outcome: 'success' })).toBe(2);
  });

  it('writes special values as the format spells them', () => {
    const registry = new Registry();
    const gauge = registry.register(new Gauge('demo_value', 'Value.', ['kind']));
    gauge.set({ kind: 'inf' }, Infinity);
    gauge.set({ kind: 'nan' }, NaN);
    const text = registry.render();
    expect(text).toContain('demo_value{kind="inf"} +Inf');
    expect(text).toContain('demo_value{kind="nan"} NaN');
    parseExposition(text);
  });

  it('runs its collectors before each exposition, so gauges report the state of the moment', () => {
    const registry = new Registry();
    const gauge = registry.register(new Gauge('demo_now', 'Now.', []));
    let reading = 1;
    registry.onCollect(() => gauge.set({}, reading));
    expect(metricValue(parseExposition(registry.render()), 'demo_now')).toBe(1);
    reading = 2;
    expect(metricValue(parseExposition(registry.render()), 'demo_now')).toBe(2);
  });

  it('refuses what would make an invalid exposition: bad names, a reserved label, unordered buckets, a falling counter, a family twice', () => {
    expect(() => new Counter('demo-total', 'x', [])).toThrow(/metric name/);
    expect(() => new Counter('demo_total', 'x', ['le'])).toThrow(/label name/);
    expect(() => new Counter('demo_total', 'x', ['__reserved'])).toThrow(/label name/);
    expect(() => new Histogram('demo_seconds', 'x', [], [1, 0.5])).toThrow(/increasing/);
    expect(() => new Counter('demo_total', 'x', []).inc({}, -1)).toThrow(/only goes up/);
    const registry = new Registry();
    registry.register(new Gauge('demo', 'x', []));
    expect(() => registry.register(new Gauge('demo', 'x', []))).toThrow(/twice/);
  });
});
