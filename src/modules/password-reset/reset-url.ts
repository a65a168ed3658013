import { badInput } from '../../errors.ts';

/** scheme://host:port/path of a URL, with the port always explicit so 443 and "" compare equal. */
function originAndPath(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname}:${port}${url.pathname}`;
}

/** Which argument and which allow-list a link comes from, for the error messages. */
export interface LinkSource {
  field: string;
  allowListName: string;
}

const RESET_LINK: LinkSource = { field: 'resetUrl', allowListName: 'PASSWORD_RESET_URL_ALLOW_LIST' };

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
  return buildAllowedLink(requested, allowList, fallback, token, RESET_LINK);
}

/** buildResetLink for any mailed link (verification, invitation, email change) and its own allow-list. */
export function buildAllowedLink(
  requested: string | null | undefined,
  allowList: readonly string[],
  fallback: string,
  token: string,
  source: LinkSource,
): string {
  const url = parseLinkUrl(requested ?? fallback, source.field);
  const entry = allowList.map((e) => new URL(e)).find((e) => originAndPath(e) === originAndPath(url) && e.search === url.search);
  if (!entry) throw badInput(source.field, `is not in ${source.allowListName}`);
  const link = new URL(entry.href);
  link.searchParams.set('token', token);
  return link.href;
}

/** Throws BAD_USER_INPUT unless the URL is acceptable; used before any account lookup. */
export function checkResetUrl(requested: string | null | undefined, allowList: readonly string[], fallback: string): void {
  buildResetLink(requested, allowList, fallback, 'check');
}

/** checkResetUrl for any mailed link: throws BAD_USER_INPUT naming `source.field`; call it before any lookup. */
export function checkAllowedUrl(
  requested: string | null | undefined,
  allowList: readonly string[],
  fallback: string,
  source: LinkSource,
): void {
  buildAllowedLink(requested, allowList, fallback, 'check', source);
}

function parseLinkUrl(raw: string, field: string): URL {
  let url: URL;
  try {
    if (raw.length > 2048) throw new Error('too long');
    url = new URL(raw);
  } catch {
    throw badInput(field, 'must be an absolute http(s) URL');
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.hash) {
    throw badInput(field, 'must be an http(s) URL without credentials or fragment');
  }
  return url;
}
