import { useId, useState, type FormEvent } from 'react';
import { useArchiveProvider, useUpdateProvider } from '../../api/providers.js';
import type { ProviderPatch, ProviderView, Service } from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { RoutingRules } from './RulesEditor.js';
import { FieldErrorText } from '../../components/FieldError.js';
import { errorsFrom, parseWholeNumber, type ErrorsByField } from './formErrors.js';
import { PROVIDER_EDITORS } from './providerEditors.js';
import { providerWarning, servicesUsing } from './warnings.js';

const FIELDS = ['name', 'quota', 'remainingQuota', 'active'] as const;

export interface ProviderRowProps {
  provider: ProviderView;
  /** The live services, to name those that use this provider before it stops serving them. */
  services: Service[];
}

/** What the confirmation dialog is asking about, if anything. */
type Question = 'deactivate' | 'archive' | null;

function namesOf(services: Service[]): string {
  return services.map((service) => service.name).join(', ');
}

const INPUT =
  'w-full rounded-lg border px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700 border-slate-300';

/**
 * What the operator typed, field by field. A field not typed in shows the provider as the
 * server has it now: the form used to copy every field once, so "Remaining" stayed at its value
 * from page load while leads used quota, and saving any other field wrote the old value back
 * (a unit of quota given back per lead taken meanwhile).
 */
interface Draft {
  name?: string;
  quota?: string;
  remaining?: string;
  active?: boolean;
}

