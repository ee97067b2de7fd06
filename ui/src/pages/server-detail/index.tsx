// A server’s page (#/servers/NAME, or #/servers/NAME?tool=TOOL to open one tool): heading and
// actions (header), errors and sign-in (status-alerts), the connection facts (facts), its tools
// (tools-section, tool-row), the playground (playground-section; #/servers/NAME/play?tool=X&args=…
// opens it on a tool), resources and prompts (resources-section), its logs (logs-section), and the
// remove dialog (remove-dialog).

import { useState } from 'preact/hooks';
import { IconServer } from '../../components/icons';
import { EmptyState, useTitle } from '../../components/ui';
import { href } from '../../router';
import { useStore } from '../../store';
import { BackLink } from './back-link';
import { Facts } from './facts';
import { DetailHeader } from './header';
import { LogsSection } from './logs-section';
import { RemoveDialog } from './remove-dialog';
import { StatusAlerts } from './status-alerts';
import { ToolsSection } from './tools-section';
import { PlaygroundSection } from './playground-section';
import { ResourcesSection } from './resources-section';

export function ServerDetailPage(props: { name: string; focusTool: string | null; playTool?: string | null; playArgs?: string | null }) {
  const { name, focusTool } = props;
  const { servers } = useStore();
  const server = servers.find((s) => s.name === name);
  useTitle(name);
  const [confirming, setConfirming] = useState(false);

  if (!server) {
    return (
      <div class="page">
        <BackLink />
        <div class="card">
          <EmptyState
            icon={<IconServer size={28} />}
            title={`No server named “${name}”`}
            testId="server-missing"
            action={
              <a class="btn btn-primary" href={href.servers()}>
                Back to servers
              </a>
            }
          >
            <p>It may have been removed or renamed in the config file.</p>
          </EmptyState>
        </div>
      </div>
    );
  }

  return (
    <div class="page" data-testid="server-detail">
      <BackLink />
      <DetailHeader server={server} onRemove={() => setConfirming(true)} />
      <StatusAlerts server={server} />
      <Facts server={server} />
      <ToolsSection server={server} focusTool={focusTool} />
      <PlaygroundSection server={server} initialTool={props.playTool ?? null} initialArgs={props.playArgs ?? null} />
      <ResourcesSection server={server} />
      <LogsSection server={server} />
      <RemoveDialog server={server} open={confirming} onClose={() => setConfirming(false)} />
    </div>
  );
}
