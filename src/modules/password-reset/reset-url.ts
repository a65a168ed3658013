import { badInput } from '../../errors.ts';

/** scheme://host:port/path of a URL, with the port always explicit so 443 and "" compare equal. */
function originAndPath(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname}:${port}${url.pathname}`;
}

/**
 * Builds the link a reset mail carries. `requested` must equal an allow-list entry in scheme,
 * host, port, path and query, compared as parsed URLs: no prefix matching, no credentials, no
 * fragment, and no query but the entry's own, so a caller cannot smuggle parameters (say
 * `next=https://evil.example`) into a link that Gatehouse mails. The link is the entry's URL with
 * the token added (replacing any `token` the entry has).
 */
export function buildResetLink(
  requested: string | null | undefined,
  allowList: readonly string[],
  fallback: string,
  token: string,
): string {
  const url = parseResetUrl(requested ?? fallback);
  const entry = allowList.map((e) => new URL(e)).find((e) => originAndPath(e) === originAndPath(url) && e.search === url.search);
  if (!entry) throw badInput('resetUrl', 'is not in PASSWORD_RESET_URL_ALLOW_LIST');
  const link = new URL(entry.href);
  link.searchParams.set('token', token);
  return link.href;
}

/** Throws BAD_USER_INPUT unless the URL is acceptable; used before any account lookup. */
export function checkResetUrl(requested: string | null | undefined, allowList: readonly string[], fallback: string): void {
  buildResetLink(requested, allowList, fallback, 'check');
}

function parseResetUrl(raw: string): URL {
  let url: URL;
  try {
    if (raw.length > 2048) throw new Error('too long');
    url = new URL(raw);
  } catch {
    throw badInput('resetUrl', 'must be an absolute http(s) URL');
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.hash) {
    throw badInput('resetUrl', 'must be an http(s) URL without credentials or fragment');
  }
  return url;
}
