import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { TWO_FACTOR_ENROLMENT_CLAIM } from '../crypto/jwt.ts';
import { isIpOrCidr } from '../net/ip-list.ts';
import { readAuthProviders } from './auth-providers.ts';
import { parseDurationSeconds } from './duration.ts';
import { readOperationRates } from './rate-limits.ts';

// Every setting comes from the environment (and `.env`), is validated here once, and is passed
// down as a typed Config. Nothing else reads process.env. README's configuration table mirrors
// this file: change both together.

const OWASP_ARGON2 = { memoryKiB: 19456, timeCost: 2, parallelism: 1 } as const;
// Registered claims, and the one Gatehouse sets itself.
const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', TWO_FACTOR_ENROLMENT_CLAIM];

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const seconds = parseDurationSeconds(value);
      if (seconds === null) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 900, 15m, 1h or 7d' });
        return z.NEVER;
      }
      return seconds;
    });

/** A duration that may also be zero (`0`, `0s`): "none". */
const durationOrZero = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      if (/^\s*0+\s*[smhd]?\s*$/.test(value)) return 0;
      const seconds = parseDurationSeconds(value);
      if (seconds === null) {
        ctx.addIssue({ code: 'custom', message: 'expected 0 or a duration such as 5s, 1m' });
        return z.NEVER;
      }
      return seconds;
    });

