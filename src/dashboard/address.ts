// Parses the --dashboard value (ADDR:PORT, PORT, [v6]:PORT, or the bare flag) into where the server listens.

export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
export const DEFAULT_DASHBOARD_PORT = 8080;

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `true` is what commander gives for a bare `--dashboard`. The host defaults to loopback: a page that shows
 * the traffic of the machine must not be reachable from the network unless someone asks for it. An IPv6
 * address needs brackets, since "::1:8080" could be read two ways.
 */
export function parseDashboardAddress(value: string | true | undefined): ListenAddress {
  if (value === true || value === undefined || value === '') return { host: DEFAULT_DASHBOARD_HOST, port: DEFAULT_DASHBOARD_PORT };
  const bad = (why: string) =>
    Object.assign(new Error(`--dashboard expects ADDR:PORT, PORT or [IPv6]:PORT (${why}), got "${value}"`), { code: 'ERR_INVALID_ARG' });
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(value);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (!host.includes(':')) throw bad('brackets are for IPv6 addresses');
  } else if (/^\d+$/.test(value)) {
    host = DEFAULT_DASHBOARD_HOST;
    portText = value;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw bad('missing port');
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) throw bad('put an IPv6 address in brackets');
    if (host === '') host = DEFAULT_DASHBOARD_HOST;
  }
  if (!/^\d+$/.test(portText)) throw bad('port is not a number');
  const port = Number(portText);
  if (port > 65535) throw bad('port out of range');
  if (host === '' || /[\s/]/.test(host)) throw bad('bad host');
  return { host, port };
}

/** The URL a browser uses for a listening address (IPv6 in brackets; the wildcard shown as loopback). */
export function dashboardUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;
}
