import { useEffect } from 'react';
import { Layout } from './components/Layout.js';
import { AuditPage } from './pages/audit/AuditPage.js';
import { DashboardPage } from './pages/dashboard/DashboardPage.js';
import { DeliveriesPage } from './pages/deliveries/DeliveriesPage.js';
import { LeadDetailPage } from './pages/leads/LeadDetailPage.js';
import { LeadsPage } from './pages/leads/LeadsPage.js';
import { LoginPage } from './pages/login/LoginPage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { RawRequestsPage } from './pages/raw-requests/RawRequestsPage.js';
import { ReportsPage } from './pages/reports/ReportsPage.js';
import { SettingsPage } from './pages/settings/SettingsPage.js';
import { TestToolsPage } from './pages/test-tools/TestToolsPage.js';
import { navigate, useLocation } from './router/router.js';
import { loginPath, useSession } from './session/session.js';

function Page({ pathname }: { pathname: string }) {
  if (pathname === '/' || pathname === '/dashboard') return <DashboardPage />;
  if (pathname === '/test-tools') return <TestToolsPage />;
  if (pathname === '/leads') return <LeadsPage />;
  const lead = /^\/leads\/([^/]+)$/.exec(pathname);
  if (lead) return <LeadDetailPage key={lead[1]} id={decodeURIComponent(lead[1]!)} />;
  if (pathname === '/deliveries') return <DeliveriesPage />;
  if (pathname === '/settings') return <SettingsPage />;
  if (pathname === '/audit') return <AuditPage />;
  if (pathname === '/raw-requests') return <RawRequestsPage />;
  if (pathname === '/reports') return <ReportsPage />;
  return <NotFoundPage />;
}

/** Pages call the admin API, so none is rendered until the session allows it. */
function Gate({ pathname }: { pathname: string }) {
  const { config } = useSession();
  const mustSignIn = config !== undefined && config.auth && !config.authenticated;
  const onLogin = pathname === '/login';

  useEffect(() => {
    if (mustSignIn && !onLogin) navigate(loginPath(), { replace: true });
  }, [mustSignIn, onLogin]);

  if (onLogin) return <LoginPage />;
  if (config === undefined || mustSignIn) {
    return <p className="text-sm text-slate-600">Loading…</p>;
  }
  return <Page pathname={pathname} />;
}

export function App() {
  const { pathname } = useLocation();
  return (
    <Layout pathname={pathname}>
      <Gate pathname={pathname} />
    </Layout>
  );
}
