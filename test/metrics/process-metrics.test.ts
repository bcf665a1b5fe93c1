import { afterEach, describe, expect, it } from 'vitest';
import { registerProcessMetrics } from '../../src/metrics/process-metrics.js';
import { Registry } from '../../src/metrics/registry.js';
import { parseExposition, metricValue, type Exposition } from './exposition.js';

/**
 * prom-client 15's `collectDefaultMetrics`, from its lib/metrics/*.js: name → type, help and
 * labels. Dashboards for Node.js services are drawn against these, so they must match exactly.
 */
const PROM_CLIENT_DEFAULTS: Record<string, { type: string; help: string; labels?: string[] }> = {
  process_cpu_user_seconds_total: { type: 'counter', help: 'Total user CPU time spent in seconds.' },
  process_cpu_system_seconds_total: { type: 'counter', help: 'Total system CPU time spent in seconds.' },
  process_cpu_seconds_total: { type: 'counter', help: 'Total user and system CPU time spent in seconds.' },
  process_start_time_seconds: { type: 'gauge', help: 'Start time of the process since unix epoch in seconds.' },
  process_resident_memory_bytes: { type: 'gauge', help: 'Resident memory size in bytes.' },
  process_open_fds: { type: 'gauge', help: 'Number of open file descriptors.' },
  process_max_fds: { type: 'gauge', help: 'Maximum number of open file descriptors.' },
  nodejs_eventloop_lag_seconds: { type: 'gauge', help: 'Lag of event loop in seconds.' },
  nodejs_eventloop_lag_min_seconds: { type: 'gauge', help: 'The minimum recorded event loop delay.' },
  nodejs_eventloop_lag_max_seconds: { type: 'gauge', help: 'The maximum recorded event loop delay.' },
  nodejs_eventloop_lag_mean_seconds: { type: 'gauge', help: 'The mean of the recorded event loop delays.' },
  nodejs_eventloop_lag_stddev_seconds: { type: 'gauge', help: 'The standard deviation of the recorded event loop delays.' },
  nodejs_eventloop_lag_p50_seconds: { type: 'gauge', help: 'The 50th percentile of the recorded event loop delays.' },
  nodejs_eventloop_lag_p90_seconds: { type: 'gauge', help: 'The 90th percentile of the recorded event loop delays.' },
  nodejs_eventloop_lag_p99_seconds: { type: 'gauge', help: 'The 99th percentile of the recorded event loop delays.' },
  nodejs_active_handles_total: { type: 'gauge', help: 'Total number of active handles.' },
  nodejs_active_requests_total: { type: 'gauge', help: 'Total number of active requests.' },
  nodejs_heap_size_total_bytes: { type: 'gauge', help: 'Process heap size from Node.js in bytes.' },
  nodejs_heap_size_used_bytes: { type: 'gauge', help: 'Process heap size used from Node.js in bytes.' },
  nodejs_external_memory_bytes: { type: 'gauge', help: 'Node.js external memory size in bytes.' },
  nodejs_heap_space_size_total_bytes: { type: 'gauge', help: 'Process heap space size total from Node.js in bytes.', labels: ['space'] },
  nodejs_heap_space_size_used_bytes: { type: 'gauge', help: 'Process heap space size used from Node.js in bytes.', labels: ['space'] },
  nodejs_heap_space_size_available_bytes: { type: 'gauge', help: 'Process heap space size available from Node.js in bytes.', labels: ['space'] },
  nodejs_version_info: { type: 'gauge', help: 'Node.js version info.', labels: ['version', 'major', 'minor', 'patch'] },
  nodejs_gc_duration_seconds: { type: 'histogram', help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.', labels: ['kind'] },
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function blockTheLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs
  }
}

