import { describe, expect, it } from "vitest";
import { fakeJwt, signInAs } from "@/test/auth";
import { currentPermissions, groupsFromClaims, permissionsFor } from "./permissions";
import { decodeJwtPayload } from "./session";

describe("permissions", () => {
  it("makes everyone admin where there is no sign-in (local mode)", () => {
    const p = currentPermissions();
    expect(p.role).toBe("admin");
    expect(p.signInEnabled).toBe(false);
    expect(p.can("admin")).toBe(true);
  });

  it("takes the highest group of the token, each group including the ones below", () => {
    signInAs(["viewer", "importer"]);
    const p = currentPermissions();
    expect(p.role).toBe("importer");
    expect([p.can("viewer"), p.can("importer"), p.can("admin")]).toEqual([true, true, false]);
  });

  it("gives a user in no group nothing", () => {
    signInAs([]);
    const p = currentPermissions();
    expect(p.role).toBeNull();
    expect(p.can("viewer")).toBe(false);
  });

  it("ignores unknown groups and reads a space-separated claim", () => {
    expect(groupsFromClaims({ "cognito:groups": ["ops", "admin"] })).toEqual(["admin"]);
    expect(groupsFromClaims({ "cognito:groups": "viewer importer" })).toEqual(["viewer", "importer"]);
    expect(groupsFromClaims(decodeJwtPayload(fakeJwt({})))).toEqual([]);
    expect(permissionsFor(["viewer"]).can("importer")).toBe(false);
  });
});
