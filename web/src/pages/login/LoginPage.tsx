import { useId, useState, type FormEvent } from 'react';
import { useLogin } from '../../api/session.js';
import { Button } from '../../components/Button.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Link, navigate, useLocation } from '../../router/router.js';
import { useSession } from '../../session/session.js';

/** Only pages of this app may be the destination after signing in. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login')
    ? next
    : '/dashboard';
}

export function LoginPage() {
  const { search } = useLocation();
  const { config } = useSession();
  const login = useLogin();
  const tokenId = useId();
  const [token, setToken] = useState('');
  const [message, setMessage] = useState<string>();
  const next = safeNext(search.get('next'));

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setMessage(undefined);
    try {
      const status = await login.mutateAsync(token);
      if (status === 200) navigate(next, { replace: true });
      else if (status === 429) setMessage('Too many attempts. Wait a minute and try again.');
      else setMessage('That token was not accepted.');
    } catch {
      setMessage('The server could not be reached.');
    }
  };

  if (config && (!config.auth || config.authenticated)) {
    return (
      <PageHeader title="Sign in">
        {config.auth ? 'You are signed in.' : 'This server needs no sign-in.'}{' '}
        <Link to={next} className="text-blue-800 underline">
          Continue
        </Link>
        .
      </PageHeader>
    );
  }

  return (
    <div className="mx-auto max-w-sm">
      <PageHeader title="Sign in">This server's dashboard needs its admin token.</PageHeader>
      <form
        onSubmit={(event) => void submit(event)}
        className="space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm"
      >
        <div>
          <label htmlFor={tokenId} className="text-sm font-medium text-slate-800">
            Admin token
          </label>
          <input
            id={tokenId}
            type="password"
            autoComplete="current-password"
            required
            value={token}
            onChange={(event) => setToken(event.target.value)}
            className="mt-1 w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
          />
        </div>
        <Button type="submit" disabled={login.isPending || token.length === 0} className="w-full">
          Sign in
        </Button>
        <p role="alert" className="text-sm text-red-800">
          {message}
        </p>
      </form>
    </div>
  );
}
