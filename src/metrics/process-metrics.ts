import { readdirSync, readFileSync } from 'node:fs';
import { registerEventLoopLag } from './event-loop-lag.js';
import { registerNodejsMetrics } from './nodejs-metrics.js';
import { Counter, Gauge, type Registry } from './registry.js';

/**
 * The process's own health, under the names, types, units, help texts and labels of
 * prom-client's `collectDefaultMetrics` (`process_*`, `nodejs_*`: event-loop-lag.ts,
 * nodejs-metrics.ts), so stock Node.js dashboards and alerts work unchanged; everything about
 * Gatehouse itself is `gatehouse_*`. Returns the function that stops what runs in the background.
 */
export function registerProcessMetrics(registry: Registry): () => void {
  const cpuUser = registry.register(new Counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', []));
  const cpuSystem = registry.register(new Counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', []));
  const cpu = registry.register(new Counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', []));
  const start = registry.register(new Gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', []));
  const resident = registry.register(new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', []));
  // Whole seconds, rounded down: rounded to nearest, a process younger than half a second would
  // report a start in the future.
  start.set({}, Math.floor(performance.timeOrigin / 1000));

  // From the process's start, not from this call: the counters are the process's totals.
  let last = { user: 0, system: 0 };
  registry.onCollect(() => {
    const usage = process.cpuUsage();
    const user = Math.max(0, usage.user - last.user) / 1e6;
    const system = Math.max(0, usage.system - last.system) / 1e6;
    last = usage;
    cpuUser.inc({}, user);
    cpuSystem.inc({}, system);
    cpu.inc({}, user + system);
    resident.set({}, process.memoryUsage.rss());
  });

  registerFileDescriptors(registry);
  const stops = [registerEventLoopLag(registry), registerNodejsMetrics(registry)];
  return () => {
    for (const stop of stops) stop();
  };
}

/** Linux only, as prom-client: elsewhere there is no /proc to read, and the series are absent. */
function registerFileDescriptors(registry: Registry): void {
  if (process.platform !== 'linux') return;
  const open = registry.register(new Gauge('process_open_fds', 'Number of open file descriptors.', []));
  registry.onCollect(() => {
    try {
      // Less the one readdirSync itself held open while reading.
      open.set({}, readdirSync('/proc/self/fd').length - 1);
    } catch {
      // /proc unreadable (a sandbox): the last reading stays.
    }
  });
  const max = maxFileDescriptors();
  if (max !== undefined) registry.register(new Gauge('process_max_fds', 'Maximum number of open file descriptors.', [])).set({}, max);
}

/** The soft limit on open files, read once: it only changes if the process changes it itself. */
function maxFileDescriptors(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/ {2,}/)[1]);
    return Number.isFinite(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}
