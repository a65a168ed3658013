import { parse } from 'cookie';

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  httpOnly: boolean;
  sameSite: string | null;
  maxAge: number | null;
}

/**
 * Just enough of a browser for redirect flows: a cookie jar (host and path scoped, as browsers
 * scope cookies; ports share a host's cookies, as in browsers), redirects followed one by one, and
 * HTML forms submitted. Stops at the app: the first URL under `appPrefix` is returned unfetched.
 */
export class TestBrowser {
  readonly cookies: StoredCookie[] = [];
  /** Every Set-Cookie seen, raw, for assertions on attributes. */
  readonly setCookies: string[] = [];

  constructor(private readonly appPrefix: string) {}

  async fetch(url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers();
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    if (init.body) headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await fetch(target, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    for (const header of response.headers.getSetCookie()) this.store(target, header);
    return response;
  }

  /**
   * Follows redirects from `url`; on a provider page with a sign-in form, signs in as `login`; on
   * a consent form, consents. Returns the app URL reached (unfetched), or the last response.
   */
  async navigate(url: string, login: string | null = null): Promise<{ appUrl: URL | null; response: Response | null }> {
    let next: { url: string; method?: string; body?: URLSearchParams } | null = { url };
    for (let hops = 0; next && hops < 20; hops += 1) {
      if (next.url.startsWith(this.appPrefix)) return { appUrl: new URL(next.url), response: null };
      const response = await this.fetch(next.url, next);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        next = { url: new URL(location, next.url).href };
        continue;
      }
      const type = response.headers.get('content-type') ?? '';
      if (response.status === 200 && type.startsWith('text/html')) {
        const form = readForm(await response.text(), next.url);
        if (form?.fields.has('login') || form?.inputs.includes('login')) {
          if (login === null) return { appUrl: null, response };
          form.fields.set('login', login);
          form.fields.set('password', 'any password');
          next = { url: form.action, method: 'POST', body: form.fields };
          continue;
        }
        if (form && form.fields.get('prompt') === 'consent') {
          next = { url: form.action, method: 'POST', body: form.fields };
          continue;
        }
      }
      return { appUrl: null, response };
    }
    throw new Error('too many redirects');
  }

  cookie(name: string): StoredCookie | undefined {
    return this.cookies.find((c) => c.name === name);
  }

  cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (c) =>
          c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, header: string): void {
    this.setCookies.push(header);
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const attrs = parse(attributes.join(';'));
    const lower = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k.toLowerCase(), v]));
    const path = lower.path ?? '/';
    const maxAge = lower['max-age'] !== undefined ? Number(lower['max-age']) : null;
    const expired = maxAge !== null ? maxAge <= 0 : lower.expires !== undefined && new Date(lower.expires).getTime() < Date.now();
    const index = this.cookies.findIndex((c) => c.name === name && c.path === path && c.host === url.hostname);
    if (index !== -1) this.cookies.splice(index, 1);
    if (expired) return;
    this.cookies.push({
      name,
      value,
      host: url.hostname,
      path,
      httpOnly: /;\s*httponly/i.test(header),
      sameSite: lower.samesite ?? null,
      maxAge,
    });
  }
}

function readForm(html: string, base: string): { action: string; fields: URLSearchParams; inputs: string[] } | null {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const fields = new URLSearchParams();
  const inputs: string[] = [];
  for (const input of form[2]?.matchAll(/<input([^>]*)>/gi) ?? []) {
    const attrs = input[1] ?? '';
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    if (!name) continue;
    inputs.push(name);
    const value = /value="([^"]*)"/.exec(attrs)?.[1];
    if (value !== undefined) fields.set(name, decode(value));
  }
  return { action: new URL(decode(form[1] ?? ''), base).href, fields, inputs };
}

function decode(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/g, '/')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
