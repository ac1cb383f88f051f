import type { ReactNode } from "react";
import { usePermissions, type Group } from "@/lib/auth/permissions";

/** Render `children` only for users in `group` or above (CONTRACT §8); `fallback` for the others. */
export function Can({ group, children, fallback = null }: { group: Group; children: ReactNode; fallback?: ReactNode }) {
  const { can } = usePermissions();
  return <>{can(group) ? children : fallback}</>;
}
