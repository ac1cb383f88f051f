import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { ConfirmDialog, TypedConfirmDialog } from "./Dialog";

function Harness() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      {open ? <ConfirmDialog title="Delete it?" message="Sure?" confirmLabel="Delete" onConfirm={async () => setOpen(false)} onCancel={() => setOpen(false)} /> : null}
    </>
  );
}

/** A page whose rows each have a Delete button; a confirmed delete takes the row away a moment later (a refetch). */
function RowsPage() {
  const [rows, setRows] = useState(["A-1", "A-2"]);
  const [deleting, setDeleting] = useState<string | null>(null);
  return (
    <main tabIndex={-1}>
      <ul>
        {rows.map((sku) => (
          <li key={sku}>
            {sku}{" "}
            <button type="button" onClick={() => setDeleting(sku)}>
              Delete {sku}
            </button>
          </li>
        ))}
      </ul>
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting}?`}
          message="Sure?"
          confirmLabel="Delete product"
          onConfirm={async () => {
            setDeleting(null);
            setTimeout(() => setRows((list) => list.filter((r) => r !== deleting)), 50);
          }}
          onCancel={() => setDeleting(null)}
        />
      ) : null}
    </main>
  );
}

describe("ConfirmDialog", () => {
  it("moves focus in, keeps Tab inside, closes on Escape and gives focus back", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const opener = screen.getByRole("button", { name: "Open" });
    await user.click(opener);
    const dialog = screen.getByRole("dialog", { name: "Delete it?" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus(); // the safe choice first
    await user.tab();
    expect(screen.getByRole("button", { name: "Delete" })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(opener).toHaveFocus();
  });

  it("shows why the action failed and stays open; a second try clears the message", async () => {
    const user = userEvent.setup();
    const onConfirm = vi.fn().mockRejectedValueOnce(new Error("The server said no.")).mockResolvedValueOnce(undefined);
    render(<ConfirmDialog title="Delete it?" message="Sure?" confirmLabel="Delete" onConfirm={onConfirm} onCancel={() => {}} />);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The server said no.");
    expect(screen.getByRole("dialog", { name: "Delete it?" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
    expect(onConfirm).toHaveBeenCalledTimes(2);
  });
  it("gives focus back to the dialog when the action fails after focus had left it", async () => {
    // given an action that takes a while, and then fails
    const user = userEvent.setup();
    let fail: (err: Error) => void = () => {};
    const onConfirm = vi.fn(() => new Promise((_, reject) => (fail = reject)));
    render(
      <>
        <button type="button">Elsewhere</button>
        <ConfirmDialog title="Delete it?" message="Sure?" confirmLabel="Delete" onConfirm={onConfirm} onCancel={() => {}} />
      </>,
    );
    await user.click(screen.getByRole("button", { name: "Delete" }));
    // while it runs the button is disabled, and a browser moves the focus of a disabled button out of the dialog
    expect(screen.getByRole("button", { name: "Delete" })).toBeDisabled();
    screen.getByRole("button", { name: "Elsewhere" }).focus();
    // when it fails, the message takes the focus (so Escape and Tab work in the dialog again)
    fail(new Error("The server said no."));
    const alert = await screen.findByRole("alert");
    await waitFor(() => expect(alert).toHaveFocus());
  });

  it("draws itself outside the coloured notice and the live region it was opened from", async () => {
    // given a confirm opened from inside an amber notice that is a live region
    render(
      <div className="alert alert--warn" role="status" aria-live="polite" data-testid="notice">
        <ConfirmDialog title="Deactivate them?" message="Sure?" confirmLabel="Deactivate" onConfirm={async () => {}} onCancel={() => {}} />
      </div>,
    );
    const dialog = screen.getByRole("dialog", { name: "Deactivate them?" });
    // then it takes neither the notice's colours nor its announcements, and still has the focus
    expect(screen.getByTestId("notice")).not.toContainElement(dialog);
    expect(dialog.closest('.alert, [role="status"], [role="alert"], [aria-live]')).toBeNull();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
  });
});

describe("TypedConfirmDialog", () => {
  it("runs only once the word is typed, and shows a failure under the field", async () => {
    const user = userEvent.setup();
    const onConfirm = vi.fn().mockRejectedValue(new Error("Not now."));
    render(
      <TypedConfirmDialog
        title="Wipe?"
        testId="wipe"
        onClose={() => {}}
        fieldLabel="Type “wipe” to confirm"
        confirms={(typed) => typed.trim() === "wipe"}
        onConfirm={onConfirm}
        confirmLabel="Wipe"
        pending={false}
        pendingLabel="Wiping…"
      >
        <p>Everything goes.</p>
      </TypedConfirmDialog>,
    );
    const button = screen.getByRole("button", { name: "Wipe" });
    expect(button).toBeDisabled();
    await user.type(screen.getByLabelText("Type “wipe” to confirm"), "wip{Enter}");
    expect(onConfirm).not.toHaveBeenCalled();
    await user.type(screen.getByLabelText("Type “wipe” to confirm"), "e");
    expect(button).toBeEnabled();
    await user.click(button);
    expect(await screen.findByRole("alert")).toHaveTextContent("Not now.");
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });
});

describe("focus after a dialog", () => {
  it("goes to <main> when the opener goes a moment after the dialog (it fell to <body>: Tab restarted at the top)", async () => {
    // given a product deleted from its row's Delete button, with the keyboard
    const user = userEvent.setup();
    render(<RowsPage />);
    screen.getByRole("button", { name: "Delete A-1" }).focus();
    await user.keyboard("{Enter}");
    await user.click(screen.getByRole("button", { name: "Delete product" }));
    // when the row (and the button that opened the dialog) goes
    await waitFor(() => expect(screen.queryByRole("button", { name: "Delete A-1" })).toBeNull());
    // then the page's <main> has the focus, and the next Tab goes on inside the page
    await waitFor(() => expect(screen.getByRole("main")).toHaveFocus());
    await user.tab();
    expect(screen.getByRole("button", { name: "Delete A-2" })).toHaveFocus();
  });

  it("stays where the user put it after the dialog closed", async () => {
    const user = userEvent.setup();
    render(<RowsPage />);
    await user.click(screen.getByRole("button", { name: "Delete A-1" }));
    await user.click(screen.getByRole("button", { name: "Delete product" }));
    screen.getByRole("button", { name: "Delete A-2" }).focus();
    await waitFor(() => expect(screen.queryByRole("button", { name: "Delete A-1" })).toBeNull());
    expect(screen.getByRole("button", { name: "Delete A-2" })).toHaveFocus();
  });
});
