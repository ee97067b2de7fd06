// State of the add/edit server form: its values, errors and submission. The rules themselves
// (validation, the request body, where an API error belongs) are in lib/server-form.ts.

import { useRef, useState } from 'preact/hooks';
import { api, type ApiError, type Server, type ServerConfig } from '../../api';
import { looksLikeCommandLine, splitCommandLine } from '../../lib/command-line';
import {
  buildServerInput,
  firstErrorField,
  formFieldOf,
  initialValues,
  validateServerForm,
  type FormErrors,
  type ServerFormValues,
} from '../../lib/server-form';
import { href, navigate } from '../../router';
import { refresh, toast } from '../../store';

export type ServerForm = ReturnType<typeof useServerForm>;

/** The form field (error key, `data-field`) of each value, where the names differ. */
const FIELD_OF: Partial<Record<keyof ServerFormValues, string>> = { argsText: 'args', envRows: 'env', headerRows: 'headers', signIn: 'auth' };

export function useServerForm(original?: Server) {
  /** The server's config, read as the form reads it (either kind's keys, all optional). */
  const config: ServerConfig | undefined = original?.config;
  const [values, setValues] = useState<ServerFormValues>(() => initialValues(original));
  const [errors, setErrors] = useState<FormErrors>({});
  /** An error of the whole form (not of one field). */
  const [general, setGeneral] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  /** Clears the errors of `fields` (editing a field answers its error). */
  const clearErrors = (...fields: string[]) =>
    setErrors((errs) => {
      if (!fields.some((f) => errs[f])) return errs;
      const next = { ...errs };
      for (const f of fields) delete next[f];
      return next;
    });

  /** Sets one value and clears its field's error (and those of `alsoClear`); switching the
   *  transport keeps every error. */
  const set = <K extends keyof ServerFormValues>(key: K, value: ServerFormValues[K], ...alsoClear: string[]) => {
    setValues((v) => ({ ...v, [key]: value }));
    if (key !== 'transport') clearErrors(FIELD_OF[key] ?? key, ...alsoClear);
  };

  const focusAlert = () => formRef.current?.querySelector<HTMLElement>('.form-alert')?.focus();

  const focusFirstError = (errs: FormErrors) => {
    requestAnimationFrame(() => {
      const el = formRef.current?.querySelector<HTMLElement>(`[data-field="${firstErrorField(errs)}"]`);
      if (el) el.focus();
      else focusAlert();
    });
  };

  /** Offer to split a whole command line pasted into Command (stdio, arguments still empty). */
  const canSplit = values.transport === 'stdio' && looksLikeCommandLine(values.command, values.argsText);

  const splitCommand = () => {
    const parts = splitCommandLine(values.command.trim());
    setValues((v) => ({ ...v, command: parts[0] ?? '', argsText: parts.slice(1).join('\n') }));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (submitting) return;
    const errs = validateServerForm(values);
    setErrors(errs);
    setGeneral(null);
    if (Object.keys(errs).length) {
      focusFirstError(errs);
      return;
    }
    const body = buildServerInput(values, original?.config ?? {});
    setSubmitting(true);
    try {
      if (original) await api.updateServer(original.name, body);
      else await api.addServer(body);
      await refresh();
      toast(original ? `Saved ${body.name}` : `Added ${body.name} — starting it now`, 'success');
      navigate(href.server(body.name));
    } catch (err) {
      const ae = err as ApiError;
      if (ae.unauthorized) return;
      const field = formFieldOf(ae.field, values.transport);
      if (field) {
        const next = { [field]: ae.message };
        setErrors(next);
        focusFirstError(next);
      } else {
        setGeneral(ae.message);
        requestAnimationFrame(focusAlert);
      }
    } finally {
      setSubmitting(false);
    }
  };

  /** Replaces every value (a suggestion picked), clearing the errors. */
  const fill = (next: ServerFormValues) => {
    setValues(next);
    setErrors({});
    setGeneral(null);
  };

  return {
    original,
    editing: !!original,
    fill,
    /** A client secret is in the keychain already (typing one replaces it). */
    hasClientSecret: !!config?.oauth?.hasClientSecret,
    values,
    set,
    clearErrors,
    errors,
    general,
    submitting,
    formRef,
    canSplit,
    splitCommand,
    submit,
  };
}
