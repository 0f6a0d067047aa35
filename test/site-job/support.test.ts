import { afterEach, describe, expect, it, vi } from 'vitest';
import { haveTool, requireTool } from './support.js';

describe('requireTool', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('finds a tool that exists', () => {
    expect(haveTool('sh')).toBe(true);
    expect(requireTool('sh')).toBe(true);
  });

  it('fails in CI when the tool is missing', () => {
    vi.stubEnv('CI', 'true');
    expect(() => requireTool('gridpkg-no-such-tool')).toThrow(
      /gridpkg-no-such-tool is not installed.*CI is set/,
    );
  });

  it('skips loudly outside CI when the tool is missing', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(requireTool('gridpkg-no-such-tool', 'the test of nothing')).toBe(false);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/SKIPPED: gridpkg-no-such-tool is not installed: the test of nothing/),
    );
  });
});
