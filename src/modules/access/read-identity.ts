import type { Access } from './access.types.ts';

/**
 * Whose permissions decide which fields of a returned row show. Normally the request's viewer; a
 * mutation that signs someone in (login) or creates an account for an anonymous caller returns a
 * row that the request's (anonymous) access could not read, so it tags the row with the identity
 * that row is shown as: the account itself, under its own policies. Its id and email always show
 * there, so that a policy which hides them cannot make a login answer an error and lose its tokens.
 */
export interface ReadIdentity {
  access: Access;
  userId: string;
  /** Fields shown whatever the policies say: what the caller just proved or typed (id and email). */
  always: ReadonlySet<string>;
}

const READ_AS = Symbol('readAs');

export function readAs<T extends object>(row: T, identity: ReadIdentity): T {
  Object.defineProperty(row, READ_AS, { value: identity, enumerable: false });
  return row;
}

export function readIdentityOf(row: object): ReadIdentity | undefined {
  return (row as { [READ_AS]?: ReadIdentity })[READ_AS];
}
