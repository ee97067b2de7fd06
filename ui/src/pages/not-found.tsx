import { IconSearch } from '../components/icons';
import { EmptyState, useTitle } from '../components/ui';
import { href } from '../router';

export function NotFound() {
  useTitle('Not found');
  return (
    <div class="page">
      <h1 class="sr-only" tabIndex={-1}>
        Page not found
      </h1>
      <div class="card">
        <EmptyState
          icon={<IconSearch size={26} />}
          title="Nothing here"
          action={
            <a class="btn btn-primary" href={href.servers()}>
              Go to servers
            </a>
          }
        >
          <p>This page doesn’t exist in the dashboard.</p>
        </EmptyState>
      </div>
    </div>
  );
}
