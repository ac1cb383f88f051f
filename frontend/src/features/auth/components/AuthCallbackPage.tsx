import { useEffect, useState } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { Loading } from "@/components/Feedback";
import { errorMessage } from "@/lib/api";
import { startAuthSession, type AuthSession } from "@/lib/auth/session";
import { fetchConfig } from "@/lib/config";
import { AuthScreen } from "./RequireAuth";

/** `/auth/callback`: the hosted UI sends the browser here with `?code&state`; exchange it, then go back. */
export function AuthCallbackPage() {
  const { search } = useLocation();
  const navigate = useNavigate();
  const [failure, setFailure] = useState<{ message: string; session: AuthSession | null } | null>(null);

  useEffect(() => {
    let cancelled = false;
    let session: AuthSession | null = null;
    fetchConfig()
      .then((config) => {
        if (!config.auth) {
          navigate("/", { replace: true }); // this deployment has no sign-in
          return;
        }
        session = startAuthSession(config.auth);
        return session.completeSignIn(search).then((returnTo) => {
          if (!cancelled) navigate(returnTo, { replace: true });
        });
      })
      .catch((err: unknown) => {
        if (!cancelled) setFailure({ message: errorMessage(err), session });
      });
    return () => {
      cancelled = true;
    };
  }, [search, navigate]);

  if (!failure) {
    return (
      <AuthScreen>
        <Loading label="Signing in…" />
      </AuthScreen>
    );
  }
  return (
    <AuthScreen>
      <h1>Sign-in did not work</h1>
      <p role="alert">{failure.message}</p>
      {failure.session ? (
        <button type="button" className="button button--primary" onClick={() => void failure.session?.signIn("/")}>
          Sign in again
        </button>
      ) : null}
    </AuthScreen>
  );
}
