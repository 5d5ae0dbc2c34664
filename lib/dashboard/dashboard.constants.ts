/** Injection token of the options given to forRoot / forRootAsync. */
export const FLUME_DASHBOARD_OPTIONS = Symbol('FLUME_DASHBOARD_OPTIONS');
/** Injection token of the options with defaults applied (internal). */
export const FLUME_DASHBOARD_RESOLVED = Symbol('FLUME_DASHBOARD_RESOLVED');

/** The header the page sends with every action: a cross-site form cannot send it. */
export const ACTION_HEADER = 'x-flume-dashboard';

/** Response headers of every page, asset and API answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
