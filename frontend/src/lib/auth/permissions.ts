import { currentAuthSession, decodeJwtPayload } from "./session";

/** CONTRACT §8: each group can do what the one before it can, and more. */
export const GROUPS = ["viewer", "importer", "admin"] as const;
export type Group = (typeof GROUPS)[number];

const RANK: Record<Group, number> = { viewer: 1, importer: 2, admin: 3 };

export interface Permissions {
  /** The user's highest group; null for a signed-in user in no group (the API answers 403 to everything). */
  role: Group | null;
  /** Whether sign-in is on at all (off in local mode, where everyone is admin). */
  signInEnabled: boolean;
  /** May the user do what `group` may do? */
  can: (group: Group) => boolean;
}

/** The groups named in a token's `cognito:groups` claim that the app knows. */
export function groupsFromClaims(claims: Record<string, unknown> | null): Group[] {
  const raw = claims?.["cognito:groups"];
  const list = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(/[\s,]+/) : [];
  return list.filter((g): g is Group => typeof g === "string" && (GROUPS as readonly string[]).includes(g));
}

export function permissionsFor(groups: Group[] | null): Permissions {
  // null: no sign-in in this deployment (local mode) → admin
  const role = groups === null ? "admin" : groups.reduce<Group | null>((best, g) => (best === null || RANK[g] > RANK[best] ? g : best), null);
  return {
    role,
    signInEnabled: groups !== null,
    can: (group) => role !== null && RANK[role] >= RANK[group],
  };
}

/**
 * What the signed-in user may do, from the groups in their token (the access token carries
 * `cognito:groups`; the id token too). The API checks every request itself: this only hides what would be
 * refused.
 */
export function currentPermissions(): Permissions {
  const session = currentAuthSession();
  if (!session) return permissionsFor(null);
  const tokens = session.tokens();
  const fromAccess = groupsFromClaims(decodeJwtPayload(tokens?.accessToken ?? null));
  const groups = fromAccess.length > 0 ? fromAccess : groupsFromClaims(decodeJwtPayload(tokens?.idToken ?? null));
  return permissionsFor(groups);
}

/** `usePermissions().can("importer")`: read on every render, so a refreshed token's groups apply at once. */
export function usePermissions(): Permissions {
  return currentPermissions();
}
