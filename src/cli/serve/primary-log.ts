import { hostname } from 'node:os';

const LEVELS = { info: 30, warn: 40, error: 50, fatal: 60 } as const;
const THRESHOLDS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export type PrimaryLog = Record<keyof typeof LEVELS, (fields: object, msg: string) => void>;

/**
 * The few lines the `serve --workers` primary logs (workers started, one died, shutting down),
 * one JSON object per line in the shape of the workers' pino lines, so one log pipeline reads
 * both. Not pino itself: it is Fastify's, not a dependency of ours (docs/dependencies.md), and
 * the primary serves no requests.
 */
export function primaryLog(level: string): PrimaryLog {
  const threshold = THRESHOLDS[level] ?? LEVELS.info;
  const write = (value: number) => (fields: object, msg: string) => {
    if (value < threshold) return;
    process.stdout.write(`${JSON.stringify({ level: value, time: Date.now(), pid: process.pid, hostname: hostname(), role: 'primary', ...fields, msg })}\n`);
  };
  return { info: write(LEVELS.info), warn: write(LEVELS.warn), error: write(LEVELS.error), fatal: write(LEVELS.fatal) };
}
