import { useEffect, useRef, type RefObject } from "react";

/** Whether keyboard focus was lost while an action ran: on <body>, or out of the dialog `near` sits in. */
function focusLost(near: HTMLElement | null): boolean {
  const active = document.activeElement;
  if (!active || active === document.body) return true;
  const dialog = near?.closest<HTMLElement>('[role="dialog"]');
  return dialog ? !dialog.contains(active) : false;
}

function focusable(el: HTMLElement | null | undefined): el is HTMLElement {
  return Boolean(el && el.isConnected && !(el as HTMLButtonElement).disabled);
}

/**
 * While an action runs its button is disabled, and a browser drops the focus of a disabled button to <body>
 * (out of a dialog too): keys (Escape, Tab) then start again from the top of the page. Once the action has
 * ended and focus is still lost, it goes back: to the error message (an alert made focusable with tabIndex
 * -1: `alert`, or the one in the button's dialog), else to `button`, the action's own, else to the first of
 * `fallbacks` that is enabled (the action may have disabled its own button for good: Next on the last page),
 * else to its dialog. Where the user has put focus meanwhile, it stays.
 */
export function useFocusBackAfter(
  running: boolean,
  button: RefObject<HTMLElement | null>,
  alert?: RefObject<HTMLElement | null>,
  fallbacks: RefObject<HTMLElement | null>[] = [],
) {
  const wasRunning = useRef(false);
  useEffect(() => {
    if (running) {
      wasRunning.current = true;
      return;
    }
    if (!wasRunning.current) return;
    wasRunning.current = false;
    const near = button.current ?? alert?.current ?? null; // (none: this action was not started here)
    if (!near?.isConnected || !focusLost(near)) return;
    const dialog = near.closest<HTMLElement>('[role="dialog"]');
    const message = alert?.current ?? dialog?.querySelector<HTMLElement>('[role="alert"][tabindex="-1"]');
    const target = [message, button.current, ...fallbacks.map((f) => f.current), dialog].find(focusable);
    target?.focus();
  });
}
