/** How a long command (import, purge) reports how far it got. */
export interface Progress {
  /** `n` more items are done. */
  advance(n?: number): void;
  /** The work is over: the bar (or the last line) gives way to this summary line. */
  done(summary: string): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  /** A terminal: true. A pipe, a file, a CI log: false or undefined. */
  isTTY?: boolean;
  columns?: number;
}

/** A terminal is redrawn at most this often; plain output gets a line at most this often… */
const REDRAW_MS = 100;
const LINE_MS = 5000;
/** …or at every tenth of the total, whichever comes first. */
const LINE_FRACTION = 0.1;

/**
 * On a terminal, one line redrawn in place (`label [#####-----]  42%  420/1000`); anywhere
 * else, plain lines a log can keep (`label: 420/1000 (42%)`), at most every 5 s or every
 * tenth. Commands write it to their stderr, so stdout stays the command's result for scripts.
 * `total` may be unknown (undefined): then it counts without a bar.
 */
export function progress(label: string, total: number | undefined, out: ProgressOutput, now: () => number): Progress {
  const terminal = out.isTTY === true;
  let doneCount = 0;
  // A terminal shows the bar at the first item; a log gets its first line after 5 s or a tenth.
  let lastDrawAt = terminal ? -Infinity : now();
  let lastLineCount = 0;

  const counted = () => (total === undefined ? `${doneCount}` : `${doneCount}/${total}`);
  const percent = () => (total === undefined || total === 0 ? undefined : Math.min(100, Math.floor((doneCount / total) * 100)));

  const draw = () => {
    const pct = percent();
    if (!terminal) {
      out.write(`${label}: ${counted()}${pct === undefined ? '' : ` (${pct}%)`}\n`);
      return;
    }
    const text = `${label} ${counted()}`;
    if (pct === undefined) {
      out.write(`\r${text}\x1b[K`);
      return;
    }
    const room = Math.max(10, Math.min(40, (out.columns ?? 80) - text.length - 10));
    const filled = Math.round((pct / 100) * room);
    out.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(room - filled)}] ${String(pct).padStart(3)}%  ${counted()}\x1b[K`);
  };

  return {
    advance(n = 1) {
      doneCount += n;
      const at = now();
      if (terminal) {
        if (at - lastDrawAt < REDRAW_MS) return;
      } else {
        const step = total === undefined ? Infinity : Math.max(1, Math.ceil(total * LINE_FRACTION));
        if (at - lastDrawAt < LINE_MS && doneCount - lastLineCount < step) return;
        lastLineCount = doneCount;
      }
      lastDrawAt = at;
      draw();
    },
    done(summary) {
      out.write(terminal ? `\r${summary}\x1b[K\n` : `${summary}\n`);
    },
  };
}
