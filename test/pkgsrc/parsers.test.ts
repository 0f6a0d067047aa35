import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PkgsrcError,
  parseAuditOutput,
  parsePkgInfoList,
  parsePkgSummary,
  parseVulnerabilityList,
  vulnerabilityChecksumInput,
} from '../../src/pkgsrc/index.js';
import { referenceText, referenceTranscript, transcriptStep } from './reference.js';

/** Expect fn to throw a PkgsrcError with this code, at this line, whose message matches. */
function expectError(fn: () => unknown, code: string, line: number | undefined, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PkgsrcError);
  const e = caught as PkgsrcError;
  expect(e.code).toBe(code);
  expect(e.line).toBe(line);
  expect(e.message).toMatch(message);
  if (line !== undefined) expect(e.message).toMatch(new RegExp(`^line ${line}: `));
}

describe('parsePkgSummary', () => {
  it('parses the example repository summary', () => {
    const records = parsePkgSummary(referenceText('pkg_summary-example.txt'));
    expect(records.map((r) => r.pkgname)).toEqual([
      'cmake-3.28.1',
      'fftw-3.3.10',
      'gsl-2.6',
      'gsl-2.7nb1',
      'gsl-2.8',
      'hdf5-1.12.2nb3',
      'hdf5-1.14.3',
      'openssl-3.0.13',
      'openssl-3.0.15',
      'py311-numpy-1.26.4',
      'python311-3.11.7',
      'root-6.30.02',
      'zlib-1.2.13',
      'zlib-1.3.1',
    ]);
    const root = records.find((r) => r.pkgname === 'root-6.30.02');
    expect(root).toMatchObject({
      pkgpath: 'math/root',
      comment: 'Object oriented framework for large scale data analysis',
      depends: ['fftw>=3', 'gsl>=2.7', 'python311>=3.11'],
      conflicts: [],
      description: 'root is a test package.\nIt has two lines of description.',
      categories: ['math'],
      fileName: 'root-6.30.02.tgz',
      fileSize: 801,
      sizePkg: undefined,
    });
    expect(root?.raw.OPSYS).toEqual(['Linux']);
    expect(root?.raw.DEPENDS).toHaveLength(3);
    expect(records[0]?.line).toBe(1);
    expect(records[0]?.depends).toEqual([]);
  });

  it('parses pkg_info -X of an installed package (no FILE_NAME / FILE_SIZE)', () => {
    const step = transcriptStep('pkg_install-transcript.txt', 'pkg_info -X gsl');
    const [gsl, ...rest] = parsePkgSummary(step.output);
    expect(rest).toEqual([]);
    expect(gsl).toMatchObject({
      pkgname: 'gsl-2.7nb1',
      pkgpath: 'math/gsl',
      fileName: undefined,
      fileSize: undefined,
    });
  });

  it('accepts empty input, several blank lines and a missing final newline', () => {
    expect(parsePkgSummary('')).toEqual([]);
    const two = parsePkgSummary(
      'PKGNAME=a-1\nPKGPATH=x/a\nCOMMENT=A\n\n\n\nPKGNAME=b-2\nPKGPATH=x/b\nCOMMENT=',
    );
    expect(two.map((r) => [r.pkgname, r.comment, r.line])).toEqual([
      ['a-1', 'A', 1],
      ['b-2', '', 7],
    ]);
  });

  it('keeps unknown keys and repeated list keys', () => {
    const [r] = parsePkgSummary(
      'PKGNAME=a-1\nPKGPATH=x/a\nCOMMENT=c\nX_NEW=1\nX_NEW=2\nCONFLICTS=b-[0-9]*\nSIZE_PKG=0\nDESCRIPTION=\n',
    );
    expect(r?.raw.X_NEW).toEqual(['1', '2']);
    expect(r?.conflicts).toEqual(['b-[0-9]*']);
    expect(r?.sizePkg).toBe(0);
    expect(r?.description).toBe('');
  });

  it.each([
    ['PKGNAME=a-1\nPKGPATH=x/a\nCOMMENT=c\nno equals sign\n', 4, /expected KEY=VALUE/],
    ['PKGNAME=a-1\npkgpath=x/a\n', 2, /bad key "pkgpath"/],
    ['PKGNAME=a-1\nPKGPATH=x/a\nCOMMENT=c\nPKGNAME=a-2\n', 4, /PKGNAME given twice/],
    ['\n\nPKGNAME=a-1\nCOMMENT=c\n', 3, /no PKGPATH/],
    ['PKGPATH=x/a\nCOMMENT=c\n', 1, /no PKGNAME/],
    ['PKGNAME=a-1\nPKGPATH=x/a\n', 1, /no COMMENT/],
    ['PKGNAME=a;rm -rf /\nPKGPATH=x/a\nCOMMENT=c\n', 1, /PKGNAME "a;rm -rf \/" is not a package name/],
    ['PKGNAME=gsl\nPKGPATH=x/a\nCOMMENT=c\n', 1, /PKGNAME "gsl" is not a package name/],
    ['PKGNAME=a-1\nPKGPATH=../a\nCOMMENT=c\n', 2, /PKGPATH "..\/a"/],
    [
      'PKGNAME=a-1\nPKGPATH=x/a\nCOMMENT=c\nDEPENDS=b>=1;ls\n',
      4,
      /DEPENDS "b>=1;ls" is not a package pattern/,
    ],
    ['PKGNAME=a-1\nPKGPATH=x/a\nCOMMENT=c\nFILE_SIZE=12k\n', 4, /FILE_SIZE "12k" is not a size/],
    [' PKGNAME=a-1\n', 1, /bad key " PKGNAME"/],
  ])('refuses malformed input %#', (text, line, message) => {
    expectError(() => parsePkgSummary(text), 'bad-summary', line, message);
  });
});

