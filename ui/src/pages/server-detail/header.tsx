// A server page's heading: status, name, transport, and its actions (on/off switch, restart,
// edit, remove).

import type { Server } from '../../api';
import { IconEdit, IconGlobe, IconRestart, IconTerminal, IconTrash } from '../../components/icons';
import { StatePill, StatusDot, Switch } from '../../components/ui';
import { effectiveEnabled } from '../../lib/servers';
import { href } from '../../router';
import { restartServer, setServerEnabled, useStore } from '../../store';

export function DetailHeader({ server, onRemove }: { server: Server; onRemove: () => void }) {
  const { pending } = useStore();
  const on = effectiveEnabled(server, pending);
  const busy = server.name in pending;

  return (
    <div class="detail-head">
      <div class="detail-title">
        <StatusDot state={server.state} />
        <h1 tabIndex={-1}>{server.name}</h1>
        <StatePill state={server.state} testId={`detail-state-${server.name}`} />
        <span class="badge badge-transport">
          {server.transport === 'http' ? <IconGlobe size={12} /> : <IconTerminal size={12} />}
          {server.transport === 'http' ? 'HTTP' : 'stdio'}
        </span>
      </div>
      <div class="detail-actions">
        <label class="switch-label">
          <Switch
            checked={on}
            busy={busy}
            label={`${server.name} enabled`}
            title={on ? 'Switch this server off' : 'Switch this server on'}
            testId={`server-switch-${server.name}`}
            onChange={(next) => void setServerEnabled(server.name, next)}
          />
          <span aria-hidden="true">{on ? 'On' : 'Off'}</span>
        </label>
        <button type="button" class="btn" disabled={!server.enabled} onClick={() => void restartServer(server.name)}>
          <IconRestart /> Restart
        </button>
        <a class="btn" href={href.edit(server.name)} data-testid="edit-server">
          <IconEdit /> Edit
        </a>
        <button type="button" class="btn btn-danger-ghost" onClick={onRemove} data-testid="remove-server">
          <IconTrash /> Remove
        </button>
      </div>
    </div>
  );
}
