// Reads the pkg_install reference vectors under test/fixtures/reference (README.md there says how they were made).
import { readFileSync } from 'node:fs';

export function referenceText(name: string): string {
  return readFileSync(new URL(`../fixtures/reference/${name}`, import.meta.url), 'utf8');
}

export interface TsvRow {
  line: number;
  fields: string[];
}

/** Rows of a reference TSV, skipping blank and `#` comment lines; each row must have `columns` fields. */
export function referenceTsv(name: string, columns: number): TsvRow[] {
  const rows: TsvRow[] = [];
  referenceText(name)
    .split('\n')
    .forEach((text, i) => {
      if (text === '' || text.startsWith('#')) return;
      const fields = text.split('\t');
      if (fields.length !== columns) throw new Error(`${name}:${i + 1}: expected ${columns} fields: ${text}`);
      rows.push({ line: i + 1, fields });
    });
  return rows;
}

export interface TranscriptStep {
  command: string;
  output: string;
  exit: number;
}

/** The steps of a reference transcript: `$ command`, its output lines, then `[exit N]`. */
export function referenceTranscript(name: string): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  let current: { command: string; lines: string[] } | undefined;
  for (const line of referenceText(name).split('\n')) {
    if (current === undefined) {
      if (line.startsWith('$ ')) current = { command: line.slice(2), lines: [] };
      continue;
    }
    const exit = /^\[exit (\d+)\]$/.exec(line);
    if (exit !== null) {
      const output = current.lines.length === 0 ? '' : `${current.lines.join('\n')}\n`;
      steps.push({ command: current.command, output, exit: Number(exit[1]) });
      current = undefined;
    } else {
      current.lines.push(line);
    }
  }
  return steps;
}

export function transcriptStep(name: string, command: string, nth = 0): TranscriptStep {
  const step = referenceTranscript(name).filter((s) => s.command === command)[nth];
  if (step === undefined) throw new Error(`${name}: no step ${nth} for $ ${command}`);
  return step;
}