describe('parsePkgInfoList', () => {
  it('parses every pkg_info -a and -u listing of the transcripts', () => {
    const steps = [
      ...referenceTranscript('pkg_install-transcript.txt'),
      ...referenceTranscript('audit-transcript.txt'),
    ].filter((s) => s.command === 'pkg_info -a' || s.command === 'pkg_info -u');
    expect(steps.length).toBeGreaterThan(5);
    for (const step of steps) {
      const entries = parsePkgInfoList(step.output);
      expect(entries).toHaveLength(step.output.split('\n').length - 1);
    }
    const first = parsePkgInfoList(steps[0]?.output ?? '');
    expect(first).toContainEqual({
      pkgname: 'bootstrap-mk-files-20170802',
      comment: '*.mk files for the bootstrap bmake utility',
    });
    expect(first).toContainEqual({
      pkgname: 'pkg_install-20170419',
      comment: 'Package management and administration tools for pkgsrc',
    });
    expect(first).toContainEqual({
      pkgname: 'nawk-20121220nb1',
      comment: "Brian Kernighan's pattern-directed scanning and processing language",
    });
  });

  it('handles names of exactly 19 characters and empty comments', () => {
    const name19 = 'abcdefghijklmn-1.23';
    expect(name19).toHaveLength(19);
    expect(parsePkgInfoList(`${name19} C\n`)).toEqual([{ pkgname: name19, comment: 'C' }]);
    expect(parsePkgInfoList(`gsl-2.8${' '.repeat(13)}\n`)).toEqual([{ pkgname: 'gsl-2.8', comment: '' }]);
    expect(parsePkgInfoList('gsl-2.8             two  spaces')).toEqual([
      { pkgname: 'gsl-2.8', comment: 'two  spaces' },
    ]);
    expect(parsePkgInfoList('')).toEqual([]);
    // after a name of 20+ characters exactly one space: any further space belongs to the comment
    expect(parsePkgInfoList('pkg_install-20170419  x\n')).toEqual([
      { pkgname: 'pkg_install-20170419', comment: ' x' },
    ]);
  });

  it.each([
    ['gsl-2.8 GNU Scientific Library\n', 1, /column 21/],
    ['gsl-2.8\n', 1, /expected "NAME COMMENT"/],
    ['gsl-2.8             GNU\n\n', 2, /expected "NAME COMMENT"/],
    ['gsl                 GNU\n', 1, /"gsl" is not a package name/],
    ['gsl-2.8  GNU\n', 1, /column 21/],
    ['gsl-2.8\t            GNU\n', 1, /"gsl-2.8\\t" is not a package name/],
    ['$(reboot)-1         x\n', 1, /not a package name/],
  ])('refuses malformed input %#', (text, line, message) => {
    expectError(() => parsePkgInfoList(text), 'bad-pkg-info', line, message);
  });
});

