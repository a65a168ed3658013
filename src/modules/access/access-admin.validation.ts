import { isUuid } from '../../crypto/tokens.ts';
import { badInput } from '../../errors.ts';
import { isIpOrCidr } from '../../net/ip-list.ts';
import type { Access, FilterVariables } from './access.types.ts';

/**
 * Input checks shared by the roles, policies and permissions admin services. They take `unknown`
 * because a permission's presets (any JSON) are laid over the typed input before they run.
 * Messages name the field and the rule, never the value.
 */

/** The caller of an admin operation, as the access services need it. */
export interface AccessActor {
  access: Access;
  userId: string | null;
  /** The session the request came with, if any (so a password change can keep it). */
  sessionId: string | null;
}

export const filterVars = (actor: AccessActor): FilterVariables => ({ userId: actor.userId });

/** Lists never return more rows than this; the admin data sets are small. */
export const MAX_LIST = 500;
export const MAX_IDS = 100;
const MAX_NAME = 100;
const MAX_DESCRIPTION = 500;
const MAX_IP_ENTRIES = 100;

/** Control, format and line/paragraph separator characters: not printable in a name. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Descriptions may span lines; other control characters are refused. */
const UNPRINTABLE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\p{Cf}]/u;

/** A UUID, lower-cased; null for anything else (callers answer NOT_FOUND or null). */
export function parseId(value: unknown): string | null {
  const id = typeof value === 'string' ? value.toLowerCase() : null;
  return isUuid(id) ? id : null;
}

/** Names of roles and policies: 1 to 100 printable characters after trimming. */
export function checkName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string') throw badInput(field, 'is required');
  const name = value.trim();
  const length = [...name].length;
  if (length === 0 || length > MAX_NAME || UNPRINTABLE.test(name)) throw badInput(field, `must be 1 to ${MAX_NAME} printable characters`);
  return name;
}

/** An optional description of at most 500 characters; empty becomes null. */
export function checkDescription(value: unknown, field = 'description'): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw badInput(field, 'must be a string');
  const text = value.trim();
  if ([...text].length > MAX_DESCRIPTION || UNPRINTABLE_TEXT.test(text))
    throw badInput(field, `must be at most ${MAX_DESCRIPTION} printable characters`);
  return text || null;
}

export function checkBoolean(value: unknown, field: string): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== 'boolean') throw badInput(field, 'must be true or false');
  return value;
}

/** IP addresses and CIDR ranges (IPv4 and IPv6), at most 100, duplicates dropped. */
export function checkIpAllowList(value: unknown, field = 'ipAllowList'): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_IP_ENTRIES) throw badInput(field, `must be a list of at most ${MAX_IP_ENTRIES} entries`);
  const entries = value.map((entry) => (typeof entry === 'string' ? entry.trim() : ''));
  if (entries.some((entry) => entry.length > 64 || !isIpOrCidr(entry)))
    throw badInput(field, 'entries must be IP addresses or CIDR ranges (e.g. 10.0.0.0/8)');
  return [...new Set(entries)];
}

/**
 * A list of ids of rows that must exist: anything that is not a UUID is reported like an id that
 * names nothing (`what` says which kind of row). Duplicates are dropped.
 */
export function checkIdList(value: unknown, field: string, what: string): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_IDS) throw badInput(field, `must be a list of at most ${MAX_IDS} ids`);
  const ids = value.map(parseId);
  if (ids.some((id) => id === null)) throw badInput(field, `names a ${what} that does not exist`);
  return [...new Set(ids as string[])];
}

/** One optional id of a row that must exist; null clears it. */
export function checkOptionalId(value: unknown, field: string, what: string): string | null {
  if (value === null || value === undefined) return null;
  const id = parseId(value);
  if (!id) throw badInput(field, `names a ${what} that does not exist`);
  return id;
}
