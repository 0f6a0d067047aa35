/** What the `gridpkg` command does with its arguments; shared by bin (main.ts) and the executable (exe.ts). */
import { installInterruptHandlers } from './interrupt.js';
import { processIO } from './io.js';
import { runCli } from './program.js';

export async function start(argv: readonly string[]): Promise<void> {
  // --no-color (Terraform: -no-color) is read here, before parsing: it decides how even a usage error looks.
  const noColor = (arg: string) => arg === '--no-color' || arg === '-no-color';
  const io = processIO({ color: !argv.some(noColor) });
  installInterruptHandlers((text) => io.err(text));
  // `gridpkg show x.plan | head`: a reader that stops reading is not an error (as for cat), not a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
  const code = await runCli(
    argv.filter((arg) => !noColor(arg)),
    io,
  );
  // The run is over when runCli returns. Work left behind (jobs still followed when converge reached its --timeout)
  // must not keep the process alive: those jobs run on their sites, and the ledger re-attaches to them next time.
  process.exit(code);
}
