import { useId, useState, type FormEvent } from 'react';
import { useUpdateProvider } from '../../api/providers.js';
import type { ProviderPatch, ProviderView } from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';
import { DeliveryEditor } from './DeliveryEditor.js';
import { RoutingRules } from './RulesEditor.js';
import { FieldErrorText } from '../../components/FieldError.js';
import { errorsFrom, parseWholeNumber, type ErrorsByField } from './formErrors.js';

const FIELDS = ['name', 'quota', 'remainingQuota', 'active'] as const;

export interface ProviderRowProps {
  provider: ProviderView;
}

const DELIVERY_SUMMARY = { none: 'no endpoint', ok: 'delivering', paused: 'paused' } as const;

const INPUT =
  'w-full rounded-lg border px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700 border-slate-300';

export function ProviderRow({ provider }: ProviderRowProps) {
  const id = useId();
  const [name, setName] = useState(provider.name);
  const [quota, setQuota] = useState(String(provider.quota));
  const [remaining, setRemaining] = useState(String(provider.remainingQuota));
  const [active, setActive] = useState(provider.active);
  const [errors, setErrors] = useState<ErrorsByField>({});
  const updateProvider = useUpdateProvider();
  const [saved, setSaved] = useState(false);

  const changed =
    name !== provider.name ||
    quota !== String(provider.quota) ||
    remaining !== String(provider.remainingQuota) ||
    active !== provider.active;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
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
    const changes: ProviderPatch = {};
    if (name !== provider.name) changes.name = name;
    if (parsedQuota !== provider.quota) changes.quota = parsedQuota as number;
    if (parsedRemaining !== provider.remainingQuota)
      changes.remainingQuota = parsedRemaining as number;
    if (active !== provider.active) changes.active = active;
    try {
      const updated = await updateProvider.mutateAsync({ id: provider.id, changes });
      setErrors({});
      setName(updated.name);
      setQuota(String(updated.quota));
      setRemaining(String(updated.remainingQuota));
      setActive(updated.active);
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
        onSubmit={(event) => void submit(event)}
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
            onChange={(event) => setName(event.target.value)}
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
            onChange={(event) => setQuota(event.target.value)}
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
            onChange={(event) => setRemaining(event.target.value)}
            className={INPUT}
          />
          <FieldErrorText id={`${id}-remainingQuota-error`} message={errors['remainingQuota']} />
        </div>
        <div className="flex items-center gap-2 self-center sm:pt-4">
          <input
            {...fieldProps('active')}
            type="checkbox"
            checked={active}
            onChange={(event) => setActive(event.target.checked)}
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
          <span aria-live="polite" className="text-xs text-emerald-800">
            {saved && !changed ? 'Saved' : ''}
          </span>
        </div>
        {errors['form'] && (
          <p role="alert" className="col-span-full text-sm font-medium text-red-800">
            {errors['form']}
          </p>
        )}
      </form>
      <details className="mb-3 rounded-lg border border-slate-200 px-3 py-2">
        <summary className="cursor-pointer text-sm font-medium text-slate-900">
          Delivery endpoint of {provider.name}:{' '}
          <span className="font-normal text-slate-700">
            {DELIVERY_SUMMARY[provider.deliveryState]}
          </span>
          {provider.delivery && (
            <span className="ml-2 font-mono text-xs font-normal break-all text-slate-600">
              {provider.delivery.url}
            </span>
          )}
        </summary>
        <div className="pt-3">
          <DeliveryEditor key={JSON.stringify(provider.delivery)} provider={provider} />
        </div>
      </details>
      <RoutingRules provider={provider} />
    </li>
  );
}
