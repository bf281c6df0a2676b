// Roles and what they may do. Every user route names the one permission it needs.
//   viewer  read
//   user    read, and manage its own API tokens
//   admin   everything: users, collectors, enrolment tokens, config, retention, audit log
export const ROLES = ['admin', 'user', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'own_tokens', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ['read', 'own_tokens', 'admin'],
  user: ['read', 'own_tokens'],
  viewer: ['read'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}
