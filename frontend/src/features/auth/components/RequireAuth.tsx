import { useEffect, useState, type ReactNode } from "react";
import { Loading } from "@/components/Feedback";
import { startAuthSession, type AuthSession } from "@/lib/auth/session";
import { fetchConfig } from "@/lib/config";

type Gate =
  | { kind: "loading" }
  | { kind: "open" } // no sign-in in this deployment (local mode), or the config could not be read
  | { kind: "signed-in" }
  | { kind: "signed-out"; session: AuthSession }
  | { kind: "redirecting" };

/**
 * Renders the app once the user may use it: at once where the deployment has no sign-in (`auth: null`),
 * else with a session (sending the user to the hosted sign-in page when there is none).
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const [gate, setGate] = useState<Gate>({ kind: "loading" });

  useEffect(() => {
    let cancelled = false;
    fetchConfig()
      .then((config) => {
        if (cancelled) return;
        if (!config.auth) {
          setGate({ kind: "open" });
          return;
        }
        const session = startAuthSession(config.auth);
        if (session.isSignedIn()) {
          setGate({ kind: "signed-in" });
        } else if (session.signedOutHere()) {
          setGate({ kind: "signed-out", session });
        } else {
          setGate({ kind: "redirecting" });
          void session.signIn();
        }
      })
      .catch(() => {
        // The pages show their own "cannot reach the server" errors (and retry).
        if (!cancelled) setGate({ kind: "open" });
      });
    return () => {
      cancelled = true;
    };
  }, []);

  switch (gate.kind) {
    case "open":
    case "signed-in":
      return <>{children}</>;
    case "signed-out":
      return <SignedOut onSignIn={() => void gate.session.signIn("/")} />;
    case "redirecting":
      return <AuthScreen><Loading label="Going to sign-in…" /></AuthScreen>;
    default:
      return null;
  }
}

export function AuthScreen({ children }: { children: ReactNode }) {
  return (
    <main className="auth-screen" id="main">
      <div className="auth-screen__card">
        <p className="brand">
          <span className="brand__mark" aria-hidden="true" />
          Product Importer
        </p>
        {children}
      </div>
    </main>
  );
}

function SignedOut({ onSignIn }: { onSignIn: () => void }) {
  return (
    <AuthScreen>
      <h1>You are signed out</h1>
      <p>Sign in again to import catalogs and manage products.</p>
      <button type="button" className="button button--primary" onClick={onSignIn}>
        Sign in
      </button>
    </AuthScreen>
  );
}
