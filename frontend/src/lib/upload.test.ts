import { describe, expect, it, vi } from "vitest";
import { FakeXhr } from "@/test/api";
import { s3ErrorMessage, uploadToPresignedPost, UploadError } from "./upload";

const post = { url: "http://127.0.0.1:4566/uploads", fields: { key: "uploads/imp-1/catalog.csv", policy: "p", "x-amz-signature": "s" } };

describe("uploadToPresignedPost", () => {
  it("sends every policy field first and the file last, and reports bytes sent", async () => {
    // given a file and a presigned POST
    FakeXhr.reset();
    const file = new File(["sku,name\nA,B\n"], "catalog.csv", { type: "text/csv" });
    const progress = vi.fn();
    // when the upload runs and the browser reports progress
    const handle = uploadToPresignedPost(post, file, "catalog.csv", progress, () => new FakeXhr() as unknown as XMLHttpRequest);
    const xhr = FakeXhr.latest();
    xhr.progress(5, 13);
    xhr.progress(13, 13);
    xhr.respond(204);
    await handle.promise;
    // then the form has the fields in order with the file last
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe(post.url);
    const keys = [...xhr.body!.keys()];
    expect(keys).toEqual(["key", "policy", "x-amz-signature", "file"]);
    expect((xhr.body!.get("file") as File).name).toBe("catalog.csv");
    // and the progress callback saw real byte counts, ending at the full size
    expect(progress).toHaveBeenCalledWith({ loaded: 5, total: 13 });
    expect(progress).toHaveBeenLastCalledWith({ loaded: 13, total: 13 });
  });

  it("rejects with the S3 message when storage refuses the file", async () => {
    FakeXhr.reset();
    const file = new File(["x"], "big.csv");
    const handle = uploadToPresignedPost(post, file, "big.csv", () => {}, () => new FakeXhr() as unknown as XMLHttpRequest);
    FakeXhr.latest().respond(400, "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>");
    await expect(handle.promise).rejects.toThrow("larger than the storage accepts");
  });

  it("marks an abort as cancelled", async () => {
    FakeXhr.reset();
    const handle = uploadToPresignedPost(post, new File(["x"], "a.csv"), "a.csv", () => {}, () => new FakeXhr() as unknown as XMLHttpRequest);
    handle.abort();
    const err = await handle.promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect((err as UploadError).cancelled).toBe(true);
  });

  it("describes S3 XML errors", () => {
    expect(s3ErrorMessage(403, "<Error><Code>AccessDenied</Code><Message>Policy expired</Message></Error>")).toBe(
      "Storage refused the file: Policy expired (AccessDenied)",
    );
    expect(s3ErrorMessage(500, "")).toBe("Storage refused the file (HTTP 500).");
  });
});
