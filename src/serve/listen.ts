/**
 * Where the service listens: `--listen HOST:PORT` (`[::1]:9090` for IPv6, a bare `PORT` for 127.0.0.1). The default
 * is loopback only; any other address must be named, and is served without a token only with a warning.
 */
import { isIP } from 'node:net';
import { TerminalError } from '../model/errors.js';
import { printable } from '../report/untrusted.js';

export const DEFAULT_LISTEN = '127.0.0.1:9090';

export interface ListenAddress {
  host: string;
  port: number;
  /** Only this machine can connect (127.0.0.0/8, ::1, localhost). */
  loopback: boolean;
}

export class ListenAddressError extends TerminalError {
  override name = 'ListenAddressError';
}

export function parseListenAddress(value: string): ListenAddress {
  const text = value.trim();
  const match =
    /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] || match?.[2] || (match ? '127.0.0.1' : '');
  if (!match || port > 65535 || (match[1] !== undefined && match[1] !== '' && isIP(host) !== 6))
    throw new ListenAddressError(
      `cannot listen on ${JSON.stringify(value)}: expected HOST:PORT (127.0.0.1:9090, [::1]:9090, 0.0.0.0:9090) or a port`,
    );
  return { host, port, loopback: isLoopback(host) };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The URL a client uses for the address the server got (the port is known only after listening on port 0). */
export function urlOf(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`;
}

/** What to warn about before serving: a report open to the network, a token others can read. */
export function exposureWarnings(
  address: ListenAddress,
  given: string,
  token: { readableByOthers: boolean } | undefined,
  tokenFile: string | undefined,
): string[] {
  const warnings: string[] = [];
  if (token?.readableByOthers)
    warnings.push(`the token file ${printable(tokenFile ?? '')} can be read by other users (chmod 600 it)`);
  if (!address.loopback && token === undefined)
    warnings.push(
      `listening on ${printable(given)} without --token-file: anyone who can reach this address can read the report ` +
        '(sites, installed versions, vulnerabilities). Give --token-file FILE, or listen on 127.0.0.1 behind an ' +
        'authenticating reverse proxy.',
    );
  return warnings;
}

/** The names a browser on this machine uses for a loopback service: localhost, 127.x.y.z, ::1. */
export function loopbackHostAllowed(name: string): boolean {
  return name === 'localhost' || isLoopback(name);
}
