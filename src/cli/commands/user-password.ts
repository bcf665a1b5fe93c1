import { UsageError } from '../args.js';
import type { CliInput, CliOutput } from '../io.js';

/**
 * A new account's password, never from an argument: every user of the machine can read a
 * process's arguments (`ps`, /proc/<pid>/cmdline), and shells keep them in their history. On
 * a terminal it is asked for twice, without echo; otherwise it is the first line of stdin
 * (`printf '%s\n' "$PASSWORD" | gatehouse user create …`), as typed: only the line break goes.
 */
export async function readNewPassword(input: CliInput, prompts: CliOutput): Promise<string> {
  if (!input.isTTY || input.setRawMode === undefined) return firstLine(input);
  // Raw mode (no echo) from before the first prompt until after the last answer, so nothing
  // typed in answer to a prompt is ever shown, however fast it comes.
  input.setRawMode(true);
  input.setEncoding('utf8');
  try {
    const password = await askHidden(input, prompts, 'Password: ');
    const again = await askHidden(input, prompts, 'Repeat the password: ');
    if (password !== again) throw new Error('the two passwords differ; nothing was changed');
    return password;
  } finally {
    input.setRawMode(false);
    input.pause();
  }
}

/** Far more than any accepted password (128 characters); more than this is not a password. */
const MAX_LINE_BYTES = 4096;

async function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || Buffer.byteLength(text) > MAX_LINE_BYTES) break;
  }
  const line = text.split('\n', 1)[0]!.replace(/\r$/, '');
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw new Error('the first line of stdin is too long to be a password');
  if (line === '') throw new UsageError('no password on stdin: send it as the first line, or run the command on a terminal to be asked for it');
  return line;
}

/** Reads one line from a terminal in raw mode; Ctrl-C, or Ctrl-D on an empty line, cancels. */
function askHidden(input: CliInput, prompts: CliOutput, prompt: string): Promise<string> {
  prompts.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: Error) => {
      input.off('data', onData);
      input.pause();
      prompts.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      // An escape sequence (arrow keys, function keys) is no part of a password.
      if (chunk.startsWith('\u001b')) return;
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003' || (char === '\u0004' && typed === '')) return finish(new Error('cancelled; nothing was changed'));
        if (char === '\u007f' || char === '\b') typed = Array.from(typed).slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
