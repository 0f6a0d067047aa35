// Process model of the simulated pkg_install tools: stdio buffering like C (stdout fully buffered until exit unless
// a tool calls setbuf(stdout, NULL); stderr unbuffered), warnx/errx/err messages prefixed with the program name,
// and a GNU getopt. Getting the buffering right matters: with 2>&1 the real tools' stderr lines come before any
// stdout text printed earlier, and the transcripts record that merged order.
import { writeSync } from 'node:fs';

/** Thrown to end a tool with an exit status (errx(3), exit(3), usage()). */
export class ExitError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`exit ${status}`);
    this.name = 'ExitError';
    this.status = status;
  }
}

/** Where a tool's bytes go: the real file descriptors (CLI) or memory (in-process use by createSite). */
export interface Sink {
  stdout(text: string): void;
  stderr(text: string): void;
}

function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      // A non-blocking pipe that is momentarily full: try again.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

export const processSink: Sink = {
  stdout: (text) => writeAll(1, text),
  stderr: (text) => writeAll(2, text),
};

export function memorySink(): Sink & { out: string; err: string; merged: string } {
  const s = {
    out: '',
    err: '',
    merged: '',
    stdout(text: string) {
      s.out += text;
      s.merged += text;
    },
    stderr(text: string) {
      s.err += text;
      s.merged += text;
    },
  };
  return s;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOTEMPTY: 'Directory not empty',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EXDEV: 'Invalid cross-device link',
  EIO: 'Input/output error',
};

/** strerror(errno) for a Node error. */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && STRERROR[code] !== undefined) return STRERROR[code];
  return e instanceof Error ? e.message : String(e);
}

/** One run of one tool: its name (the warnx prefix), its stdio, its exit path. */
export class Tool {
  readonly name: string;
  private readonly sink: Sink;
  private buffered = '';
  private unbuffered = false;

  constructor(name: string, sink: Sink) {
    this.name = name;
    this.sink = sink;
  }

  /** Another program writing to the same stdio (pkg_add runs pkg_delete as a child process). */
  child(name: string): Tool {
    return new Tool(name, this.sink);
  }

  /** printf to stdout (buffered until flush() unless setUnbuffered() was called). */
  out(text: string): void {
    if (this.unbuffered) this.sink.stdout(text);
    else this.buffered += text;
  }

  /** setbuf(stdout, NULL) */
  setUnbuffered(): void {
    this.flush();
    this.unbuffered = true;
  }

  /** fprintf(stderr, ...) */
  stderr(text: string): void {
    this.sink.stderr(text);
  }

  /** warnx(3) */
  warnx(message: string): void {
    this.sink.stderr(`${this.name}: ${message}\n`);
  }

  /** warn(3): message, then strerror(errno) */
  warn(message: string, error: unknown): void {
    this.sink.stderr(`${this.name}: ${message}: ${strerror(error)}\n`);
  }

  /** errx(3) */
  errx(status: number, message: string): never {
    this.warnx(message);
    throw new ExitError(status);
  }

  /** err(3) */
  err(status: number, message: string, error: unknown): never {
    this.warn(message, error);
    throw new ExitError(status);
  }

  exit(status: number): never {
    throw new ExitError(status);
  }

  /** exit(3) flushes stdio. */
  flush(): void {
    if (this.buffered !== '') {
      this.sink.stdout(this.buffered);
      this.buffered = '';
    }
  }
}

/** Run a tool body: flushes stdout like exit(3) and turns ExitError into a status. */
export function runTool(tool: Tool, body: () => number): number {
  let status: number;
  try {
    status = body();
  } catch (e) {
    if (!(e instanceof ExitError)) {
      tool.flush();
      throw e;
    }
    status = e.status;
  }
  tool.flush();
  return status;
}

export interface Getopt {
  /** options in command-line order, with their argument when the spec has `x:` */
  opts: Array<{ opt: string; arg: string | undefined }>;
  /** the remaining operands */
  args: string[];
}

/**
 * getopt(3) as glibc does it: options may follow operands (argv is permuted) unless `permute` is false, `--` ends
 * options, and errors are reported as `PROG: invalid option -- 'x'` / `PROG: option requires an argument -- 'x'`
 * before the tool's usage() is called.
 */
export function getopt(
  tool: Tool,
  argv: readonly string[],
  spec: string,
  usage: () => never,
  permute = true,
): Getopt {
  const opts: Getopt['opts'] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || !a.startsWith('-')) {
      if (!permute) {
        args.push(...argv.slice(i));
        break;
      }
      args.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      const at = c === ':' ? -1 : spec.indexOf(c);
      if (at < 0) {
        tool.stderr(`${tool.name}: invalid option -- '${c}'\n`);
        usage();
      }
      if (spec[at + 1] === ':') {
        let arg: string | undefined = a.slice(j + 1);
        if (arg === '') {
          arg = argv[i + 1];
          i++;
        }
        if (arg === undefined) {
          tool.stderr(`${tool.name}: option requires an argument -- '${c}'\n`);
          usage();
        }
        opts.push({ opt: c, arg });
        break;
      }
      opts.push({ opt: c, arg: undefined });
    }
  }
  return { opts, args };
}