export function ProviderRow({ provider, services }: ProviderRowProps) {
  const id = useId();
  const [draft, setDraft] = useState<Draft>({});
  const name = draft.name ?? provider.name;
  const quota = draft.quota ?? String(provider.quota);
  const remaining = draft.remaining ?? String(provider.remainingQuota);
  const active = draft.active ?? provider.active;
  const edit = (field: Partial<Draft>): void => setDraft((current) => ({ ...current, ...field }));
  const [errors, setErrors] = useState<ErrorsByField>({});
  const updateProvider = useUpdateProvider();
  const [saved, setSaved] = useState(false);
  const [question, setQuestion] = useState<Question>(null);
  const archiveProvider = useArchiveProvider();
  const usedBy = servicesUsing(provider.id, services);
  const warning = providerWarning(provider);

  const changed =
    name !== provider.name ||
    quota !== String(provider.quota) ||
    remaining !== String(provider.remainingQuota) ||
    active !== provider.active;

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    // Switching off a provider that services use changes what they can fill: ask first.
    if (provider.active && !active && usedBy.length > 0) setQuestion('deactivate');
    else void save();
  };

  const archive = async (): Promise<void> => {
    setQuestion(null);
    try {
      await archiveProvider.mutateAsync(provider.id);
    } catch (error) {
      setErrors(errorsFrom(error, FIELDS));
    }
  };

  const save = async (): Promise<void> => {
    setQuestion(null);
    setSaved(false);
    const parsedQuota = parseWholeNumber(quota);
    const parsedRemaining = parseWholeNumber(remaining);
    const local: ErrorsByField = {};
    if (typeof parsedQuota === 'string') local['quota'] = parsedQuota;
    if (typeof parsedRemaining === 'string') local['remainingQuota'] = parsedRemaining;
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return;
    }
    // Only what the operator typed, and only where it differs from the server's value now.
    const changes: ProviderPatch = {};
    if (draft.name !== undefined && name !== provider.name) changes.name = name;
    if (draft.quota !== undefined && parsedQuota !== provider.quota)
      changes.quota = parsedQuota as number;
    if (draft.remaining !== undefined && parsedRemaining !== provider.remainingQuota)
      changes.remainingQuota = parsedRemaining as number;
    if (draft.active !== undefined && active !== provider.active) changes.active = active;
    try {
      // Resolves once the providers are read again (the mutation waits for it): the fields
      // then show the saved values from the provider itself.
      await updateProvider.mutateAsync({ id: provider.id, changes });
      setErrors({});
      setDraft({});
      setSaved(true);
    } catch (error) {
      setErrors(errorsFrom(error, FIELDS));
    }
  };

  const fieldProps = (field: string) => ({
    id: `${id}-${field}`,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `${id}-${field}-error` : undefined,
  });

  return (
    <li data-testid={`provider-settings-${provider.id}`}>
      <form
        noValidate
        onSubmit={submit}
        aria-label={`Provider ${provider.name}`}
        className="grid grid-cols-2 items-start gap-3 py-3 sm:grid-cols-[3rem_minmax(0,20rem)_7rem_7rem_6rem_auto]"
      >
        <span className="col-span-2 self-center font-mono text-sm text-slate-600 sm:col-span-1">
          #{provider.id}
        </span>
        <div className="col-span-2 sm:col-span-1">
          <label htmlFor={`${id}-name`} className="text-xs font-medium text-slate-700">
            Name
          </label>
          <input
            {...fieldProps('name')}
            value={name}
            onChange={(event) => edit({ name: event.target.value })}
            className={INPUT}
          />
          <FieldErrorText id={`${id}-name-error`} message={errors['name']} />
        </div>
        <div>
          <label htmlFor={`${id}-quota`} className="text-xs font-medium text-slate-700">
            Quota
          </label>
          <input
            {...fieldProps('quota')}
            inputMode="numeric"
            value={quota}
            onChange={(event) => edit({ quota: event.target.value })}
            className={INPUT}
          />
          <FieldErrorText id={`${id}-quota-error`} message={errors['quota']} />
        </div>
        <div>
          <label htmlFor={`${id}-remainingQuota`} className="text-xs font-medium text-slate-700">
            Remaining
          </label>
          <input
            {...fieldProps('remainingQuota')}
            inputMode="numeric"
            value={remaining}
            onChange={(event) => edit({ remaining: event.target.value })}
            className={INPUT}
          />
          <FieldErrorText id={`${id}-remainingQuota-error`} message={errors['remainingQuota']} />
        </div>
        <div className="flex items-center gap-2 self-center sm:pt-4">
          <input
            {...fieldProps('active')}
            type="checkbox"
            checked={active}
            onChange={(event) => edit({ active: event.target.checked })}
            className="size-4"
          />
          <label htmlFor={`${id}-active`} className="text-sm text-slate-800">
            Active
          </label>
        </div>
        <div className="flex items-center gap-2 self-center sm:pt-4">
          <Button type="submit" size="sm" disabled={!changed || updateProvider.isPending}>
            {updateProvider.isPending ? 'Saving…' : 'Save'}
          </Button>
          <Button
            variant="ghost"
            size="sm"
            onClick={() => setQuestion('archive')}
            disabled={archiveProvider.isPending}
          >
            Archive
          </Button>
          <span aria-live="polite" className="text-xs text-emerald-800">
            {saved && !changed ? 'Saved' : ''}
          </span>
        </div>
        {(warning || usedBy.length > 0) && (
          <p className="col-span-full text-xs text-slate-700">
            {warning && (
              <span className="mr-2 font-medium text-amber-900" data-testid="provider-warning">
                {warning}.
              </span>
            )}
            {usedBy.length > 0 ? `Used by ${namesOf(usedBy)}.` : 'Used by no service.'}
          </p>
        )}
        {errors['form'] && (
          <p role="alert" className="col-span-full text-sm font-medium text-red-800">
            {errors['form']}
          </p>
        )}
      </form>
      {PROVIDER_EDITORS.map(({ key, title, summary, Editor }) => (
        <details
          key={key}
          data-testid={`provider-editor-${key}`}
          className="mb-3 rounded-lg border border-slate-200 px-3 py-2"
        >
          <summary className="cursor-pointer text-sm font-medium text-slate-900">
            {title(provider)}:{' '}
            <span className="font-normal break-all text-slate-700">{summary(provider)}</span>
          </summary>
          <div className="pt-3">
            <Editor provider={provider} />
          </div>
        </details>
      ))}
      <RoutingRules provider={provider} />
      <ConfirmDialog
        open={question !== null}
        title={
          question === 'archive'
            ? `Archive provider ${provider.name}?`
            : `Deactivate ${provider.name}?`
        }
        confirmLabel={question === 'archive' ? 'Archive provider' : 'Deactivate'}
        onConfirm={() => void (question === 'archive' ? archive() : save())}
        onCancel={() => setQuestion(null)}
      >
        {question === 'archive' && (
          <p>
            It will never get a lead again and leaves every list; its past leads and deliveries
            stay. Archiving cannot be undone.
          </p>
        )}
        {usedBy.length > 0 ? (
          <p>
            {usedBy.length === 1 ? 'One service uses it' : `${usedBy.length} services use it`}:{' '}
            <strong>{namesOf(usedBy)}</strong>. They will fill leads without it.
          </p>
        ) : (
          <p>No service uses it.</p>
        )}
      </ConfirmDialog>
    </li>
  );
}
