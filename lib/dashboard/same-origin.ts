import { ACTION_HEADER } from './dashboard.constants.js';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why an action request may come from another site, or undefined when it comes from
 * the dashboard's own page. Browsers say where a request comes from in
 * `Sec-Fetch-Site` (which no page can set), older ones in `Origin`, checked against
 * `Host`; and the page sends a header that a form on another site cannot, and that
 * a script there can send only after a CORS preflight the app would have to allow.
 */
export function crossSiteProblem(headers: Headers): string | undefined {
  const site = header(headers, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site: ${site}`;
  const origin = header(headers, 'origin');
  if (site === undefined && origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      return `Origin: ${origin}`;
    }
    if (host !== header(headers, 'host')) return `Origin: ${origin}`;
  }
  if (header(headers, ACTION_HEADER) !== '1') return `no ${ACTION_HEADER} header`;
  return undefined;
}
