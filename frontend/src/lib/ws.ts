/** The state of a live connection, as the UI shows it. */
export type LiveStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface BackoffOptions {
  /** First retry delay in ms. */
  initialMs: number;
  /** Upper bound for one delay in ms. */
  maxMs: number;
  factor: number;
  /** 0..1: the share of each delay that is random (spreads reconnect storms). */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Delay before reconnect attempt number `attempt` (0-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * opts.factor ** attempt);
  const spread = base * opts.jitter;
  return Math.round(base - spread + spread * random());
}

type WebSocketLike = Pick<WebSocket, "send" | "close" | "readyState"> & {
  onopen: ((ev: Event) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
};

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface LiveSocketOptions {
  /** The URL, or a function giving it before every (re)connect (e.g. with a fresh `?token=`). */
  url: string | (() => Promise<string>);
  /** What to (re)subscribe to after every successful connect. */
  subscriptions: string[];
  onMessage: (message: unknown) => void;
  onStatus?: (status: LiveStatus) => void;
  backoff?: BackoffOptions;
  random?: () => number;
  createSocket?: WebSocketFactory;
}

/**
 * One WebSocket to the progress gateway that keeps itself alive: it subscribes on every connect,
 * and reconnects with exponential back-off (reset once a connection has opened) until `close()`.
 */
export class LiveSocket {
  private socket: WebSocketLike | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private status: LiveStatus = "connecting";
  private readonly opts: LiveSocketOptions;

  constructor(opts: LiveSocketOptions) {
    this.opts = opts;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onclose = s.onerror = s.onmessage = null;
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
    this.setStatus("closed");
  }

  get currentStatus(): LiveStatus {
    return this.status;
  }

  private setStatus(status: LiveStatus) {
    if (this.status === status) return;
    this.status = status;
    this.opts.onStatus?.(status);
  }

  private connect() {
    if (this.stopped) return;
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    const url = this.opts.url;
    if (typeof url === "string") {
      this.open(url);
      return;
    }
    url().then(
      (resolved) => {
        if (!this.stopped && !this.socket) this.open(resolved);
      },
      () => this.scheduleReconnect(),
    );
  }

  private open(url: string) {
    let socket: WebSocketLike;
    try {
      socket = (this.opts.createSocket ?? ((u: string) => new WebSocket(u)))(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      for (const id of this.opts.subscriptions) {
        socket.send(JSON.stringify({ action: "subscribe", import_id: id }));
      }
      this.setStatus("open");
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== "string") return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        return; // not ours; ignore
      }
      this.opts.onMessage(parsed);
    };
    socket.onerror = () => {
      /* onclose follows and decides */
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.opts.backoff ?? defaultBackoff, this.opts.random);
    this.attempt += 1;
    this.setStatus("reconnecting");
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
