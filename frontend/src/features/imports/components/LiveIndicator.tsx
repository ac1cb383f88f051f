import type { LiveMode } from "../api/useLiveImports";

const TEXT: Record<LiveMode, string> = {
  connecting: "Connecting to live updates…",
  live: "Live",
  polling: "Live updates unavailable — refreshing every 2 s",
};

export function LiveIndicator({ mode }: { mode: LiveMode }) {
  return (
    <span className={`live live--${mode}`} role="status" data-testid="live-indicator" data-mode={mode}>
      <span className="live__dot" aria-hidden="true" />
      {TEXT[mode]}
    </span>
  );
}
