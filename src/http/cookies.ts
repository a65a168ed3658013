import { parse, type SerializeOptions, serialize } from 'cookie';
import type { Config } from '../config/config.ts';

export type CookieKind = 'refresh' | 'session';

export interface RequestCookies {
  refresh: string | null;
  session: string | null;
}

export function readAuthCookies(header: string | null, config: Config['cookies']): RequestCookies {
  if (!header) return { refresh: null, session: null };
  const cookies = parse(header);
  return { refresh: cookies[config.refreshName] || null, session: cookies[config.sessionName] || null };
}

/**
 * Set-Cookie headers for one response. Both cookies are HttpOnly, carry the configured SameSite,
 * Secure, Path and Domain, and are cleared with exactly the attributes they were set with.
 */
export class ResponseCookies {
  private readonly headers: string[] = [];

  constructor(private readonly config: Config['cookies']) {}

  set(kind: CookieKind, value: string, maxAgeSeconds: number): void {
    this.headers.push(serialize(this.name(kind), value, { ...this.attributes(), maxAge: maxAgeSeconds }));
  }

  clear(kind: CookieKind): void {
    this.headers.push(serialize(this.name(kind), '', { ...this.attributes(), maxAge: 0, expires: new Date(0) }));
  }

  toHeaders(): readonly string[] {
    return this.headers;
  }

  private name(kind: CookieKind): string {
    return kind === 'refresh' ? this.config.refreshName : this.config.sessionName;
  }

  private attributes(): SerializeOptions {
    return {
      httpOnly: true,
      secure: this.config.secure,
      sameSite: this.config.sameSite,
      path: this.config.path,
      ...(this.config.domain ? { domain: this.config.domain } : {}),
    };
  }
}
