import type { ReactNode } from 'react';
import { Link } from '../router/router.js';
import { useSession } from '../session/session.js';
import { Button } from './Button.js';

const NAV = [
  { to: '/dashboard', label: 'Dashboard' },
  { to: '/test-tools', label: 'Test tools' },
  { to: '/leads', label: 'Leads' },
  { to: '/deliveries', label: 'Deliveries' },
  { to: '/raw-requests', label: 'Raw requests' },
  { to: '/reports', label: 'Reports' },
  { to: '/settings', label: 'Settings' },
  { to: '/audit', label: 'Audit' },
];

function isCurrent(pathname: string, to: string): boolean {
  return (
    pathname === to || pathname.startsWith(`${to}/`) || (to === '/dashboard' && pathname === '/')
  );
}

export function Layout({ pathname, children }: { pathname: string; children: ReactNode }) {
  const { config, signOut } = useSession();
  const nav = NAV.filter((item) => item.to !== '/test-tools' || config?.testTools !== false);
  const signedIn = config?.auth === true && config.authenticated;
  return (
    <div className="min-h-screen bg-slate-100 text-slate-900">
      <a
        href="#main"
        className="sr-only rounded bg-white px-3 py-2 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-10"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-800 bg-slate-900 text-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link to="/dashboard" className="flex items-center gap-2 font-semibold tracking-tight">
            <img src="/favicon.svg" alt="" className="size-6" />
            Leadflow
          </Link>
          <nav aria-label="Main" className="-mx-1">
            {/* Wrapped, not scrolled: at 390 px a scrolled bar hid its last pages off-screen. */}
            <ul className="flex flex-wrap gap-1">
              {nav.map((item) => {
                const current = isCurrent(pathname, item.to);
                return (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      aria-current={current ? 'page' : undefined}
                      className={`block rounded-md px-3 py-1.5 text-sm font-medium whitespace-nowrap ${current ? 'bg-white text-slate-900' : 'text-slate-200 hover:bg-slate-800 hover:text-white'}`}
                    >
                      {item.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          {signedIn && (
            <Button variant="inverse" size="sm" onClick={() => void signOut()} className="ml-auto">
              Sign out
            </Button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-6 focus:outline-none">
        {children}
      </main>
    </div>
  );
}
