#!/usr/bin/env node
import { installInterruptHandlers } from './interrupt.js';
import { processIO } from './io.js';
import { runCli } from './program.js';

const argv = process.argv.slice(2);
const io = processIO({ color: !argv.includes('--no-color') });
installInterruptHandlers((text) => io.err(text));
const code = await runCli(
  argv.filter((arg) => arg !== '--no-color'),
  io,
);
// The run is over when runCli returns. Work left behind (jobs still followed when converge reached its --timeout)
// must not keep the process alive: those jobs run on their sites, and the ledger re-attaches to them next time.
process.exit(code);
