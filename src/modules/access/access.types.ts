export const RESOURCES = ['users', 'roles', 'policies', 'permissions', 'sessions'] as const;
export const ACTIONS = ['create', 'read', 'update', 'delete'] as const;
export type Resource = (typeof RESOURCES)[number];
export type Action = (typeof ACTIONS)[number];

/** What one (resource, action) pair allows, merged over all of a viewer's policies. */
export interface PermissionRule {
  /** Allowed field names, or '*' for all of them. */
  fields: ReadonlySet<string> | '*';
  /** Values forced onto the written row; a preset always wins over input. */
  presets: Readonly<Record<string, unknown>>;
}

/** A viewer's effective access, computed once per distinct set of policies and shared. */
export interface Access {
  readonly policyIds: readonly string[];
  readonly admin: boolean;
  /** Some policy requires two-factor authentication (Directus' enforce_tfa). */
  readonly enforceTwoFactor: boolean;
  rule(resource: Resource, action: Action): PermissionRule | null;
}
