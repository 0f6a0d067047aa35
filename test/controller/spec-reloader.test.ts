/** Reloading the spec after its files change: debounced, one load at a time, errors reported until fixed. */
import { describe, expect, it } from 'vitest';
import { SpecReloader } from '../../src/controller/spec-reloader.js';
import { ManualClock, settle } from '../support/manual-clock.js';

function harness(load: () => Promise<string>) {
  const clock = new ManualClock();
  const loaded: string[] = [];
  const errors: string[] = [];
  let loads = 0;
  const reloader = new SpecReloader<string>({
    load: () => {
      loads++;
      return load();
    },
    clock,
    debounceMs: 300,
    onSpec: (spec) => {
      loaded.push(spec);
    },
    onError: (error) => errors.push(String(error)),
  });
  return { clock, reloader, loaded, errors, loads: () => loads };
}

describe('the spec reloader', () => {
  it('loads once after the files have been quiet for the debounce time', async () => {
    const h = harness(async () => 'v2');
    h.reloader.changed();
    await h.clock.advance(200);
    h.reloader.changed(); // an editor's second write: the quiet period starts again
    await h.clock.advance(299);
    expect(h.loads()).toBe(0);
    await h.clock.advance(1);
    await h.reloader.settled();
    expect(h.loads()).toBe(1);
    expect(h.loaded).toEqual(['v2']);
  });

  it('reports an edit that does not load, and loads the fixed one', async () => {
    let text = 'broken';
    const h = harness(async () => {
      if (text === 'broken') throw new Error('spec.yaml:3:5: bad');
      return text;
    });
    h.reloader.changed();
    await h.clock.advance(300);
    await h.reloader.settled();
    expect(h.errors).toEqual(['Error: spec.yaml:3:5: bad']);
    expect(h.loaded).toEqual([]);
    text = 'fixed';
    h.reloader.changed();
    await h.clock.advance(300);
    await h.reloader.settled();
    expect(h.loaded).toEqual(['fixed']);
  });

  it('a change during a load brings exactly one more load, after it', async () => {
    const pending: Array<(text: string) => void> = [];
    const h = harness(() => new Promise<string>((resolve) => pending.push(resolve)));
    h.reloader.changed();
    await h.clock.advance(300);
    expect(h.loads()).toBe(1);
    h.reloader.changed();
    await h.clock.advance(300);
    h.reloader.changed();
    await h.clock.advance(300);
    expect(h.loads()).toBe(1); // never two at once
    pending.shift()?.('first');
    await settle();
    expect(h.loads()).toBe(2);
    pending.shift()?.('second');
    await h.reloader.settled();
    expect(h.loaded).toEqual(['first', 'second']);
    expect(h.loads()).toBe(2);
  });

  it('stopped: no more loads', async () => {
    const h = harness(async () => 'v');
    h.reloader.changed();
    h.reloader.stop();
    await h.clock.advance(1000);
    expect(h.loads()).toBe(0);
  });
});
