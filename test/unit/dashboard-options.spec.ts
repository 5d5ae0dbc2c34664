import { describe, expect, it } from 'vitest';
import { resolveDashboardOptions } from '../../lib/dashboard/dashboard-options.js';
import { crossSiteProblem } from '../../lib/dashboard/same-origin.js';

const guard = { canActivate: () => true };

describe('resolveDashboardOptions', () => {
  it('is read-only without a guard, with one allows actions unless readOnly', () => {
    expect(resolveDashboardOptions({})).toEqual({
      path: '/flume',
      guards: [],
      actions: false,
      unguardedActions: false,
      queues: [],
      refreshInterval: 3_000,
    });
    expect(resolveDashboardOptions({ guards: [guard] })).toMatchObject({ actions: true });
    expect(resolveDashboardOptions({ guards: [guard], readOnly: true }).actions).toBe(false);
    expect(resolveDashboardOptions({ dangerouslyAllowActionsWithoutGuards: true })).toMatchObject({
      actions: true,
      unguardedActions: true,
    });
    expect(
      resolveDashboardOptions({ dangerouslyAllowActionsWithoutGuards: true, readOnly: true })
        .actions,
    ).toBe(false);
  });

  it('refuses readOnly: false without a guard, saying how to fix it', () => {
    expect(() => resolveDashboardOptions({ readOnly: false })).toThrow(
      /readOnly: false needs a guard.*guards: \[YourAdminGuard\].*dangerouslyAllowActionsWithoutGuards/,
    );
  });

  it('takes a path of plain segments, without its trailing slash', () => {
    expect(resolveDashboardOptions({ path: '/admin/queues/' }).path).toBe('/admin/queues');
    for (const path of ['/', '', 'flume', '/:queue', '/a/*', '/a b', '/a?b', 42]) {
      expect(() => resolveDashboardOptions({ path: path as string }), String(path)).toThrow(
        'Invalid option "path" of FlumeDashboardModule',
      );
    }
  });

  it('names an unknown or ill-typed option', () => {
    expect(() => resolveDashboardOptions({ guard: [guard] } as never)).toThrow(
      'Unknown option "guard" of FlumeDashboardModule. Known options:',
    );
    expect(() => resolveDashboardOptions({ guards: ['AdminGuard'] } as never)).toThrow(
      'Invalid option "guards"',
    );
    expect(() => resolveDashboardOptions({ readOnly: 'yes' } as never)).toThrow(
      'Invalid option "readOnly" of FlumeDashboardModule: expected a boolean, got: "yes"',
    );
    expect(() => resolveDashboardOptions({ queues: ['a b'] })).toThrow('Invalid option "queues"');
    expect(() => resolveDashboardOptions({ refreshInterval: 10 })).toThrow(
      'Invalid option "refreshInterval"',
    );
  });
});

describe('crossSiteProblem', () => {
  const page = { 'x-flume-dashboard': '1' };

  it("lets through the page's own requests and non-browser clients that send the header", () => {
    expect(crossSiteProblem({ ...page, 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(crossSiteProblem({ ...page, origin: 'http://a.test:3000', host: 'a.test:3000' })).toBe(
      undefined,
    );
    expect(crossSiteProblem(page)).toBeUndefined();
  });

  it('refuses another site, by Fetch Metadata first, then by Origin', () => {
    for (const site of ['cross-site', 'same-site', 'none']) {
      expect(crossSiteProblem({ ...page, 'sec-fetch-site': site })).toBe(`Sec-Fetch-Site: ${site}`);
    }
    expect(crossSiteProblem({ ...page, origin: 'http://evil.test', host: 'a.test' })).toBe(
      'Origin: http://evil.test',
    );
    expect(crossSiteProblem({ ...page, origin: 'null', host: 'a.test' })).toBe('Origin: null');
  });

  it("refuses a request without the page's header (a form on another site cannot send one)", () => {
    expect(crossSiteProblem({ 'sec-fetch-site': 'same-origin' })).toBe(
      'no x-flume-dashboard header',
    );
    expect(crossSiteProblem({ 'x-flume-dashboard': 'yes' })).toBe('no x-flume-dashboard header');
  });
});
