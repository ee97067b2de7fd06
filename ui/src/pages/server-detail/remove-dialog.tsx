// Asks before removing a server; on success goes back to the server list.

import { useState } from 'preact/hooks';
import type { Server } from '../../api';
import { ConfirmDialog } from '../../components/ui';
import { plural } from '../../lib/format';
import { href, navigate } from '../../router';
import { removeServer } from '../../store';

export function RemoveDialog({ server, open, onClose }: { server: Server; open: boolean; onClose: () => void }) {
  const [removing, setRemoving] = useState(false);
  return (
    <ConfirmDialog
      open={open}
      title={`Remove ${server.name}?`}
      confirmLabel={removing ? 'Removing…' : 'Remove server'}
      danger
      busy={removing}
      onCancel={onClose}
      onConfirm={async () => {
        setRemoving(true);
        const ok = await removeServer(server.name);
        setRemoving(false);
        onClose();
        if (ok) navigate(href.servers());
      }}
    >
      <p>
        Loopgate stops <strong>{server.name}</strong> and deletes it from the config file. Its {plural(server.toolCount, 'tool')}{' '}
        disappear from your clients.
      </p>
    </ConfirmDialog>
  );
}
