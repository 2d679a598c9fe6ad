import { PageHeader } from '../components/PageHeader.js';
import { Link } from '../router/router.js';

export function NotFoundPage() {
  return (
    <PageHeader title="Page not found">
      Nothing lives here.{' '}
      <Link to="/dashboard" className="text-blue-800 underline">
        Go to the dashboard
      </Link>
      .
    </PageHeader>
  );
}