describe('parseAuditOutput', () => {
  it('reads findings of pkg_admin audit and audit-pkg', () => {
    const audit = parseAuditOutput(transcriptStep('audit-transcript.txt', 'pkg_admin audit').output);
    expect(audit).toEqual({
      status: 'vulnerable',
      warnings: [],
      findings: [
        {
          pkgname: 'openssl-3.0.13',
          type: 'denial-of-service',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603',
          ignored: false,
        },
        {
          pkgname: 'openssl-3.0.13',
          type: 'buffer-overflow',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-5535',
          ignored: false,
        },
        {
          pkgname: 'python311-3.11.7',
          type: 'arbitrary-code-execution',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-0450',
          ignored: false,
        },
      ],
    });
    const pkg = parseAuditOutput(
      transcriptStep('audit-transcript.txt', 'pkg_admin audit-pkg openssl-3.0.13 zlib-1.2.13').output,
    );
    expect(pkg.findings.map((f) => f.pkgname)).toEqual(['openssl-3.0.13', 'openssl-3.0.13', 'zlib-1.2.13']);
  });

  it('reports a clean audit', () => {
    const step = transcriptStep('audit-transcript.txt', 'pkg_admin audit gsl');
    expect(parseAuditOutput(step.output)).toEqual({ status: 'clean', findings: [], warnings: [] });
  });

  it('tells the missing list apart from findings (both exit 1)', () => {
    const step = referenceTranscript('audit-transcript.txt').find((s) => s.command.startsWith('mv '));
    expect(step?.exit).toBe(1);
    expect(parseAuditOutput(step?.output ?? '')).toEqual({
      status: 'no-list',
      path: '/opt/vo/pkg/pkgdb/pkg-vulnerabilities',
      reason: 'No such file or directory',
      findings: [],
      warnings: [],
    });
  });

  it('reads ignored findings, end-of-life notices and warnings', () => {
    const r = parseAuditOutput(
      'pkg_admin: pkg-vulnerabilities is out of date (12 days old)\n' +
        'Package gsl-2.6 has an ignored remote-code-execution vulnerability, see https://example.org/1\n' +
        'Package gsl-2.6 has reached end-of-life (eol), see https://www.NetBSD.org/support/security/eol-packages\n',
    );
    expect(r.status).toBe('vulnerable');
    expect(r.warnings).toEqual(['pkg_admin: pkg-vulnerabilities is out of date (12 days old)']);
    expect(r.findings).toEqual([
      { pkgname: 'gsl-2.6', type: 'remote-code-execution', url: 'https://example.org/1', ignored: true },
      {
        pkgname: 'gsl-2.6',
        type: 'eol',
        url: 'https://www.NetBSD.org/support/security/eol-packages',
        ignored: false,
      },
    ]);
  });

  it.each([
    ["pkg_admin: SHA512 hash doesn't match\n", 1, /unrecognised pkg_admin audit output/],
    [
      'Package gsl-2.6 has a x vulnerability, see u\nPackage gsl-2.6 has a x vulnerability\n',
      2,
      /unrecognised/,
    ],
    ['Package gsl has a x vulnerability, see u\n', 1, /"gsl" is not a package name/],
    ['\n', 1, /unrecognised/],
    ['openssl-3.0.13\n', 1, /unrecognised/], // `pkg_admin -q audit` output is not accepted
    [
      'pkg_admin: Cannot open /p/pkg-vulnerabilities: No such file or directory\n' +
        'Package gsl-2.6 has a x vulnerability, see u\n',
      1,
      /findings reported although/,
    ],
  ])('refuses malformed output %#', (text, line, message) => {
    expectError(() => parseAuditOutput(text), 'bad-audit', line, message);
  });
});

