// Single sign-on providers, Directus-style: AUTH_PROVIDERS names them, and each one's settings are
// AUTH_<NAME>_*. The names are chosen by the operator, so these variables are read here rather
// than spelled out in config.ts's zod schema; every problem is reported by variable name.

export type AuthDriver = 'openid' | 'oauth2';

export interface AuthProviderConfig {
  /** Lower-case name, as in AUTH_PROVIDERS and the login path /auth/login/<name>. */
  name: string;
  label: string;
  driver: AuthDriver;
  /** openid: the issuer discovered through /.well-known/openid-configuration. */
  issuerUrl: string | null;
  /** oauth2: the three endpoints. */
  authorizeUrl: string | null;
  tokenUrl: string | null;
  profileUrl: string | null;
  clientId: string;
  /** Never logged; null for a public client (PKCE alone). */
  clientSecret: string | null;
  scope: string;
  /** The claim or profile field holding the stable subject: the key of an identity. */
  identifierKey: string;
  emailKey: string;
  emailVerifiedKey: string;
  allowPublicRegistration: boolean;
  /** Link to an existing account by an email the provider asserts as verified. */
  trustEmail: boolean;
  defaultRoleId: string | null;
  defaultPolicies: string[];
  /** Exact URLs (scheme, host, port, path, query) a login may return to; the first is the default. */
  redirectAllowList: string[];
  /** `amr` values that count as a second factor: an account's own 2FA is then not asked again. */
  mfaAmr: string[];
  /** http endpoints are accepted only on loopback hosts (a provider running beside Gatehouse). */
  allowInsecureRequests: boolean;
}

/** The per-provider suffixes (AUTH_<NAME>_<SUFFIX>), for the README table test and error messages. */
export const AUTH_PROVIDER_SUFFIXES = [
  'DRIVER',
  'ISSUER_URL',
  'AUTHORIZE_URL',
  'TOKEN_URL',
  'PROFILE_URL',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'SCOPE',
  'IDENTIFIER_KEY',
  'EMAIL_KEY',
  'EMAIL_VERIFIED_KEY',
  'ALLOW_PUBLIC_REGISTRATION',
  'TRUST_EMAIL',
  'DEFAULT_ROLE_ID',
  'DEFAULT_POLICIES',
  'REDIRECT_ALLOW_LIST',
  'LABEL',
  'MFA_AMR',
] as const;

