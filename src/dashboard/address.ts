// The --dashboard value (ADDR:PORT, PORT, [v6]:PORT, or the bare flag) and the URL a browser uses for it.
import { DEFAULT_DASHBOARD_PORT, DEFAULT_LISTEN_HOST, parseListenAddress, type ListenAddress } from '../options';

export type { ListenAddress } from '../options';

export const DEFAULT_DASHBOARD_HOST = DEFAULT_LISTEN_HOST;
export { DEFAULT_DASHBOARD_PORT } from '../options';

/** `true` is what commander gives for a bare `--dashboard`: loopback on the default port (src/options.ts has the rules). */
export function parseDashboardAddress(value: string | true | undefined): ListenAddress {
  return parseListenAddress(value, '--dashboard', DEFAULT_DASHBOARD_PORT);
}

/** The URL a browser uses for a listening address (IPv6 in brackets; the wildcard shown as loopback). */
export function dashboardUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;
}
