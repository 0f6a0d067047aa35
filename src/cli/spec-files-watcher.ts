/**
 * Tells when a file of the spec may have changed (chokidar). It watches the directories of the spec's files, not
 * the files: editors save by writing a new file and renaming it over the old one, and an include that names a file
 * not written yet must be seen when it appears. Anything else in those directories is ignored, except YAML files
 * (a new include may name one); a false alarm costs a reload that changes nothing.
 */
import { dirname, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

export class SpecFilesWatcher {
  private readonly watcher: FSWatcher;
  private files = new Set<string>();
  private dirs = new Set<string>();

  constructor(
    files: readonly string[],
    private readonly onChange: () => void,
    onError: (error: unknown) => void,
  ) {
    this.files = new Set(files.map((file) => resolve(file)));
    this.dirs = new Set([...this.files].map((file) => dirname(file)));
    this.watcher = watch([...this.dirs], { ignoreInitial: true, depth: 0, atomic: true });
    this.watcher.on('all', (event, path) => {
      if (event === 'addDir' || event === 'unlinkDir') return;
      const file = resolve(path);
      if (this.files.has(file) || /\.ya?ml$/i.test(file)) this.onChange();
    });
    this.watcher.on('error', onError);
  }

  /** The spec's files after a reload (includes may have been added or dropped). */
  setFiles(files: readonly string[]): void {
    this.files = new Set(files.map((file) => resolve(file)));
    const dirs = new Set([...this.files].map((file) => dirname(file)));
    const gone = [...this.dirs].filter((dir) => !dirs.has(dir));
    const added = [...dirs].filter((dir) => !this.dirs.has(dir));
    if (gone.length > 0) this.watcher.unwatch(gone);
    if (added.length > 0) this.watcher.add(added);
    this.dirs = dirs;
  }

  /** Resolves once the initial scan is done: changes from then on are seen. */
  ready(): Promise<void> {
    return new Promise((done) => this.watcher.once('ready', () => done()));
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}