const NAME = /^[a-z][a-z0-9]{0,31}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = /^[A-Za-z_][\w.:-]{0,63}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function readAuthProviders(env: Record<string, string | undefined>, problems: string[]): AuthProviderConfig[] {
  const names = (env.AUTH_PROVIDERS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const providers: AuthProviderConfig[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (!NAME.test(name)) {
      problems.push(`AUTH_PROVIDERS: "${name}" is not a provider name (a letter, then letters and digits, at most 32)`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`AUTH_PROVIDERS: "${name}" is listed twice`);
      continue;
    }
    seen.add(name);
    const provider = readProvider(name, env, problems);
    if (provider) providers.push(provider);
  }
  return providers;
}

function readProvider(name: string, env: Record<string, string | undefined>, problems: string[]): AuthProviderConfig | null {
  const prefix = `AUTH_${name.toUpperCase()}_`;
  const get = (suffix: (typeof AUTH_PROVIDER_SUFFIXES)[number]) => {
    const value = env[prefix + suffix]?.trim();
    return value ? value : null;
  };
  const before = problems.length;
  const problem = (suffix: string, message: string) => problems.push(`${prefix}${suffix}: ${message}`);

  const driver = get('DRIVER');
  if (driver !== 'openid' && driver !== 'oauth2') problem('DRIVER', 'required: openid or oauth2');
  let insecure = false;
  const url = (suffix: 'ISSUER_URL' | 'AUTHORIZE_URL' | 'TOKEN_URL' | 'PROFILE_URL', required: boolean): string | null => {
    const value = get(suffix);
    if (!value) {
      if (required) problem(suffix, `required with DRIVER=${driver}`);
      return null;
    }
    try {
      const parsed = new URL(value);
      if (parsed.username || parsed.password || parsed.hash) throw new Error('credentials or fragment');
      if (parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname)) insecure = true;
      else if (parsed.protocol !== 'https:') throw new Error('not https');
      return parsed.href;
    } catch {
      problem(suffix, 'must be an https URL without credentials or fragment (http only on 127.0.0.1, ::1 or localhost)');
      return null;
    }
  };
  const issuerUrl = driver === 'openid' ? url('ISSUER_URL', true) : null;
  const authorizeUrl = driver === 'oauth2' ? url('AUTHORIZE_URL', true) : null;
  const tokenUrl = driver === 'oauth2' ? url('TOKEN_URL', true) : null;
  const profileUrl = driver === 'oauth2' ? url('PROFILE_URL', true) : null;
  for (const suffix of ['ISSUER_URL', 'AUTHORIZE_URL', 'TOKEN_URL', 'PROFILE_URL'] as const) {
    const used = driver === 'openid' ? suffix === 'ISSUER_URL' : suffix !== 'ISSUER_URL';
    if ((driver === 'openid' || driver === 'oauth2') && !used && get(suffix)) problem(suffix, `not used with DRIVER=${driver}`);
  }

  const clientId = get('CLIENT_ID');
  if (!clientId) problem('CLIENT_ID', 'required');
  const key = (suffix: 'IDENTIFIER_KEY' | 'EMAIL_KEY' | 'EMAIL_VERIFIED_KEY', fallback: string): string => {
    const value = get(suffix) ?? fallback;
    if (!KEY.test(value)) problem(suffix, 'must be a claim or field name');
    return value;
  };
  const identifierKey = key('IDENTIFIER_KEY', driver === 'oauth2' ? 'id' : 'sub');
  // An address can be given up and taken by someone else: the key of an identity must not be one.
  if (/e-?mail/i.test(identifierKey)) problem('IDENTIFIER_KEY', 'must name a stable subject (sub, id), not an email address');
  const emailKey = key('EMAIL_KEY', 'email');
  const emailVerifiedKey = key('EMAIL_VERIFIED_KEY', 'email_verified');

  const flag = (suffix: 'ALLOW_PUBLIC_REGISTRATION' | 'TRUST_EMAIL'): boolean => {
    const value = get(suffix)?.toLowerCase();
    if (value === undefined || value === null) return false;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    problem(suffix, 'expected true or false');
    return false;
  };
  const allowPublicRegistration = flag('ALLOW_PUBLIC_REGISTRATION');
  const trustEmail = flag('TRUST_EMAIL');

  const defaultRoleId = get('DEFAULT_ROLE_ID');
  if (defaultRoleId && !UUID.test(defaultRoleId)) problem('DEFAULT_ROLE_ID', 'must be a role id (a lower-case UUID)');
  const defaultPolicies = list(get('DEFAULT_POLICIES'));

  const redirectAllowList = list(get('REDIRECT_ALLOW_LIST'));
  if (redirectAllowList.length === 0) problem('REDIRECT_ALLOW_LIST', 'required: the app URLs a login may return to');
  for (const entry of redirectAllowList) {
    try {
      const u = new URL(entry);
      if (!/^https?:$/.test(u.protocol) || u.username || u.password || u.hash) throw new Error('bad');
    } catch {
      problem('REDIRECT_ALLOW_LIST', `"${entry}" is not an http(s) URL without credentials or fragment`);
    }
  }

  const scope = get('SCOPE') ?? (driver === 'openid' ? 'openid email profile' : 'email');
  if (driver === 'openid' && !scope.split(/\s+/).includes('openid')) problem('SCOPE', 'must include openid with DRIVER=openid');
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope)) problem('SCOPE', 'must be scope tokens separated by spaces');
  const label = get('LABEL') ?? name.charAt(0).toUpperCase() + name.slice(1);
  if (label.length > 64) problem('LABEL', 'must be at most 64 characters');
  const mfaAmr = list(get('MFA_AMR'));
  if (driver === 'oauth2' && mfaAmr.length > 0) problem('MFA_AMR', 'only an OpenID provider asserts amr (DRIVER=openid)');

  if (problems.length > before) return null;
  return {
    name,
    label,
    driver: driver as AuthDriver,
    issuerUrl,
    authorizeUrl,
    tokenUrl,
    profileUrl,
    clientId: clientId as string,
    clientSecret: get('CLIENT_SECRET'),
    scope,
    identifierKey,
    emailKey,
    emailVerifiedKey,
    allowPublicRegistration,
    trustEmail,
    defaultRoleId,
    defaultPolicies,
    redirectAllowList,
    mfaAmr,
    allowInsecureRequests: insecure,
  };
}

function list(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
