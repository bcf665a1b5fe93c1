import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Gauge, Histogram, type Registry } from './registry.js';

/** prom-client's buckets: a minor collection takes about a millisecond, a major one tens. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Undocumented but stable since Node 0.x; prom-client reads them, and leaves them out where absent. */
const internals = process as unknown as { _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] };

/**
 * V8's heap, libuv's handles and requests, the Node.js version and the time spent collecting
 * garbage, as prom-client's `collectDefaultMetrics` names them. Returns the function that stops
 * watching the collections.
 */
export function registerNodejsMetrics(registry: Registry): () => void {
  const counts = [
    ['nodejs_active_handles_total', 'Total number of active handles.', internals._getActiveHandles],
    ['nodejs_active_requests_total', 'Total number of active requests.', internals._getActiveRequests],
  ] as const;
  for (const [name, help, list] of counts) {
    if (typeof list !== 'function') continue;
    const gauge = registry.register(new Gauge(name, help, []));
    registry.onCollect(() => gauge.set({}, list.call(process).length));
  }

  const heapTotal = registry.register(new Gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', []));
  const heapUsed = registry.register(new Gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', []));
  const external = registry.register(new Gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', []));
  const spaces = (['total', 'used', 'available'] as const).map((kind) =>
    registry.register(new Gauge(`nodejs_heap_space_size_${kind}_bytes`, `Process heap space size ${kind} from Node.js in bytes.`, ['space'])),
  );
  registry.onCollect(() => {
    const memory = process.memoryUsage();
    heapTotal.set({}, memory.heapTotal);
    heapUsed.set({}, memory.heapUsed);
    external.set({}, memory.external);
    for (const space of getHeapSpaceStatistics()) {
      // `old_space` → `old`, as prom-client labels them.
      const labels = { space: space.space_name.replace(/_space$/, '') };
      spaces[0]!.set(labels, space.space_size);
      spaces[1]!.set(labels, space.space_used_size);
      spaces[2]!.set(labels, space.space_available_size);
    }
  });

  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  registry
    .register(new Gauge('nodejs_version_info', 'Node.js version info.', ['version', 'major', 'minor', 'patch']))
    .set({ version: process.version, major, minor, patch }, 1);

  const gc = registry.register(
    new Histogram('nodejs_gc_duration_seconds', 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.', ['kind'], GC_BUCKETS),
  );
  // Node delivers the entries in batches, off the collection itself: a handful of additions per batch.
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind !== undefined) gc.observe({ kind }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
