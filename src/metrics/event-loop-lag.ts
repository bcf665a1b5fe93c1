import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from './registry.js';

/** The monitor's sampling interval, in ms (prom-client's default): an idle loop reads about this. */
const RESOLUTION_MS = 10;

const STATISTICS = [
  ['min', 'The minimum recorded event loop delay.'],
  ['max', 'The maximum recorded event loop delay.'],
  ['mean', 'The mean of the recorded event loop delays.'],
  ['stddev', 'The standard deviation of the recorded event loop delays.'],
  ['p50', 'The 50th percentile of the recorded event loop delays.'],
  ['p90', 'The 90th percentile of the recorded event loop delays.'],
  ['p99', 'The 99th percentile of the recorded event loop delays.'],
] as const;

/**
 * How late the event loop runs, as prom-client reports it: `nodejs_eventloop_lag_seconds`, the
 * wait for a `setImmediate` started at the previous scrape, and the delays the loop recorded
 * since the previous scrape (`nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds`).
 * High values mean requests wait behind CPU-bound work. Returns the function that stops the monitor.
 */
export function registerEventLoopLag(registry: Registry): () => void {
  const lag = registry.register(new Gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', []));
  lag.set({}, 0);
  const gauges = STATISTICS.map(([name, help]) => registry.register(new Gauge(`nodejs_eventloop_lag_${name}_seconds`, help, [])));
  for (const gauge of gauges) gauge.set({}, 0);

  // Sampled by libuv, not by a JavaScript timer, so measuring costs the loop nothing.
  const monitor = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  monitor.enable();
  registry.onCollect(() => {
    const started = process.hrtime.bigint();
    setImmediate(() => lag.set({}, Number(process.hrtime.bigint() - started) / 1e9));
    // Two scrapes within one sampling interval: nothing new to say, the last figures stay.
    if (monitor.count === 0) return;
    const values = [monitor.min, monitor.max, monitor.mean, monitor.stddev, monitor.percentile(50), monitor.percentile(90), monitor.percentile(99)];
    for (const [i, ns] of values.entries()) gauges[i]!.set({}, ns / 1e9);
    // As prom-client: each scrape reports the delays since the one before.
    monitor.reset();
  });
  return () => monitor.disable();
}
