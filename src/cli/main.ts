#!/usr/bin/env node
import { installInterruptHandlers } from './interrupt.js';
import { processIO } from './io.js';
import { runCli } from './program.js';

const argv = process.argv.slice(2);
const io = processIO({ color: !argv.includes('--no-color') });
installInterruptHandlers((text) => io.err(text));
process.exitCode = await runCli(
  argv.filter((arg) => arg !== '--no-color'),
  io,
);
