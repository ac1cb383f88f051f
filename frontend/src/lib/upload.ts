/** A presigned S3 POST as handed out by `POST /api/imports`. */
export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export class UploadError extends Error {
  readonly status: number;
  readonly cancelled: boolean;
  constructor(status: number, message: string, cancelled = false) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.cancelled = cancelled;
  }
}

export interface UploadHandle {
  promise: Promise<void>;
  abort: () => void;
}

/** Pull `<Message>` (and `<Code>`) out of an S3 XML error body. */
export function s3ErrorMessage(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  if (code === "EntityTooLarge") return "The file is larger than the storage accepts.";
  if (message) return `Storage refused the file: ${message}${code ? ` (${code})` : ""}`;
  return `Storage refused the file (HTTP ${status}).`;
}

/**
 * Send `file` to S3 with a presigned POST: every policy field first, the file last (S3 ignores
 * fields after `file`). XMLHttpRequest, because its `upload.onprogress` reports real bytes sent.
 */
export function uploadToPresignedPost(
  post: PresignedPost,
  file: Blob,
  filename: string,
  onProgress: (p: UploadProgress) => void,
  createXhr: () => XMLHttpRequest = () => new XMLHttpRequest(),
): UploadHandle {
  const xhr = createXhr();
  const promise = new Promise<void>((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
    form.append("file", file, filename);

    xhr.upload.onprogress = (ev: ProgressEvent) => {
      onProgress({ loaded: ev.loaded, total: ev.lengthComputable ? ev.total : file.size });
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size });
        resolve();
      } else {
        reject(new UploadError(xhr.status, s3ErrorMessage(xhr.status, String(xhr.responseText ?? ""))));
      }
    };
    xhr.onerror = () => reject(new UploadError(0, "The upload could not reach the storage (network or CORS error)."));
    xhr.onabort = () => reject(new UploadError(0, "Upload cancelled.", true));
    xhr.open("POST", post.url);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
