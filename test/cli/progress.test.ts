import { describe, expect, it } from 'vitest';
import { progress } from '../../src/cli/progress.js';

function output(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 80, write: (text: string) => writes.push(text) } };
}

describe('progress', () => {
  it('writes plain lines at every tenth when the output is not a terminal, then the summary', () => {
    const { writes, out } = output(false);
    const bar = progress('importing users', 100, out, () => 0);
    for (let i = 0; i < 100; i++) bar.advance();
    bar.done('imported 100 users');
    expect(writes).toEqual([...Array.from({ length: 10 }, (_, i) => `importing users: ${(i + 1) * 10}/100 (${(i + 1) * 10}%)\n`), 'imported 100 users\n']);
    expect(writes.join('')).not.toContain('\r');
  });

  it('writes a line every 5 seconds when the tenths come slowly', () => {
    const { writes, out } = output(false);
    let now = 0;
    const bar = progress('purging', 1_000_000, out, () => now);
    bar.advance();
    now = 1000;
    bar.advance();
    now = 6000;
    bar.advance();
    expect(writes).toEqual(['purging: 3/1000000 (0%)\n']);
  });

  it('counts without a bar when the total is unknown', () => {
    const { writes, out } = output(true);
    const bar = progress('purging', undefined, out, () => 0);
    bar.advance(5);
    expect(writes).toEqual(['\rpurging 5\x1b[K']);
  });

  it('redraws one line in place on a terminal, at most every 100 ms, and ends it with the summary', () => {
    const { writes, out } = output(true);
    let now = 0;
    const bar = progress('importing', 4, out, () => now);
    bar.advance();
    now = 50;
    bar.advance();
    now = 200;
    bar.advance(2);
    bar.done('imported 4');
    expect(writes).toHaveLength(3);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape sequence is what is checked.
    expect(writes[0]).toMatch(/^\rimporting \[#+-+\] {2}25% {2}1\/4\x1b\[K$/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
    expect(writes[1]).toMatch(/^\rimporting \[#+\] 100% {2}4\/4\x1b\[K$/);
    expect(writes[2]).toBe('\rimported 4\x1b[K\n');
  });
});
