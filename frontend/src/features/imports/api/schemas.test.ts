import { describe, expect, it } from "vitest";
import { makeImport } from "@/test/api";
import { importDurationMs, importSchema, importThroughput, mergeImports, newerSnapshot } from "./schemas";

const imp = (o: Record<string, unknown>) => importSchema.parse(makeImport(o));

describe("import snapshots", () => {
  it("never moves an import backwards", () => {
    const list = [imp({ id: "a", status: "completed", rows_processed: 1000 })];
    const merged = mergeImports(list, [imp({ id: "a", status: "processing", rows_processed: 500 })], true);
    expect(merged[0]!.status).toBe("completed");
  });

  it("puts unknown imports on top, newest first, only when asked", () => {
    const list = [imp({ id: "a", created_at: "2025-01-01T10:00:00Z" })];
    const incoming = [imp({ id: "b", created_at: "2025-01-02T10:00:00Z" }), imp({ id: "c", created_at: "2025-01-03T10:00:00Z" })];
    expect(mergeImports(list, incoming, true).map((i) => i.id)).toEqual(["c", "b", "a"]);
    expect(mergeImports(list, incoming, false).map((i) => i.id)).toEqual(["a"]);
  });

  it("computes duration and throughput", () => {
    const done = imp({ status: "completed", rows_processed: 50_000, started_at: "2025-01-01T10:00:00Z", finished_at: "2025-01-01T10:00:10Z" });
    expect(importDurationMs(done)).toBe(10_000);
    expect(importThroughput(done)).toBe(5000);
    const running = imp({ rows_processed: 100, started_at: "2025-01-01T10:00:00Z", finished_at: null });
    expect(importDurationMs(running, Date.parse("2025-01-01T10:00:04Z"))).toBe(4000);
    expect(importThroughput(imp({ started_at: null }))).toBeNull();
  });

  it("tolerates missing optional fields", () => {
    const parsed = importSchema.parse({ id: "x", status: "pending", extra: 1 });
    expect(parsed.rows_total).toBeNull();
    expect(parsed.source).toBe("upload");
    // fields an older server does not send
    expect(parsed).toMatchObject({ mode: "import", rows_skipped: 0, warnings: [], encoding: null, profile: null, revert: null, replace: null });
  });

  it("follows a revert forwards, and takes a failed revert's old status back", () => {
    const done = imp({ id: "a", status: "completed", rows_processed: 1000 });
    const reverting = imp({ id: "a", status: "reverting", rows_processed: 1000, revert: { status: "running", requested_at: "2025-01-02T10:00:00Z", restored: 5 } });
    const later = imp({ id: "a", status: "reverting", rows_processed: 1000, revert: { status: "running", requested_at: "2025-01-02T10:00:00Z", restored: 50 } });
    const reverted = imp({ id: "a", status: "reverted", rows_processed: 1000, revert: { status: "done", requested_at: "2025-01-02T10:00:00Z", restored: 60 } });
    expect(newerSnapshot(done, reverting).status).toBe("reverting");
    expect(newerSnapshot(reverting, later).revert!.restored).toBe(50);
    expect(newerSnapshot(later, reverting).revert!.restored).toBe(50); // a late frame does not go back
    expect(newerSnapshot(later, reverted).status).toBe("reverted");
    expect(newerSnapshot(reverted, done).status).toBe("reverted");
    const failedRevert = imp({ id: "a", status: "completed", rows_processed: 1000, revert: { status: "failed", requested_at: "2025-01-02T10:00:00Z" } });
    expect(newerSnapshot(later, failedRevert).status).toBe("completed");
    expect(newerSnapshot(failedRevert, later).status).toBe("completed");
  });
});
