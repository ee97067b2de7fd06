// Add a server (#/add) or edit one (#/servers/NAME/edit). The form's state lives in
// useServerForm; its sections are common-fields, stdio-fields and http-fields. Adding starts with
// suggestions (well-known servers) that fill the form.

import { IconAlert, IconBack, IconServer } from '../../components/icons';
import { EmptyState, Spinner, useTitle } from '../../components/ui';
import type { Server } from '../../api';
import { href } from '../../router';
import { useStore } from '../../store';
import { CommonFields } from './common-fields';
import { HttpFields } from './http-fields';
import { StdioFields } from './stdio-fields';
import { Suggestions } from './suggestions';
import { useServerForm } from './use-server-form';

export function ServerFormPage({ editName, suggest = null }: { editName?: string; suggest?: string | null }) {
  const { servers } = useStore();
  const editing = editName !== undefined;
  const original = editing ? servers.find((s) => s.name === editName) : undefined;
  useTitle(editing ? `Edit ${editName}` : 'Add server');

  if (editing && !original) {
    return (
      <div class="page page-narrow">
        <a class="back-link" href={href.servers()}>
          <IconBack size={14} /> Servers
        </a>
        <div class="card">
          <EmptyState icon={<IconServer size={28} />} title={`No server named “${editName}”`}>
            <p>It may have been removed in the meantime.</p>
          </EmptyState>
        </div>
      </div>
    );
  }
  return <ServerForm original={original} suggest={suggest} />;
}

function ServerForm({ original, suggest }: { original?: Server; suggest: string | null }) {
  const form = useServerForm(original);
  const cancelHref = original ? href.server(original.name) : href.servers();

  return (
    <div class="page page-narrow">
      <a class="back-link" href={cancelHref}>
        <IconBack size={14} /> {original ? original.name : 'Servers'}
      </a>
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>{original ? `Edit ${original.name}` : 'Add a server'}</h1>
          <p class="page-sub">
            {original
              ? 'Changes are written to the config file and the server restarts with them.'
              : 'Loopgate starts it right away and offers its tools to every client.'}
          </p>
        </div>
      </div>

      {!original && <Suggestions form={form} preselect={suggest} />}

      <form class="card form" ref={form.formRef} onSubmit={form.submit} noValidate data-testid="server-form">
        {form.general && (
          <div class="alert alert-danger form-alert" role="alert" tabIndex={-1} data-testid="form-error">
            <IconAlert size={18} />
            <div class="alert-text">{form.general}</div>
          </div>
        )}

        <CommonFields form={form} />
        {form.values.transport === 'stdio' ? <StdioFields form={form} /> : <HttpFields form={form} />}

        <div class="form-actions">
          <a class="btn" href={cancelHref}>
            Cancel
          </a>
          <button type="submit" class="btn btn-primary" disabled={form.submitting} data-testid="submit-server">
            {form.submitting && <Spinner size={13} />}
            {original ? 'Save changes' : 'Add server'}
          </button>
        </div>
      </form>
    </div>
  );
}