const bool = (fallback: boolean | undefined) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'auto'])
    .optional()
    .transform((v) => (v === undefined || v === 'auto' ? fallback : ['true', '1', 'yes'].includes(v)));

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A positive limit, or `off` (null) to switch that limit off. */
const limitOrOff = (fallback: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      if (value.trim().toLowerCase() === 'off') return null;
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 1 || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from 1 to ${max}, or off` });
        return z.NEVER;
      }
      return n;
    });

const httpUrl = z
  .string()
  .url()
  .refine((v) => /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(4000, 0, 65535),
  PUBLIC_URL: httpUrl.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  EMBEDDED_POSTGRES_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a system account name (lowercase letters, digits, _ and -, up to 32)')
    .default('gatehouse-postgres'),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  DATABASE_CONNECT_TIMEOUT: duration('5s').refine((s) => s >= 1 && s <= 300, 'must be between 1s and 5m'),
  SHUTDOWN_TIMEOUT: duration('10s').refine((s) => s >= 1 && s <= 3600, 'must be between 1s and 1h'),
  SHUTDOWN_DRAIN_DELAY: durationOrZero('0s'),
  SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 48`)').optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  GRAPHIQL: bool(undefined),
  MAX_REQUEST_BODY_BYTES: int(102_400, 1024, 10_000_000),

  ADMIN_EMAIL: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),

  ACCESS_TOKEN_TTL: duration('15m'),
  REFRESH_TOKEN_TTL: duration('7d'),
  SESSION_COOKIE_TTL: duration('1d'),
  SESSION_MAX_AGE: duration('30d').refine((s) => s >= 3600, 'must be at least 1h'),
  PASSWORD_RESET_TTL: duration('1h'),
  JWT_AUDIENCE: z.string().min(1).default('gatehouse'),
  TWO_FACTOR_ISSUER: z.string().trim().min(1).max(64).default('Gatehouse'),
  JWT_ALGORITHM: z.enum(['EdDSA', 'ES256']).default('EdDSA'),
  JWT_POLICIES_CLAIM: z
    .string()
    .regex(/^[A-Za-z][\w:/.-]{0,63}$/, 'must be a claim name (letters, digits, _ : / . -)')
    .refine((v) => !RESERVED_CLAIMS.includes(v), `must not be one of ${RESERVED_CLAIMS.join(', ')}`)
    .default('policies'),
  SIGNING_KEY_RELOAD_INTERVAL: duration('10s'),
  SIGNING_KEY_ACTIVATION_DELAY: duration('5m'),
  REFRESH_REUSE_GRACE: duration('10s'),
  REVOCATION_POLL_INTERVAL: duration('1s'),
  ACCESS_SNAPSHOT_MAX_STALENESS: duration('60s').refine((s) => s >= 5 && s <= 3600, 'must be between 5s and 1h'),
  RETENTION_SWEEP_INTERVAL: duration('1h'),
  ENDED_SESSION_RETENTION: duration('30d').refine((s) => s >= 86400, 'must be at least 1d'),
  AUTH_EVENT_RETENTION: duration('90d').refine((s) => s >= 86400, 'must be at least 1d'),
  UNCONFIRMED_ACCOUNT_RETENTION: z
    .string()
    .default('7d')
    .transform((value, ctx) => {
      if (value.trim().toLowerCase() === 'off') return null;
      const seconds = parseDurationSeconds(value);
      if (seconds === null || seconds < 86400) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration of at least 1d (such as 7d), or off' });
        return z.NEVER;
      }
      return seconds;
    }),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,100}$/, 'must be letters, digits and _ : . - (at most 100)')
    .default('gatehouse'),
  TRUST_PROXY: z.string().optional(),

  PASSWORD_MIN_LENGTH: int(12, 8, 128),
  PASSWORD_MAX_LENGTH: int(128, 64, 1024),
  ARGON2_MEMORY_KIB: int(OWASP_ARGON2.memoryKiB, 8, 4_194_304),
  ARGON2_TIME_COST: int(OWASP_ARGON2.timeCost, 1, 100),
  ARGON2_PARALLELISM: int(OWASP_ARGON2.parallelism, 1, 16),
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  PASSWORD_HASH_QUEUE_TIMEOUT: duration('2s').refine((s) => s <= 60, 'must be at most 60s'),
  PASSWORD_HASH_QUEUE_LIMIT: int(256, 1, 100_000),
  // libuv reads it itself at start-up; read here only to size the hashing around it.
  UV_THREADPOOL_SIZE: int(4, 1, 1024),

  REFRESH_COOKIE_NAME: z
    .string()
    .regex(/^[\w-]+$/)
    .default('gatehouse_refresh_token'),
  SESSION_COOKIE_NAME: z
    .string()
    .regex(/^[\w-]+$/)
    .default('gatehouse_session_token'),
  COOKIE_SECURE: bool(undefined),
  COOKIE_SAME_SITE: z.enum(['lax', 'strict', 'none']).default('lax'),
  COOKIE_DOMAIN: z.string().optional(),
  COOKIE_PATH: z.string().startsWith('/').default('/'),

  PASSWORD_RESET_URL_ALLOW_LIST: z.string().optional(),
  USER_REGISTER_URL_ALLOW_LIST: z.string().optional(),
  USER_INVITE_URL_ALLOW_LIST: z.string().optional(),
  REGISTRATION_VERIFY_EMAIL: bool(true),
  EMAIL_VERIFICATION_TTL: duration('1d').refine((s) => s <= 30 * 86400, 'must be at most 30d'),
  USER_INVITE_TTL: duration('7d').refine((s) => s <= 30 * 86400, 'must be at most 30d'),
  EMAIL_CHANGE_TTL: duration('1h').refine((s) => s <= 7 * 86400, 'must be at most 7d'),
  EMAIL_FROM: z.string().default('Gatehouse <no-reply@localhost>'),
  EMAIL_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  EMAIL_SMTP_HOST: z.string().optional(),
  EMAIL_SMTP_PORT: int(587, 1, 65535),
  EMAIL_SMTP_USER: z.string().optional(),
  EMAIL_SMTP_PASSWORD: z.string().optional(),
  EMAIL_SMTP_SECURE: bool(false),
  EMAIL_SMTP_TIMEOUT: duration('10s').refine((s) => s >= 1 && s <= 600, 'must be between 1s and 10m'),
  EMAIL_RETRY_BASE: duration('10s').refine((s) => s <= 86400, 'must be at most 1d'),
  EMAIL_RETRY_MAX: duration('15m').refine((s) => s <= 7 * 86400, 'must be at most 7d'),
  EMAIL_MAX_ATTEMPTS: int(10, 1, 100),
  EMAIL_OUTBOX_POLL_INTERVAL: duration('5s').refine((s) => s <= 3600, 'must be at most 1h'),
  EMAIL_OUTBOX_SCOPE: z
    .string()
    .regex(/^[\w:.-]{1,100}$/, 'must be letters, digits and _ : . - (at most 100)')
    .default('default'),

  LOGIN_LOCKOUT_THRESHOLD: int(5, 1, 1000),
  LOGIN_LOCKOUT_WINDOW: duration('15m').refine((s) => s <= 86400, 'must be at most 1d'),
  LOGIN_LOCKOUT_BASE: duration('1m').refine((s) => s <= 86400, 'must be at most 1d'),
  LOGIN_LOCKOUT_MAX: duration('15m').refine((s) => s <= 86400, 'must be at most 1d'),
  // The in-memory store expires entries with timers, which top out at 24.8 days.
  LOGIN_KNOWN_IP_TTL: duration('14d').refine((s) => s <= 24 * 86400, 'must be at most 24d'),

  GRAPHQL_INTROSPECTION: bool(undefined),
  GRAPHQL_MAX_DEPTH: limitOrOff(8, 1000),
  GRAPHQL_MAX_ALIASES: limitOrOff(10, 1000),
  GRAPHQL_MAX_TOKENS: limitOrOff(1000, 100_000),
  GRAPHQL_MAX_DIRECTIVES: limitOrOff(20, 1000),
  GRAPHQL_MAX_COST: limitOrOff(10_000, 1_000_000),
  GRAPHQL_MAX_ENTITIES: limitOrOff(100, 10_000),
  CORS_ORIGINS: z.string().optional(),
  CORS_MAX_AGE: duration('10m'),
  CORS_ALLOW_HEADERS: z.string().optional(),
  AUTOMATIC_PERSISTED_QUERIES: bool(true),
  APQ_CACHE_MAX_BYTES: int(5_242_880, 1024, 1_073_741_824),
  PERSISTED_OPERATIONS_ONLY: bool(false),
  PERSISTED_OPERATIONS_MANIFEST: z.string().min(1).optional(),
  // Each provider's AUTH_<NAME>_* settings are read by readAuthProviders.
  AUTH_PROVIDERS: z.string().optional(),
});

