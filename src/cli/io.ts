/** The CLI's only contact with the terminal, so commands can be run and tested in-process. */
import { createInterface } from 'node:readline/promises';
import { colorStyle, plainStyle, type Style } from '../report/style.js';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Asks on the terminal; undefined when there is no terminal to ask. */
  confirm(question: string): Promise<boolean | undefined>;
  style: Style;
  errStyle: Style;
}

function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

export function processIO(options: { color?: boolean } = {}): CliIO {
  const color = options.color !== false;
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    async confirm(question) {
      if (!process.stdin.isTTY) return undefined;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      // Ctrl-C at the prompt (the terminal is in raw mode, so readline sees it) is the same Ctrl-C as anywhere.
      rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
      try {
        return (await rl.question(question)).trim() === 'yes';
      } finally {
        rl.close();
      }
    },
    style: color && useColor(process.stdout) ? colorStyle : plainStyle,
    errStyle: color && useColor(process.stderr) ? colorStyle : plainStyle,
  };
}
