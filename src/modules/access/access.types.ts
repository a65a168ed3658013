export const RESOURCES = ['users', 'roles', 'policies', 'permissions', 'sessions', 'mail_outbox', 'auth_events'] as const;
export const ACTIONS = ['create', 'read', 'update', 'delete'] as const;
export type Resource = (typeof RESOURCES)[number];
export type Action = (typeof ACTIONS)[number];

/**
 * The fields of each resource a permission may name. `read` are the GraphQL fields a read
 * permission can open, `write` the input fields create/update permissions and presets can name,
 * `filter` the columns a row filter may test. Anything else (password hashes, token secrets) is
 * reserved: no permission can name it.
 */
export const RESOURCE_FIELDS: Record<Resource, { read: readonly string[]; write: readonly string[]; filter: readonly string[] }> = {
  users: {
    read: ['id', 'email', 'firstName', 'lastName', 'status', 'role', 'policies', 'createdAt', 'updatedAt', 'twoFactorEnabled'],
    write: ['email', 'password', 'firstName', 'lastName', 'status', 'role', 'policies'],
    filter: ['id', 'email', 'status', 'roleId'],
  },
  roles: {
    read: ['id', 'name', 'description', 'parent', 'policies', 'createdAt'],
    write: ['name', 'description', 'parent', 'policies'],
    filter: ['id', 'name', 'parentId'],
  },
  policies: {
    read: ['id', 'name', 'description', 'isPublic', 'adminAccess', 'enforceTwoFactor', 'ipAllowList', 'permissions', 'createdAt'],
    write: ['name', 'description', 'adminAccess', 'enforceTwoFactor', 'ipAllowList'],
    filter: ['id', 'name', 'isPublic'],
  },
  permissions: {
    read: ['id', 'policy', 'resource', 'action', 'fields', 'presets', 'filter'],
    write: ['policy', 'resource', 'action', 'fields', 'presets', 'filter'],
    filter: ['id', 'policyId', 'resource', 'action'],
  },
  sessions: {
    read: ['id', 'createdAt', 'lastUsedAt', 'expiresAt', 'userAgent', 'ip', 'current'],
    write: [],
    filter: ['id', 'userId'],
  },
  // The mail outbox's metadata (read: counts and rows; update: retry a failed mail). A mail's
  // recipient, subject and body are no field: no permission can open them.
  mail_outbox: {
    read: ['id', 'kind', 'status', 'attempts', 'lastError', 'createdAt', 'nextAttemptAt', 'sentAt', 'failedAt'],
    write: [],
    filter: ['id', 'kind', 'status'],
  },
  // The audit log: read-only, written by the service itself. Administrators read it through adminAccess.
  auth_events: {
    read: ['id', 'createdAt', 'type', 'outcome', 'userId', 'actorId', 'sessionId', 'subjectHash', 'ip', 'userAgent', 'details'],
    write: [],
    filter: ['id', 'userId', 'actorId', 'type', 'outcome'],
  },
};

/** A loaded row (a Prisma result or a summary); filters read its filterable columns by name. */
export type Row = object;

/** What a filter's variables stand for in one request. */
export interface FilterVariables {
  /** $CURRENT_USER; null for anonymous requests, where a filter naming it matches nothing. */
  userId: string | null;
}

/** One permission of one policy, as the access check uses it. */
export interface Grant {
  /** Allowed field names, or '*' for all of them. */
  readonly fields: ReadonlySet<string> | '*';
  /** Values forced onto the written row; a preset always wins over input. */
  readonly presets: Readonly<Record<string, unknown>>;
  /** Which rows it covers; null for every row. Validated when the permission was saved. */
  readonly filter: unknown;
  /** The filter names $CURRENT_USER: for anonymous requests it covers no row. */
  readonly needsViewer: boolean;
}

/** What one (resource, action) pair allows, merged over all of a viewer's policies (used for create). */
export interface PermissionRule {
  fields: ReadonlySet<string> | '*';
  presets: Readonly<Record<string, unknown>>;
}

/** A viewer's effective access, computed once per distinct set of applicable policies and shared. */
export interface Access {
  readonly policyIds: readonly string[];
  readonly admin: boolean;
  /** Some policy requires two-factor authentication (Directus' enforce_tfa). */
  readonly enforceTwoFactor: boolean;
  /** Whether any permission grants the action on the resource (on some rows). */
  can(resource: Resource, action: Action): boolean;
  /** The merged create rule (fields and presets), or null without a create permission. */
  rule(resource: Resource, action: Action): PermissionRule | null;
  /** The permissions for the pair; every one of them if the viewer is an admin. */
  grants(resource: Resource, action: Action): readonly Grant[];
}