/**
 * Request headers a browser on a CORS_ORIGINS origin may send: the standard set (JSON bodies,
 * bearer tokens, the CSRF-prevention headers) plus Apollo Client's client-awareness headers.
 */
export const DEFAULT_CORS_ALLOW_HEADERS = [
  'content-type',
  'authorization',
  'x-graphql-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'graphql-preflight',
  'apollographql-client-name',
  'apollographql-client-version',
] as const;

/** The variables read from the environment (the README's configuration table documents each). */
export const ENV_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type Env = Record<string, string | undefined>;

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment and reports every bad variable at once, by name. */
export function loadConfig(env: Env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const problems: string[] = [];
  const config = buildConfig(parsed.data, problems, cleaned);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function buildConfig(e: z.infer<typeof envSchema>, problems: string[], env: Env = {}) {
  const production = e.NODE_ENV === 'production';
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`);
  const publicBase = publicUrl.href.replace(/\/$/, '');

  if (e.PASSWORD_MIN_LENGTH > e.PASSWORD_MAX_LENGTH) {
    problems.push('PASSWORD_MIN_LENGTH: must not exceed PASSWORD_MAX_LENGTH');
  }
  // Weaker hashing than OWASP's minimum is only for fast test suites.
  if (e.NODE_ENV !== 'test') {
    if (e.ARGON2_MEMORY_KIB < OWASP_ARGON2.memoryKiB)
      problems.push(`ARGON2_MEMORY_KIB: must be at least ${OWASP_ARGON2.memoryKiB} outside NODE_ENV=test`);
    if (e.ARGON2_TIME_COST < OWASP_ARGON2.timeCost)
      problems.push(`ARGON2_TIME_COST: must be at least ${OWASP_ARGON2.timeCost} outside NODE_ENV=test`);
  }
  const admission = readHashAdmission(e, problems);
  if (production && !e.SECRET) problems.push('SECRET: required when NODE_ENV=production');
  if (production && publicUrl.protocol !== 'https:' && e.COOKIE_SECURE !== false) {
    problems.push(
      'PUBLIC_URL: must be https when NODE_ENV=production (or set COOKIE_SECURE=false behind a TLS-terminating proxy you trust)',
    );
  }
  const sameSite = e.COOKIE_SAME_SITE;
  const secure = e.COOKIE_SECURE ?? publicUrl.protocol === 'https:';
  if (sameSite === 'none' && !secure) problems.push('COOKIE_SAME_SITE: "none" requires COOKIE_SECURE=true');

  const resetAllowList = readUrlAllowList(
    'PASSWORD_RESET_URL_ALLOW_LIST',
    e.PASSWORD_RESET_URL_ALLOW_LIST,
    [`${publicBase}/reset-password`],
    problems,
  );
  // Registration links and email-change links share one list; unset, it holds Gatehouse's two pages.
  const registerAllowList = readUrlAllowList(
    'USER_REGISTER_URL_ALLOW_LIST',
    e.USER_REGISTER_URL_ALLOW_LIST,
    [`${publicBase}/verify-email`, `${publicBase}/confirm-email`],
    problems,
  );
  const inviteAllowList = readUrlAllowList(
    'USER_INVITE_URL_ALLOW_LIST',
    e.USER_INVITE_URL_ALLOW_LIST,
    [`${publicBase}/accept-invite`],
    problems,
  );

  const trustedProxies = (e.TRUST_PROXY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of trustedProxies) {
    if (!isIpOrCidr(entry)) problems.push(`TRUST_PROXY: "${entry}" is not an IP address or CIDR range`);
  }

  let smtp: { url: string } | { host: string; port: number; secure: boolean; user?: string; password?: string } | null = null;
  if (e.EMAIL_SMTP_URL) smtp = { url: e.EMAIL_SMTP_URL };
  else if (e.EMAIL_SMTP_HOST) {
    smtp = {
      host: e.EMAIL_SMTP_HOST,
      port: e.EMAIL_SMTP_PORT,
      secure: e.EMAIL_SMTP_SECURE ?? false,
      user: e.EMAIL_SMTP_USER,
      password: e.EMAIL_SMTP_PASSWORD,
    };
  }

  if (e.SHUTDOWN_DRAIN_DELAY >= e.SHUTDOWN_TIMEOUT) problems.push('SHUTDOWN_DRAIN_DELAY: must be shorter than SHUTDOWN_TIMEOUT');
  if (e.EMAIL_RETRY_BASE > e.EMAIL_RETRY_MAX) problems.push('EMAIL_RETRY_BASE: must not exceed EMAIL_RETRY_MAX');
  if (e.LOGIN_LOCKOUT_BASE > e.LOGIN_LOCKOUT_MAX) problems.push('LOGIN_LOCKOUT_BASE: must not exceed LOGIN_LOCKOUT_MAX');
  const corsOrigins = readCorsOrigins(e.CORS_ORIGINS, problems);
  const corsAllowHeaders = readHeaderNames(e.CORS_ALLOW_HEADERS, problems);
  if (e.PERSISTED_OPERATIONS_ONLY && !e.PERSISTED_OPERATIONS_MANIFEST)
    problems.push('PERSISTED_OPERATIONS_MANIFEST: required when PERSISTED_OPERATIONS_ONLY=true');
  if (!e.PERSISTED_OPERATIONS_ONLY && e.PERSISTED_OPERATIONS_MANIFEST)
    problems.push('PERSISTED_OPERATIONS_MANIFEST: only used with PERSISTED_OPERATIONS_ONLY=true');
  const operationRates = readOperationRates(env, problems);
  const authProviders = readAuthProviders(env, problems);

  const dataDir = path.resolve(e.DATA_DIR);
  return {
    env: e.NODE_ENV,
    production,
    host: e.HOST,
    port: e.PORT,
    publicUrl: publicBase,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? null,
    embeddedPostgresUser: e.EMBEDDED_POSTGRES_USER,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseConnectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT,
    shutdown: { timeoutSeconds: e.SHUTDOWN_TIMEOUT, drainDelaySeconds: e.SHUTDOWN_DRAIN_DELAY },
    secret: e.SECRET ?? null,
    logLevel: e.LOG_LEVEL,
    graphiql: e.GRAPHIQL ?? !production,
    maxRequestBodyBytes: e.MAX_REQUEST_BODY_BYTES,
    admin: { email: e.ADMIN_EMAIL ?? 'admin@example.com', password: e.ADMIN_PASSWORD ?? null },
    tokens: {
      issuer: publicBase,
      audience: e.JWT_AUDIENCE,
      accessTtlSeconds: e.ACCESS_TOKEN_TTL,
      refreshTtlSeconds: e.REFRESH_TOKEN_TTL,
      sessionTtlSeconds: e.SESSION_COOKIE_TTL,
      sessionMaxAgeSeconds: e.SESSION_MAX_AGE,
      resetTtlSeconds: e.PASSWORD_RESET_TTL,
      algorithm: e.JWT_ALGORITHM,
      policiesClaim: e.JWT_POLICIES_CLAIM,
      keyReloadSeconds: e.SIGNING_KEY_RELOAD_INTERVAL,
      keyActivationDelaySeconds: e.SIGNING_KEY_ACTIVATION_DELAY,
      refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE,
    },
    revocation: { pollSeconds: e.REVOCATION_POLL_INTERVAL },
    accessSnapshot: { maxStalenessSeconds: e.ACCESS_SNAPSHOT_MAX_STALENESS },
    retention: {
      sweepSeconds: e.RETENTION_SWEEP_INTERVAL,
      endedSessionSeconds: e.ENDED_SESSION_RETENTION,
      authEventSeconds: e.AUTH_EVENT_RETENTION,
      /** null: never delete unconfirmed accounts. */
      unconfirmedAccountSeconds: e.UNCONFIRMED_ACCOUNT_RETENTION,
    },
    metrics: { token: e.METRICS_TOKEN ?? null, port: e.METRICS_PORT ?? null },
    logFormat: e.LOG_FORMAT,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, prefix: e.REDIS_PREFIX } : null,
    trustedProxies,
    passwords: {
      minLength: e.PASSWORD_MIN_LENGTH,
      maxLength: e.PASSWORD_MAX_LENGTH,
      argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: e.ARGON2_PARALLELISM },
      admission,
    },
    cookies: {
      refreshName: e.REFRESH_COOKIE_NAME,
      sessionName: e.SESSION_COOKIE_NAME,
      secure,
      sameSite,
      domain: e.COOKIE_DOMAIN ?? null,
      path: e.COOKIE_PATH,
    },
    twoFactor: { issuer: e.TWO_FACTOR_ISSUER },
    passwordReset: { defaultUrl: resetAllowList[0] ?? `${publicBase}/reset-password`, allowList: resetAllowList },
    lifecycle: {
      verifyEmail: e.REGISTRATION_VERIFY_EMAIL ?? true,
      verificationTtlSeconds: e.EMAIL_VERIFICATION_TTL,
      inviteTtlSeconds: e.USER_INVITE_TTL,
      emailChangeTtlSeconds: e.EMAIL_CHANGE_TTL,
      registerAllowList,
      inviteAllowList,
      // The link when the caller names no page: Gatehouse's own page when the list holds it, else the list's first entry.
      verifyDefaultUrl: defaultEntry(registerAllowList, `${publicBase}/verify-email`),
      emailChangeDefaultUrl: defaultEntry(registerAllowList, `${publicBase}/confirm-email`),
      inviteDefaultUrl: defaultEntry(inviteAllowList, `${publicBase}/accept-invite`),
    },
    email: {
      from: e.EMAIL_FROM,
      smtp,
      smtpTimeoutSeconds: e.EMAIL_SMTP_TIMEOUT,
      outboxDir: path.join(dataDir, 'outbox'),
      retryBaseSeconds: e.EMAIL_RETRY_BASE,
      retryMaxSeconds: e.EMAIL_RETRY_MAX,
      maxAttempts: e.EMAIL_MAX_ATTEMPTS,
      pollSeconds: e.EMAIL_OUTBOX_POLL_INTERVAL,
      outboxScope: e.EMAIL_OUTBOX_SCOPE,
    },
    rateLimits: {
      operations: operationRates,
      lockout: {
        threshold: e.LOGIN_LOCKOUT_THRESHOLD,
        windowSeconds: e.LOGIN_LOCKOUT_WINDOW,
        baseSeconds: e.LOGIN_LOCKOUT_BASE,
        maxSeconds: e.LOGIN_LOCKOUT_MAX,
        knownIpTtlSeconds: e.LOGIN_KNOWN_IP_TTL,
      },
    },
    graphqlLimits: {
      introspection: e.GRAPHQL_INTROSPECTION ?? !production,
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxCost: e.GRAPHQL_MAX_COST,
      maxEntities: e.GRAPHQL_MAX_ENTITIES,
    },
    cors: { origins: corsOrigins, maxAgeSeconds: e.CORS_MAX_AGE, allowHeaders: corsAllowHeaders },
    persistedOperations: {
      // Trusted documents: only the manifest's operations run; APQ would let anyone add to it.
      only: e.PERSISTED_OPERATIONS_ONLY ?? false,
      manifest: e.PERSISTED_OPERATIONS_MANIFEST ? path.resolve(e.PERSISTED_OPERATIONS_MANIFEST) : null,
      automatic: !e.PERSISTED_OPERATIONS_ONLY && (e.AUTOMATIC_PERSISTED_QUERIES ?? true),
      apqCacheMaxBytes: e.APQ_CACHE_MAX_BYTES,
    },
    authProviders,
    // Browsers must keep to https once they have reached an https PUBLIC_URL.
    hsts: publicUrl.protocol === 'https:',
  };
}

/**
 * A comma-separated list of pages a mailed link may open (exact http(s) URLs without credentials);
 * unset, the given defaults. Each entry is compared whole by buildAllowedLink.
 */
function readUrlAllowList(name: string, value: string | undefined, defaults: string[], problems: string[]): string[] {
  const entries =
    value === undefined
      ? defaults
      : value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  for (const entry of entries) {
    try {
      const u = new URL(entry);
      if (!/^https?:$/.test(u.protocol) || u.username || u.password) throw new Error('bad');
    } catch {
      problems.push(`${name}: "${entry}" is not an http(s) URL without credentials`);
    }
  }
  return entries;
}

function defaultEntry(allowList: readonly string[], preferred: string): string {
  return allowList.includes(preferred) ? preferred : (allowList[0] ?? preferred);
}

/**
 * Admission control for password hashing (see HashGate). argon2 runs on libuv's thread pool, which
 * file system and DNS work share: by default as many hashes at once as there are cores, leaving at
 * least one pool thread free. From two slots up, a quarter (at least one) is reserved for the
 * priority lane (logins from an IP known to the account, signed-in users).
 */
function readHashAdmission(e: z.infer<typeof envSchema>, problems: string[]) {
  const poolShare = Math.max(1, e.UV_THREADPOOL_SIZE - 1);
  const concurrency = e.PASSWORD_HASH_CONCURRENCY ?? Math.max(1, Math.min(availableParallelism(), poolShare));
  if (concurrency > poolShare)
    problems.push(
      `PASSWORD_HASH_CONCURRENCY: must be at most ${poolShare} with UV_THREADPOOL_SIZE=${e.UV_THREADPOOL_SIZE} (leave libuv a thread for files and DNS), or raise UV_THREADPOOL_SIZE`,
    );
  return {
    concurrency,
    reserved: concurrency >= 2 ? Math.max(1, Math.floor(concurrency / 4)) : 0,
    queueTimeoutSeconds: e.PASSWORD_HASH_QUEUE_TIMEOUT,
    queueLimit: e.PASSWORD_HASH_QUEUE_LIMIT,
  };
}

/** Header names (RFC 9110 tokens), lower-cased; unset means DEFAULT_CORS_ALLOW_HEADERS. */
function readHeaderNames(value: string | undefined, problems: string[]): string[] {
  if (value === undefined) return [...DEFAULT_CORS_ALLOW_HEADERS];
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const name of names) {
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) problems.push(`CORS_ALLOW_HEADERS: "${name}" is not a header name`);
  }
  return [...new Set(names)];
}

/**
 * Exact origins (`https://app.example.com`, `http://localhost:5173`): scheme, host and port only.
 * `*` and `null` are refused, since every listed origin gets credentialed access.
 */
function readCorsOrigins(value: string | undefined, problems: string[]): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      if (/^https?:$/.test(url.protocol)) origin = url.origin;
    } catch {
      origin = null;
    }
    if (origin !== entry) problems.push(`CORS_ORIGINS: "${entry}" is not an exact origin such as https://app.example.com (no path, no *)`);
  }
  return entries;
}