describe('the process metrics', () => {
  let stop: () => void = () => {};
  afterEach(() => stop());
  const scrape = (registry: Registry): Exposition => parseExposition(registry.render());
  const start = () => {
    const registry = new Registry();
    stop = registerProcessMetrics(registry);
    return registry;
  };

  it("carry prom-client's default names, types, help texts and labels, so Node.js dashboards read them", () => {
    const metrics = scrape(start());
    for (const [name, { type, help, labels = [] }] of Object.entries(PROM_CLIENT_DEFAULTS)) {
      if (process.platform !== 'linux' && name.includes('_fds')) continue;
      expect(metrics.types.get(name), name).toBe(type);
      expect(metrics.help.get(name), name).toBe(help);
      for (const sample of metrics.samples.filter((s) => s.name === name || s.name.startsWith(`${name}_`))) {
        expect(
          Object.keys(sample.labels).filter((label) => label !== 'le'),
          sample.name,
        ).toEqual(labels);
      }
    }
    // Nothing else under these prefixes: a name a dashboard does not know is one nobody sees.
    expect([...metrics.types.keys()].filter((name) => !(name in PROM_CLIENT_DEFAULTS))).toEqual([]);
  });

  it('reports the memory, the heap by space, the Node.js version and the start time of this process', () => {
    const metrics = scrape(start());
    const [major, minor, patch] = process.versions.node.split('.');
    expect(metricValue(metrics, 'nodejs_version_info', { version: process.version, major: major!, minor: minor!, patch: patch! })).toBe(1);
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    const used = metricValue(metrics, 'nodejs_heap_size_used_bytes')!;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(metricValue(metrics, 'nodejs_heap_size_total_bytes')!);
    expect(metricValue(metrics, 'nodejs_heap_space_size_used_bytes', { space: 'old' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'nodejs_heap_space_size_total_bytes', { space: 'new' })).toBeGreaterThan(0);
    const started = metricValue(metrics, 'process_start_time_seconds')!;
    expect(started).toBeLessThanOrEqual(Date.now() / 1000);
    expect(started).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 2);
    expect(metricValue(metrics, 'nodejs_active_handles_total')).toBeGreaterThanOrEqual(0);
    if (process.platform === 'linux') {
      expect(metricValue(metrics, 'process_open_fds')).toBeGreaterThan(2);
      expect(metricValue(metrics, 'process_max_fds')).toBeGreaterThanOrEqual(metricValue(metrics, 'process_open_fds')!);
    }
  });

  it('counts CPU time from the start of the process, user and system apart, and their sum', () => {
    const registry = start();
    const before = scrape(registry);
    blockTheLoop(50);
    const after = scrape(registry);
    const cpu = (m: Exposition, name: string) => metricValue(m, name)!;
    expect(cpu(before, 'process_cpu_seconds_total')).toBeGreaterThan(0); // the process had run before the registry existed
    expect(cpu(after, 'process_cpu_seconds_total')).toBeGreaterThan(cpu(before, 'process_cpu_seconds_total'));
    expect(cpu(after, 'process_cpu_seconds_total')).toBeCloseTo(
      cpu(after, 'process_cpu_user_seconds_total') + cpu(after, 'process_cpu_system_seconds_total'),
      6,
    );
  });

  it('shows a blocked event loop in the lag figures of the next scrape', async () => {
    const registry = start();
    await pause(30);
    scrape(registry); // starts the setImmediate probe, and a new window of recorded delays
    blockTheLoop(120); // the probe waits this long
    await pause(30);
    blockTheLoop(120); // the monitor's samples see this one (they only start again one interval after a scrape)
    await pause(30);
    const metrics = scrape(registry);
    expect(metricValue(metrics, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0.1);
    expect(metricValue(metrics, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.1);
    const p50 = metricValue(metrics, 'nodejs_eventloop_lag_p50_seconds')!;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(metricValue(metrics, 'nodejs_eventloop_lag_p99_seconds')!);
  });

  it('times garbage collections by kind', async () => {
    const registry = start();
    let collections = 0;
    for (let round = 0; round < 50 && collections === 0; round++) {
      // Short-lived garbage: the young generation fills and is collected (a minor collection).
      let garbage: unknown[] = [];
      for (let i = 0; i < 200_000; i++) garbage.push({ i });
      garbage = [];
      await pause(5); // the observer hears of collections after they happened
      const metrics = scrape(registry);
      collections = ['major', 'minor', 'incremental', 'weakcb'].reduce(
        (sum, kind) => sum + (metricValue(metrics, 'nodejs_gc_duration_seconds_count', { kind }) ?? 0),
        0,
      );
    }
    expect(collections).toBeGreaterThan(0);
  });
});
