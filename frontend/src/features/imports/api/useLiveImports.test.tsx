import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeWebSocket, makeImport, mockApi } from "@/test/api";
import { importSchema, type Import } from "./schemas";
import { useLiveImports } from "./useLiveImports";

const backoff = { initialMs: 1000, maxMs: 8000, factor: 2, jitter: 0 };

describe("useLiveImports", () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    FakeWebSocket.reset();
  });
  afterEach(() => vi.useRealTimers());

  function setup(config: unknown) {
    mockApi({ "GET /api/config": () => ({ body: config }) });
    const seen: Import[][] = [];
    const poll = vi.fn(async () => [importSchema.parse(makeImport({ rows_processed: 500 }))]);
    const hook = renderHook(() =>
      useLiveImports({
        subscriptions: ["*"],
        onImports: (list) => seen.push(list),
        poll,
        backoff,
        createSocket: (url) => new FakeWebSocket(url),
      }),
    );
    return { hook, seen, poll };
  }

  it("merges import.updated frames once the socket is open", async () => {
    // given a deployment with a websocket_url
    const { hook, seen } = setup({ websocket_url: "ws://127.0.0.1:8001/ws" });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    expect(FakeWebSocket.latest().url).toBe("ws://127.0.0.1:8001/ws");
    // when it opens and a frame arrives
    act(() => FakeWebSocket.latest().open());
    expect(hook.result.current).toBe("live");
    act(() => FakeWebSocket.latest().receive({ type: "import.updated", import: makeImport({ rows_processed: 900 }) }));
    // then the snapshot is handed on, parsed
    await waitFor(() => expect(seen.some((l) => l[0]?.rows_processed === 900)).toBe(true));
    // and frames of other types are ignored
    const before = seen.length;
    act(() => FakeWebSocket.latest().receive({ type: "pong" }));
    expect(seen.length).toBe(before);
  });

  it("polls every 2 s while the socket is down and stops once it reconnects", async () => {
    // given a socket that connects and then drops
    const { hook, poll } = setup({ websocket_url: "ws://127.0.0.1:8001/ws" });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.latest().open());
    await waitFor(() => expect(poll).toHaveBeenCalledTimes(1)); // catch-up poll on open
    act(() => FakeWebSocket.latest().drop());
    expect(hook.result.current).toBe("polling");
    // when time passes without a connection, the list is polled every 2 s
    await act(async () => {
      await vi.advanceTimersByTimeAsync(900);
    });
    // (the reconnect attempt at 1 s fails too)
    await act(async () => {
      await vi.advanceTimersByTimeAsync(100);
    });
    expect(FakeWebSocket.instances).toHaveLength(2);
    act(() => FakeWebSocket.latest().drop());
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3100);
    });
    expect(poll.mock.calls.length).toBeGreaterThanOrEqual(2);
    // then the reconnect (2 s after the second failure) opens, polling stops
    expect(FakeWebSocket.instances).toHaveLength(3);
    act(() => FakeWebSocket.latest().open());
    expect(hook.result.current).toBe("live");
    const calls = poll.mock.calls.length;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000);
    });
    expect(poll.mock.calls.length).toBe(calls);
  });

  it("falls back to polling when the deployment has no websocket_url", async () => {
    const { hook, poll } = setup({});
    await waitFor(() => expect(hook.result.current).toBe("polling"));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(4100);
    });
    expect(poll).toHaveBeenCalledTimes(2);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it("asks for the config again, backing off, while the API cannot be reached, then connects", async () => {
    // given an API that does not answer the first two times
    let failures = 2;
    const { calls } = mockApi({
      "GET /api/config": () => {
        if (failures-- > 0) throw new TypeError("Failed to fetch");
        return { body: { websocket_url: "ws://127.0.0.1:8001/ws" } };
      },
    });
    const poll = vi.fn(async () => [importSchema.parse(makeImport())]);
    const hook = renderHook(() => useLiveImports({ subscriptions: ["*"], onImports: () => {}, poll, backoff, createSocket: (url) => new FakeWebSocket(url) }));
    // then it polls meanwhile ...
    await waitFor(() => expect(hook.result.current).toBe("polling"));
    const configCalls = () => calls.filter((c) => c.path === "/api/config").length;
    expect(configCalls()).toBe(1);
    // ... asks again after 1 s, then after 2 s more ...
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(configCalls()).toBe(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1900);
    });
    expect(configCalls()).toBe(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(100);
    });
    expect(configCalls()).toBe(3);
    // ... and with the config, connects and goes live
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.latest().open());
    expect(hook.result.current).toBe("live");
    expect(poll).toHaveBeenCalled();
  });
});

