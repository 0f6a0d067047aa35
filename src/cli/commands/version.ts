/** `gridpkg version [--json]`: gridpkg's version and the Node.js it runs on (Terraform's version command). */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';

export function registerVersionCommand(program: Command, io: CliIO, version: string): void {
  program
    .command('version')
    .summary('print the version (also --version)')
    .option('--json', 'as one JSON document (also -json)')
    .action((options: { json?: boolean }) => {
      const runtime = { node: process.version, platform: `${process.platform}-${process.arch}` };
      io.out(
        options.json
          ? `${JSON.stringify({ gridpkg: version, ...runtime })}\n`
          : `gridpkg v${version}\non Node.js ${runtime.node} ${runtime.platform}\n`,
      );
    });
}
