import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeWebSocket } from "@/test/api";
import { backoffDelay, LiveSocket, type LiveStatus } from "./ws";

const noJitter = { initialMs: 1000, maxMs: 8000, factor: 2, jitter: 0 };

describe("backoffDelay", () => {
  it("doubles up to the cap", () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, noJitter))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
  it("spreads by the jitter share", () => {
    const opts = { ...noJitter, jitter: 0.5 };
    expect(backoffDelay(1, opts, () => 0)).toBe(1000);
    expect(backoffDelay(1, opts, () => 1)).toBe(2000);
  });
});

describe("LiveSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
  });
  afterEach(() => vi.useRealTimers());

  function start() {
    const statuses: LiveStatus[] = [];
    const messages: unknown[] = [];
    const socket = new LiveSocket({
      url: "ws://127.0.0.1:8001/ws",
      subscriptions: ["*"],
      onMessage: (m) => messages.push(m),
      onStatus: (s) => statuses.push(s),
      backoff: noJitter,
      createSocket: (url) => new FakeWebSocket(url),
    });
    socket.start();
    return { socket, statuses, messages };
  }

  it("subscribes on open and passes JSON frames on", () => {
    // given a socket that connects
    const { statuses, messages } = start();
    const ws = FakeWebSocket.latest();
    ws.open();
    // then it subscribes to every import
    expect(ws.sent.map((s) => JSON.parse(s))).toEqual([{ action: "subscribe", import_id: "*" }]);
    expect(statuses).toEqual(["open"]);
    // when frames arrive, JSON ones are handed on and garbage is ignored
    ws.receive({ type: "import.updated", import: { id: "x" } });
    ws.onmessage?.(new MessageEvent("message", { data: "not json" }));
    expect(messages).toEqual([{ type: "import.updated", import: { id: "x" } }]);
  });

  it("reconnects with exponential back-off and resubscribes", () => {
    // given an open socket
    const { statuses } = start();
    FakeWebSocket.latest().open();
    // when it drops, nothing happens before the first delay
    FakeWebSocket.latest().drop();
    expect(statuses.at(-1)).toBe("reconnecting");
    vi.advanceTimersByTime(999);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    // and failing attempts wait 2 s, then 4 s
    FakeWebSocket.latest().drop();
    vi.advanceTimersByTime(1999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.latest().drop();
    vi.advanceTimersByTime(4000);
    expect(FakeWebSocket.instances).toHaveLength(4);
    // when it finally opens it subscribes again and the back-off resets
    const ws = FakeWebSocket.latest();
    ws.open();
    expect(ws.sent).toHaveLength(1);
    expect(statuses.at(-1)).toBe("open");
    ws.drop();
    vi.advanceTimersByTime(1000);
    expect(FakeWebSocket.instances).toHaveLength(5);
  });

  it("stops for good on close()", () => {
    const { socket, statuses } = start();
    FakeWebSocket.latest().drop();
    socket.close();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(statuses.at(-1)).toBe("closed");
  });

  it("asks for the URL again before every reconnect (a fresh ?token=)", async () => {
    // given a URL provider, as with sign-in
    let n = 0;
    const socket = new LiveSocket({
      url: async () => `wss://ws.example/prod?token=t${++n}`,
      subscriptions: ["*"],
      onMessage: () => undefined,
      backoff: noJitter,
      createSocket: (url) => new FakeWebSocket(url),
    });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.latest().url).toBe("wss://ws.example/prod?token=t1");
    // when the connection drops and comes back
    FakeWebSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(1000);
    // then the new socket carries a newly asked-for token
    expect(FakeWebSocket.instances.map((ws) => ws.url)).toEqual([
      "wss://ws.example/prod?token=t1",
      "wss://ws.example/prod?token=t2",
    ]);
    socket.close();
  });
});
