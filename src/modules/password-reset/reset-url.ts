import { badInput } from '../../errors.ts';

/** scheme://host:port/path of a URL, with the port always explicit so 443 and "" compare equal. */
function originAndPath(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname}:${port}${url.pathname}`;
}

/**
 * Builds the link a reset mail carries. `requested` must equal an allow-list entry in scheme,
 * host, port and path, compared as parsed URLs: no prefix matching, no credentials, no fragment.
 */
export function buildResetLink(
  requested: string | null | undefined,
  allowList: readonly string[],
  fallback: string,
  token: string,
): string {
  const url = parseResetUrl(requested ?? fallback);
  const allowed = allowList.some((entry) => originAndPath(new URL(entry)) === originAndPath(url));
  if (!allowed) throw badInput('resetUrl', 'is not in PASSWORD_RESET_URL_ALLOW_LIST');
  url.searchParams.set('token', token);
  return url.href;
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
