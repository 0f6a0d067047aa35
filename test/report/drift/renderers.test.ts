/**
 * Each drift format renders the one model, and shows hostile text from a site or a spec as text: no terminal
 * escape, no CI workflow command at a line start, no bidi reordering, no Markdown table break, no XML or HTML
 * markup, no character XML 1.0 forbids.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/reconcile/plan.js';
import {
  buildDriftReport,
  DRIFT_FORMATS,
  type DriftReport,
  renderDrift,
  renderDriftJson,
} from '../../../src/report/drift/index.js';
import { renderDriftText } from '../../../src/report/drift/text.js';
import { escapeMarkdown, escapeXml } from '../../../src/report/markup.js';
import { colorStyle } from '../../../src/report/style.js';
import { desired, observed, requirement } from '../../reconcile/fixtures.js';
import { expectSafe, expectShownEscaped, HOSTILE_LINE, STYLES } from '../hostile-text.js';

const IMG = '<img src=x onerror=alert(1)>';
/** A name with every kind of trouble: HTML, Markdown pipes and emphasis, XML specials, a NUL, a lone surrogate. */
const HOSTILE_NAME = `${IMG}|a|*b*&"'\u0000\ud800\ufffe`;

function hostileReport(): DriftReport {
  const site = {
    ...desired([
      {
        ...requirement('math/gsl', { pattern: 'gsl>=2.8' }),
        source: { file: `spec${HOSTILE_LINE}.yaml`, line: 7, column: 3 },
      },
    ]),
    site: 'site-a',
  };
  const known = observed(['gsl-2.7nb1', 'openssl-3.0.13']);
  known.installed.push({ pkgname: HOSTILE_NAME, pkgpath: `devel/${HOSTILE_NAME}`, automatic: false });
  known.installed.push({ pkgname: `x${HOSTILE_LINE}`, pkgpath: 'devel/x', automatic: false });
  known.audit = [
    { pkgname: 'openssl-3.0.13', type: HOSTILE_LINE, url: `https://example.org/${IMG}|${HOSTILE_LINE}` },
  ];
  known.notes = [HOSTILE_LINE];
  const unknown = {
    state: 'unknown' as const,
    site: `site-b${HOSTILE_NAME}`,
    observedAt: '2026-11-23T10:00:00Z',
    jobId: 'site-b-probe-1',
    reason: `unreadable report; stderr: ${HOSTILE_LINE}${IMG}`,
  };
  const siteB = { ...desired([requirement('math/gsl')]), site: unknown.site };
  const observations = [known, unknown];
  return buildDriftReport({
    plan: buildPlan([site, siteB], observations, { specFile: `spec${IMG}.yaml`, specDigest: 'sha256:0' }),
    observations: new Map(observations.map((o) => [o.site, { observation: o, source: 'probed' as const }])),
    now: Date.parse('2026-11-23T10:05:00Z'),
  });
}

describe('the text format', () => {
  it.each(STYLES)('shows hostile site text escaped (%s)', (_name, style) => {
    const text = renderDriftText(hostileReport(), { style, verbose: true });
    expectSafe(text, 'drift text');
    expectShownEscaped(text, 'drift text');
  });

  it('is short by default and lists every item with --verbose', () => {
    const site = desired(
      ['devel/cmake', 'math/fftw', 'math/gsl', 'devel/hdf5', 'math/root', 'devel/zlib'].map((p) =>
        requirement(p),
      ),
    );
    const observations = [observed([])];
    const report = buildDriftReport({
      plan: buildPlan([site], observations, { specFile: 's.yaml', specDigest: 'sha256:0' }),
      observations: new Map([
        ['site-a', { observation: observations[0] as never, source: 'probed' as const }],
      ]),
      now: Date.parse('2026-11-23T10:05:00Z'),
    });
    const short = renderDriftText(report);
    expect(short).toContain('  ... and ');
    expect(short).toContain('(--verbose shows every item)');
    const long = renderDriftText(report, { verbose: true });
    expect(long).not.toContain('(--verbose shows every item)');
    expect(long.match(/\+ missing/g)?.length).toBeGreaterThan(5);
    expect(short).toMatch(/^Drift: 0 of 1 site\(s\) in sync, 1 drifted, 0 unknown;/m);
  });

  it('has colours only when given the colour style', () => {
    expect(renderDriftText(hostileReport())).not.toContain('\u001b');
    expect(renderDriftText(hostileReport(), { style: colorStyle })).toContain('\u001b[33mdrifted');
  });
});

describe('the JSON format', () => {
  it('is the model itself, with no raw bidi or separator characters', () => {
    const report = hostileReport();
    const json = renderDriftJson(report);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(report)));
    expect(json).not.toMatch(/[\u2028\u2029\u202a-\u202e\u009b]/);
  });
});

