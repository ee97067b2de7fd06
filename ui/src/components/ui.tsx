// Small building blocks shared by the pages.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ServerState } from '../api';
import { stateLabel } from '../lib/format';
import { dismissToast, useStore } from '../store';
import { IconCheck, IconCopy, IconLock, IconX } from './icons';

/** An accessible on/off switch (a button with role="switch"). */
export function Switch(props: {
  checked: boolean;
  onChange: (next: boolean) => void;
  label: string;
  title?: string;
  busy?: boolean;
  disabled?: boolean;
  size?: 'md' | 'sm';
  testId?: string;
}) {
  const { checked, onChange, label, title, busy, disabled, size = 'md', testId } = props;
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      aria-busy={busy || undefined}
      title={title ?? label}
      disabled={disabled}
      class={`switch switch-${size}${busy ? ' is-busy' : ''}`}
      data-testid={testId}
      onClick={(e) => {
        e.stopPropagation();
        onChange(!checked);
      }}
    >
      <span class="switch-thumb" />
    </button>
  );
}

export function StatusDot({ state }: { state: ServerState }) {
  return <span class={`dot dot-${state}`} aria-hidden="true" />;
}

/** Dot + label, e.g. "● Ready". */
export function StatePill({ state, testId }: { state: ServerState; testId?: string }) {
  return (
    <span class={`state-pill state-${state}`} data-state={state} data-testid={testId}>
      <StatusDot state={state} />
      {stateLabel[state]}
    </span>
  );
}

export function CopyButton({ text, label = 'Copy', compact = false }: { text: string; label?: string; compact?: boolean }) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      class={`btn btn-ghost btn-sm copy-btn${copied ? ' is-copied' : ''}`}
      aria-label={copied ? 'Copied' : `${label}: ${text}`}
      title={copied ? 'Copied' : label}
      onClick={async (e) => {
        e.stopPropagation();
        if (await copyText(text)) {
          setCopied(true);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => setCopied(false), 1600);
        }
      }}
    >
      {copied ? <IconCheck /> : <IconCopy />}
      {!compact && <span>{copied ? 'Copied' : label}</span>}
    </button>
  );
}

export function SecretBadge({ name }: { name?: string }) {
  return (
    <span class="badge badge-secret" title={name ? `Stored in the OS keychain as “${name}”` : 'Stored in the OS keychain'}>
      <IconLock size={12} />
      secret
    </span>
  );
}

export function EmptyState(props: {
  icon: ComponentChildren;
  title: string;
  children?: ComponentChildren;
  action?: ComponentChildren;
  tone?: 'neutral' | 'danger' | 'warning';
  testId?: string;
}) {
  return (
    <div class={`empty tone-${props.tone ?? 'neutral'}`} data-testid={props.testId}>
      <div class="empty-icon">{props.icon}</div>
      <h2 class="empty-title">{props.title}</h2>
      {props.children && <div class="empty-body">{props.children}</div>}
      {props.action && <div class="empty-action">{props.action}</div>}
    </div>
  );
}

export function Skeleton({ width, height = 14 }: { width?: string; height?: number }) {
  return <span class="skeleton" style={{ width: width ?? '100%', height: `${height}px` }} aria-hidden="true" />;
}

export function Spinner({ size = 14 }: { size?: number }) {
  return <span class="spinner" style={{ width: `${size}px`, height: `${size}px` }} aria-hidden="true" />;
}

export function Toasts() {
  const { toasts } = useStore();
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          <span class="toast-msg">{t.message}</span>
          <button type="button" class="btn btn-ghost btn-icon btn-sm" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <IconX size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}

/** A modal confirmation built on <dialog> (focus trap, Escape to cancel). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e: Event) => {
        e.preventDefault();
        props.onCancel();
      }}
      onClick={(e) => {
        if (e.target === ref.current) props.onCancel();
      }}
    >
      <div class="dialog-body">
        <h2 id="dialog-title" class="dialog-title">
          {props.title}
        </h2>
        <div class="dialog-text">{props.children}</div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={props.onCancel} autofocus>
            Cancel
          </button>
          <button
            type="button"
            class={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`}
            onClick={props.onConfirm}
            disabled={props.busy}
            data-testid="confirm-dialog-confirm"
          >
            {props.confirmLabel}
          </button>
        </div>
      </div>
    </dialog>
  );
}

/** Sets document.title for the current page. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Loopgate` : 'Loopgate';
  }, [title]);
}

/** The current time, updated every `everyMs` while `active`. */
export function useNow(everyMs = 1000, active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs, active]);
  return now;
}

/** Copies `text` to the clipboard; false when the browser refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Fallback for contexts without the async clipboard API.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}
