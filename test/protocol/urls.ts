/**
 * Repository URLs, good and hostile, shared by the token tests (tokens.test.ts, request.test.ts) and the conformance
 * test of the script's `case` patterns (test/site-job/conformance.test.ts): both sides must agree on every one.
 */

/** URLs the protocol accepts as `repository`. */
export const GOOD_URLS: readonly string[] = [
  'http://h',
  'http://h/',
  'http://127.0.0.1:8080/All',
  'https://cdn.example.org/pkgsrc/All',
  'https://cdn.netbsd.org/pub/pkgsrc/packages/NetBSD/x86_64/10.0/All',
  'ftp://ftp.NetBSD.org/pub/pkgsrc/packages/All/',
  'http://h:0/x',
  'http://h:65535/x',
  'http://h:00080/x',
  'http://h/a+b,c/d_e-f.g',
  'http://h//x',
  'http://h/..x/x..',
  'http://a-b.c-d.example/x',
  'http://1.2.3.4/x',
];

/** URLs it refuses: shell metacharacters, credentials, queries, fragments, `..`, other schemes, bad ports. */
export const HOSTILE_URLS: readonly string[] = [
  'http://h/x;id',
  'http://h/$(id)',
  'http://h/`id`',
  'http://user:pw@h/',
  'http://user@h/',
  'http://h/a b',
  'http://h/../x',
  'http://h/x/..',
  'http://h/..',
  'file:///etc',
  'file://h/etc',
  'ssh://h/x',
  'HTTP://h/x',
  'http://h/?q=1',
  'http://h/x#frag',
  'http://h/%2e%2e/x',
  'http://h/x~y',
  'http://h:65536/x',
  'http://h:123456/x',
  'http://h:/x',
  'http://h:8a/x',
  'http://h:1:2/x',
  'http://',
  'http:///x',
  'http://-h/x',
  'http://.h/x',
  'http://h_x/x',
  'http://[::1]/x',
  'http:/h/x',
  'http:h',
  `http://h/${'x'.repeat(1024)}`,
];