describe('parseVulnerabilityList', () => {
  const text = referenceText('pkg-vulnerabilities');

  it('parses the reference list', () => {
    const list = parseVulnerabilityList(text);
    expect(list.format).toBe('1.1.0');
    expect(list.pgpSigned).toBe(false);
    expect(list.checksum).toEqual({
      algorithm: 'SHA512',
      digest:
        '462524ecfe6050ef6e1386551b61b2f2dc06ef6f0b4d4feedea9fd67784ce68acbed34e4e7e149ac396a51d57a0b51370f86b02808590072c8e2578590b8dbaf',
    });
    expect(list.entries).toHaveLength(5);
    expect(list.entries[0]).toEqual({
      pattern: 'openssl<3.0.14',
      type: 'denial-of-service',
      url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-4603',
      line: 8,
    });
  });

  it('selects exactly the text pkg_admin hashes for #CHECKSUM', () => {
    const digest = createHash('sha512').update(vulnerabilityChecksumInput(text)).digest('hex');
    expect(digest).toBe(parseVulnerabilityList(text).checksum?.digest);
    const tampered = text.replace('zlib<1.3', 'zlib<1.4');
    expect(createHash('sha512').update(vulnerabilityChecksumInput(tampered)).digest('hex')).not.toBe(digest);
  });

  it('reads a PGP clear-signed list up to the signature', () => {
    const body = text.replace(/^#CHECKSUM.*\n/m, '');
    const signed =
      '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n' +
      body +
      '-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n';
    const list = parseVulnerabilityList(signed);
    expect(list.pgpSigned).toBe(true);
    expect(list.checksum).toBeUndefined();
    expect(list.entries.map((e) => e.pattern)).toEqual([
      'openssl<3.0.14',
      'openssl<3.0.15',
      'zlib<1.3',
      'gsl<2.7',
      'python311<3.11.9',
    ]);
    expect(vulnerabilityChecksumInput(signed)).toBe(vulnerabilityChecksumInput(text));
  });

  it('ignores comments after #FORMAT, as pkg_admin does', () => {
    const list = parseVulnerabilityList('#FORMAT 1.1.0\n# a comment\n#\n#odd\n\ngsl<2\tx\thttps://u\n');
    expect(list.entries).toEqual([{ pattern: 'gsl<2', type: 'x', url: 'https://u', line: 6 }]);
  });

  const head = '# $NetBSD: x $\n#\n#FORMAT 1.1.0\n';
  it.each([
    ['# $NetBSD: x $\n# a comment before the format\n#FORMAT 1.1.0\n', 2, /invalid header line/],
    ['# $NetBSD: x $\ngsl<2 x u\n', 2, /malformed header/],
    ['#FORMAT 1.0.0\n', 1, /unsupported "#FORMAT 1.0.0"/],
    ['#FORMAT 1.1.0x\n', 1, /unsupported/],
    ['#\n#\n', 2, /no #FORMAT line/],
    [`${head}gsl<2\tx\thttps://u`, 4, /missing newline/],
    [`${head}gsl<2\n`, 4, /missing classification/],
    [`${head}gsl<2\tx\n`, 4, /missing URL/],
    [`${head}gsl<2\tx\tu\tmore\n`, 4, /extra fields/],
    [`${head}\tgsl<2\tx\tu\n`, 4, /starts with white space/],
    [`${head}gsl<2;id\tx\tu\n`, 4, /"gsl<2;id" is not a package pattern/],
    [`${head}{gsl<2\tx\tu\n`, 4, /is not a package pattern/],
    [`${head}#CHECKSUM SHA512 abc\n`, 4, /SHA512 digest has 3 hex digits, expected 128/],
    [`${head}#CHECKSUM MD5 ${'a'.repeat(32)}\n`, 4, /unsupported #CHECKSUM algorithm "MD5"/],
    [`${head}#CHECKSUM\n`, 4, /invalid #CHECKSUM/],
    [`${head}#CHECKSUM SHA1 ${'a'.repeat(40)}\n#CHECKSUM SHA1 ${'a'.repeat(40)}\n`, 5, /second #CHECKSUM/],
    [`${head}gsl<2\tx\tu\0\n`, 4, /NUL/],
  ])('refuses malformed list %#', (bad, line, message) => {
    expectError(() => parseVulnerabilityList(bad), 'bad-vulnerabilities', line, message);
  });
});