describe('the Markdown format', () => {
  const markdown = () => renderDrift(hostileReport(), 'markdown');

  it('shows hostile text escaped: no markup, no line of its own', () => {
    const text = markdown();
    expectSafe(text, 'markdown');
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;');
  });

  it('keeps every table row to its columns: a | in a name cannot add a cell', () => {
    for (const line of markdown()
      .split('\n')
      .filter((l) => l.startsWith('|'))) {
      const header = line.split(/(?<!\\)\|/).length;
      expect(header, line).toBeGreaterThanOrEqual(3);
    }
    const matrixRows = markdown()
      .split('\n')
      .filter((l) => l.startsWith('| devel/'));
    // Package, site-a, site-b: 3 cells, so 4 unescaped pipes.
    for (const row of matrixRows) expect(row.split(/(?<!\\)\|/).length - 1, row).toBe(4);
  });

  it('escapes what Markdown and HTML read, and cannot mention anyone', () => {
    expect(escapeMarkdown('a|b*c*_d_[e](f)`g`~h~ <b> & @team')).toBe(
      'a\\|b\\*c\\*\\_d\\_\\[e\\]\\(f\\)\\`g\\`\\~h\\~ &lt;b&gt; &amp; &#64;team',
    );
  });
});

// Characters XML 1.0 forbids (built from a string: Biome refuses control characters in regex literals).
const XML_FORBIDDEN_CONTROLS = '[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]';

/**
 * A small well-formedness check of the JUnit document: only the expected elements, attribute values and text with
 * no raw < or &, tags balanced, no character XML 1.0 forbids.
 */
function expectWellFormedJunit(xml: string): void {
  expect(xml).not.toMatch(new RegExp(XML_FORBIDDEN_CONTROLS));
  expect(xml).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  const text = '[^<&]*(?:&(?:amp|lt|gt|quot|#39);[^<&]*)*';
  const attribute = `\\s+[a-zA-Z]+="${text.replaceAll('<&', '<&"')}"`;
  const tag = new RegExp(
    `<(/?)(testsuites|testsuite|properties|property|testcase|failure|error|skipped)((?:${attribute})*)\\s*(/?)>`,
    'y',
  );
  const between = new RegExp(text, 'y');
  const stack: string[] = [];
  let at = 0;
  while (at < body.length) {
    between.lastIndex = at;
    at += between.exec(body)?.[0].length ?? 0;
    if (at >= body.length) break;
    tag.lastIndex = at;
    const match = tag.exec(body);
    expect(match, `not well-formed near ${JSON.stringify(body.slice(at, at + 80))}`).not.toBeNull();
    const [whole, closing, name, , selfClosing] = match as RegExpExecArray;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name as string);
    at += whole.length;
  }
  expect(stack).toEqual([]);
}

describe('the JUnit format', () => {
  it('is well-formed XML with hostile text escaped and forbidden characters dropped', () => {
    const xml = renderDrift(hostileReport(), 'junit');
    expectWellFormedJunit(xml);
    expectSafe(xml.replace(/\n/g, ' '), 'junit');
    expect(xml).not.toContain('<img');
  });

  it('has a suite per site and a case per requirement: failure = drift, error = unknown, with file and line', () => {
    const xml = renderDrift(hostileReport(), 'junit');
    expect(xml).toContain(
      '<testcase classname="site-a" name="math/gsl gsl&gt;=2.8" file="spec\\e[2J\\e[H\\e[32m plan: all sites OK',
    );
    expect(xml).toMatch(
      /line="7">\n\s+<failure message="wrong-version: installed gsl-2\.7nb1, wants gsl&gt;=2\.8, plan gsl-2\.8"/,
    );
    expect(xml).toMatch(/<testsuite name="site-b&lt;img[^"]*" tests="1" failures="0" errors="1" skipped="0"/);
  });

  it('skips an ignored requirement', () => {
    const site = {
      ...desired([requirement('security/openssl', { state: 'latest' })]),
      ignores: [
        {
          pkgpath: 'security/openssl',
          kinds: undefined,
          reason: 'certified',
          until: undefined,
          source: { file: 's.yaml', line: 9, column: 1 },
        },
      ],
    };
    const observations = [observed(['openssl-3.0.13'])];
    const report = buildDriftReport({
      plan: buildPlan([site], observations, { specFile: 's.yaml', specDigest: 'sha256:0' }),
      observations: new Map([
        ['site-a', { observation: observations[0] as never, source: 'probed' as const }],
      ]),
      now: 0,
    });
    const xml = renderDrift(report, 'junit');
    expectWellFormedJunit(xml);
    expect(xml).toContain('<skipped message="ignored: certified">');
    expect(xml).toContain('skipped="1"');
  });

  it('drops the characters XML 1.0 forbids and escapes the specials', () => {
    expect(escapeXml(`a\ud800b\ufffec<&>"'\u0000`)).toBe('abc&lt;&amp;&gt;&quot;&#39;\\x00');
  });
});

describe('the HTML format', () => {
  const html = () => renderDrift(hostileReport(), 'html');

  it('shows a hostile package name as text: no element, no handler', () => {
    const page = html();
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/onerror=alert\(1\)>/);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expectSafe(page.replace(/\n/g, ' '), 'html');
  });

  it('is self-contained: no external source, and its policy allows only its own script', () => {
    const page = html();
    expect(page).not.toMatch(/<[^>]*\s(src|href|action)=/);
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] as string;
    const hash = createHash('sha256').update(script).digest('base64');
    expect(page).toContain(`script-src 'sha256-${hash}'`);
    expect(page).toContain("default-src 'none'");
    expect(page.match(/<script/g)?.length).toBe(1);
  });
});

it('renders every format from the same model', () => {
  const report = hostileReport();
  for (const format of DRIFT_FORMATS) expect(renderDrift(report, format).length).toBeGreaterThan(0);
});
