import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Injectable } from '@nestjs/common';

/** A file the dashboard serves (all of them are text), read once at boot. */
export interface Asset {
  body: string;
  type: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

const ASSETS = new URL('./assets/', import.meta.url);

const escapeAttribute = (text: string): string =>
  text.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page and its files, shipped in the package beside this file (scripts/copy-
 * dashboard-assets.mjs copies them at build): nothing comes from a CDN. Asset URLs in
 * the page carry a hash of their content, so a browser may cache them for a day and
 * still gets the new files after an upgrade.
 */
@Injectable()
export class DashboardAssets {
  private readonly files = new Map<string, Asset>();
  private readonly template: string;

  constructor() {
    for (const name of readdirSync(ASSETS)) {
      const type = TYPES[extname(name)];
      if (type) this.files.set(name, { body: readFileSync(new URL(name, ASSETS), 'utf8'), type });
    }
    this.template = readFileSync(new URL('index.html', ASSETS), 'utf8').replace(
      /(href|src)="assets\/([^"?]+)"/g,
      (whole, attribute: string, name: string) => {
        const asset = this.files.get(name);
        if (!asset) return whole;
        const hash = createHash('sha256').update(asset.body).digest('hex').slice(0, 12);
        return `${attribute}="assets/${name}?v=${hash}"`;
      },
    );
  }

  /** A file by name, or undefined: only files of the assets folder, never a path. */
  get(name: string): Asset | undefined {
    return this.files.get(name);
  }

  /**
   * The page, for the URL path it was asked at. Its files are linked relative to that
   * URL (`flume/assets/app.js` from `/api/flume`, `assets/app.js` from `/api/flume/`),
   * so the page works under any global prefix and behind a proxy that mounts the app
   * under a path of its own; app.js finds the API relative to its own URL. (A <base>
   * element would do the first, but would send the page's `#/...` links elsewhere.)
   */
  page(requestPath: string): string {
    const last = requestPath.split('?')[0].split('/').pop() ?? '';
    const prefix = last === '' ? '' : `${escapeAttribute(last)}/`;
    return this.template.replace(/(href|src)="assets\//g, `$1="${prefix}assets/`);
  }
}
