import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from './registry.js';

/** The event-loop delay is reported over windows of this length, however often anyone scrapes. */
const EVENT_LOOP_WINDOW_MS = 10_000;

/**
 * The process's own health: memory, CPU and event-loop delay. These keep the standard names
 * (`process_*`, as every Prometheus client library writes them, and `nodejs_*`) so stock
 * dashboards and alerts for Node services work unchanged; everything about Gatehouse itself is
 * `gatehouse_*`. Returns the function that stops the event-loop monitor.
 */
export function registerProcessMetrics(registry: Registry): () => void {
  const cpu = registry.register(new Counter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', []));
  const resident = registry.register(new Gauge('process_resident_memory_bytes', 'Resident memory size, in bytes.', []));
  const heap = registry.register(new Gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', []));
  const start = registry.register(new Gauge('process_start_time_seconds', 'When the process started, in seconds since the epoch.', []));
  const delay = registry.register(
    new Gauge(
      'nodejs_eventloop_delay_seconds',
      `How late the event loop ran timers over the last ${EVENT_LOOP_WINDOW_MS / 1000} s (p50, p99, max): high values mean requests wait for CPU-bound work.`,
      ['quantile'],
    ),
  );
  start.set({}, Math.round(performance.timeOrigin / 1000));

  // Sampled by libuv, not by a JavaScript timer, so measuring costs the loop nothing.
  const monitor = monitorEventLoopDelay({ resolution: 10 });
  monitor.enable();
  let window = { p50: 0, p99: 0, max: 0 };
  const roll = setInterval(() => {
    // The monitor's own resolution timer shows up as delay: subtract it so an idle loop reads 0.
    const late = (ns: number) => Math.max(0, ns / 1e9 - 0.01);
    window = { p50: late(monitor.percentile(50)), p99: late(monitor.percentile(99)), max: late(monitor.max) };
    monitor.reset();
  }, EVENT_LOOP_WINDOW_MS).unref();

  let lastCpuSeconds = 0;
  registry.onCollect(() => {
    const usage = process.cpuUsage();
    const cpuSeconds = (usage.user + usage.system) / 1e6;
    cpu.inc({}, Math.max(0, cpuSeconds - lastCpuSeconds));
    lastCpuSeconds = cpuSeconds;
    const memory = process.memoryUsage();
    resident.set({}, memory.rss);
    heap.set({}, memory.heapUsed);
    delay.set({ quantile: '0.5' }, window.p50);
    delay.set({ quantile: '0.99' }, window.p99);
    delay.set({ quantile: '1' }, window.max);
  });

  return () => {
    clearInterval(roll);
    monitor.disable();
  };
}
