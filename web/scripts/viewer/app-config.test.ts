import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { injectSessionScript, viewerAppConfigSource, viewerSessionScript } from './app-config';

interface ViewerConfig {
  routerBasename: string;
  defaultDataSourceName: string;
  dataSources: { namespace: string; sourceName: string; configuration: Record<string, unknown> }[];
  httpErrorHandler(error: { status: number }): void;
}

function evaluateConfig(origin = 'https://lake.example.org') {
  const posted: unknown[] = [];
  const parent = { postMessage: (message: unknown, target: string) => posted.push({ message, target }) };
  const window: Record<string, unknown> = { location: { origin }, parent };
  runInNewContext(viewerAppConfigSource(), { window });
  return { config: window.config as ViewerConfig, posted };
}

describe('viewer app-config.js', () => {
  it('serves OHIF under /viewer with one DICOMweb data source on the same origin', () => {
    const { config } = evaluateConfig();
    expect(config.routerBasename).toBe('/viewer');
    expect(config.dataSources).toHaveLength(1);
    const source = config.dataSources[0];
    expect(config.defaultDataSourceName).toBe(source?.sourceName);
    expect(source?.namespace).toBe('@ohif/extension-default.dataSourcesModule.dicomweb');
    expect(source?.configuration).toMatchObject({
      qidoRoot: 'https://lake.example.org/dicomweb',
      wadoRoot: 'https://lake.example.org/dicomweb',
      wadoUriRoot: 'https://lake.example.org/dicomweb',
      supportsFuzzyMatching: true,
      supportsWildcard: true,
      imageRendering: 'wadors',
      thumbnailRendering: 'wadors',
      enableStudyLazyLoad: true,
      staticWado: false,
      dicomUploadEnabled: false,
      omitQuotationForMultipartRequest: true,
      supportsStow: true,
    });
  });

  it('tells the embedding page when the session is no longer accepted', () => {
    const { config, posted } = evaluateConfig('http://localhost:3000');
    config.httpErrorHandler({ status: 500 });
    config.httpErrorHandler({ status: 401 });
    expect(posted).toEqual([{ message: { type: 'medlake:viewer-http-error', status: 401 }, target: 'http://localhost:3000' }]);
  });
});

describe('viewer session script', () => {
  /** Runs the script against a minimal XMLHttpRequest and fetch, as a browser page would. */
  function withScript(cookie: string) {
    const sent: { method: string; url: string; headers: Record<string, string> }[] = [];
    class FakeXhr {
      headers: Record<string, string> = {};
      method = '';
      url = '';
      open(method: string, url: string) {
        this.method = method;
        this.url = url;
      }
      setRequestHeader(name: string, value: string) {
        this.headers[name] = value;
      }
      send() {
        sent.push({ method: this.method, url: this.url, headers: this.headers });
      }
    }
    const fetched: { url: string; headers: Headers | undefined }[] = [];
    const window: Record<string, unknown> = {
      location: { href: 'https://lake.example.org/viewer/viewer?StudyInstanceUIDs=1', origin: 'https://lake.example.org' },
      fetch: (input: string, init?: { headers?: Headers }) => {
        fetched.push({ url: input, headers: init?.headers });
        return Promise.resolve();
      },
    };
    runInNewContext(viewerSessionScript, { window, document: { cookie }, XMLHttpRequest: FakeXhr, URL, Headers });
    const xhr = (method: string, url: string) => {
      const request = new FakeXhr();
      request.open(method, url);
      request.send();
    };
    return { sent, fetched, xhr, fetch: window.fetch as (input: string, init?: { method?: string }) => Promise<void> };
  }

  it('adds X-CSRF-Token from the medlake_csrf cookie to same-origin state-changing requests only', async () => {
    const page = withScript('other=1; medlake_csrf=t0k%2Ben');
    page.xhr('POST', '/dicomweb/studies');
    page.xhr('GET', '/dicomweb/studies');
    page.xhr('POST', 'https://elsewhere.example.com/dicomweb/studies');
    await page.fetch('/dicomweb/studies/1', { method: 'POST' });
    await page.fetch('/dicomweb/studies/1');
    expect(page.sent.map((r) => r.headers['X-CSRF-Token'])).toEqual(['t0k+en', undefined, undefined]);
    expect(page.fetched[0]?.headers?.get('X-CSRF-Token')).toBe('t0k+en');
    expect(page.fetched[1]?.headers).toBeUndefined();
  });

  it('sends nothing extra without a session', () => {
    const page = withScript('');
    page.xhr('POST', '/dicomweb/studies');
    expect(page.sent[0]?.headers).toEqual({});
  });

  it('is injected once, first in the head', () => {
    const html = '<!doctype html><html><head><meta charset="UTF-8"><script src="/viewer/app-config.js"></script></head></html>';
    const once = injectSessionScript(html, '/viewer/');
    expect(once).toContain('<head><script src="/viewer/medlake-session.js"></script><meta');
    expect(injectSessionScript(once, '/viewer/')).toBe(once);
  });
});
