/** What the `gridpkg` command does with its arguments; shared by bin (main.ts) and the executable (exe.ts). */
import { installInterruptHandlers } from './interrupt.js';
import { processIO } from './io.js';
import { runCli } from './program.js';

export async function start(argv: readonly string[]): Promise<void> {
  const io = processIO({ color: !argv.includes('--no-color') });
  installInterruptHandlers((text) => io.err(text));
  process.exitCode = await runCli(
    argv.filter((arg) => arg !== '--no-color'),
    io,
  );
}
