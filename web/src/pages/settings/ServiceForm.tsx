import { useId, useState, type FormEvent } from 'react';
import { useArchiveService, useUpdateService } from '../../api/services.js';
import type { Provider, Service, ServicePatch } from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { FieldErrorText } from '../../components/FieldError.js';
import { serviceWarning } from './warnings.js';
import { errorsFrom, parseWholeNumber, type ErrorsByField } from './formErrors.js';
import { MembershipList, type Slot } from './MembershipList.js';

const FIELDS = ['name', 'slug', 'providersPerLead', 'static', 'pool', 'providers'] as const;

export interface ServiceFormProps {
  service: Service;
  providers: Provider[];
}

function sameOrder(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

export function ServiceForm({ service, providers }: ServiceFormProps) {
  const id = useId();
  const [name, setName] = useState(service.name);
  const [slug, setSlug] = useState(service.slug);
  const [confirming, setConfirming] = useState(false);
  const archiveService = useArchiveService();
  const [perLead, setPerLead] = useState(String(service.providersPerLead));
  const [members, setMembers] = useState<Record<Slot, number[]>>({
    static: service.static,
    pool: service.pool,
  });
  const [toAdd, setToAdd] = useState('');
  const [errors, setErrors] = useState<ErrorsByField>({});
  const [warnings, setWarnings] = useState<string[]>([]);
  const updateService = useUpdateService();
  const [saved, setSaved] = useState(false);

  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  const membershipChanged =
    !sameOrder(members.static, service.static) || !sameOrder(members.pool, service.pool);
  const changed =
    name !== service.name ||
    slug !== service.slug ||
    perLead !== String(service.providersPerLead) ||
    membershipChanged;
  const warning = serviceWarning(service, providers);
  const outside = providers.filter(
    (provider) => !members.static.includes(provider.id) && !members.pool.includes(provider.id),
  );

  const update = (change: (current: Record<Slot, number[]>) => Record<Slot, number[]>): void => {
    setSaved(false);
    setMembers((current) => change({ static: [...current.static], pool: [...current.pool] }));
  };
  const move = (slot: Slot) => (index: number, delta: -1 | 1) =>
    update((current) => {
      const list = current[slot];
      [list[index], list[index + delta]] = [list[index + delta]!, list[index]!];
      return current;
    });
  const switchSlot = (slot: Slot) => (index: number) =>
    update((current) => {
      const [providerId] = current[slot].splice(index, 1);
      current[slot === 'static' ? 'pool' : 'static'].push(providerId!);
      return current;
    });
  const remove = (slot: Slot) => (index: number) =>
    update((current) => {
      current[slot].splice(index, 1);
      return current;
    });
  const add = (slot: Slot) => (): void => {
    const providerId = Number(toAdd);
    if (!providerId) return;
    update((current) => {
      current[slot].push(providerId);
      return current;
    });
    setToAdd('');
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    const parsed = parseWholeNumber(perLead);
    if (typeof parsed === 'string') {
      setErrors({ providersPerLead: parsed });
      return;
    }
    const changes: ServicePatch = {};
    if (name !== service.name) changes.name = name;
    if (slug !== service.slug) changes.slug = slug;
    if (parsed !== service.providersPerLead) changes.providersPerLead = parsed;
    // Sent only when changed: a new membership restarts the round-robin pointer at 0.
    if (membershipChanged) {
      changes.static = members.static;
      changes.pool = members.pool;
    }
    try {
      const result = await updateService.mutateAsync({ id: service.id, changes });
      setErrors({});
      setWarnings(result.warnings);
      setName(result.service.name);
      setSlug(result.service.slug);
      setPerLead(String(result.service.providersPerLead));
      setMembers({ static: result.service.static, pool: result.service.pool });
      setSaved(true);
    } catch (error) {
      setWarnings([]);
      setErrors(errorsFrom(error, FIELDS));
    }
  };

  const archive = async (): Promise<void> => {
    setConfirming(false);
    try {
      await archiveService.mutateAsync(service.id);
    } catch (error) {
      setErrors(errorsFrom(error, FIELDS));
    }
  };

  const textField = (
    field: 'name' | 'slug',
    label: string,
    value: string,
    set: (value: string) => void,
  ) => (
    <div className="min-w-40 flex-1">
      <label htmlFor={`${id}-${field}`} className="text-xs font-medium text-slate-700">
        {label}
      </label>
      <input
        id={`${id}-${field}`}
        value={value}
        onChange={(event) => {
          setSaved(false);
          set(event.target.value);
        }}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={errors[field] ? `${id}-${field}-error` : undefined}
        className="w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700"
      />
      <FieldErrorText id={`${id}-${field}-error`} message={errors[field]} />
    </div>
  );

  const membershipError = [errors['static'], errors['pool'], errors['providers']]
    .filter(Boolean)
    .join('; ');

  return (
    <form
      noValidate
      onSubmit={(event) => void submit(event)}
      aria-labelledby={`${id}-title`}
      data-testid={`service-settings-${service.id}`}
      className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h3 id={`${id}-title`} className="font-semibold text-slate-900">
          {service.name} <span className="font-normal text-slate-600">{service.slug}</span>
        </h3>
        <span className="text-xs text-slate-600">pointer {service.pointer}</span>
      </div>
      {warning && (
        <p
          role="status"
          data-testid="service-warning"
          className="mt-2 rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900"
        >
          {warning}
        </p>
      )}
      <div className="mt-3 flex flex-wrap gap-3">
        {textField('name', 'Name', name, setName)}
        {textField('slug', 'Slug (senders name the service by it)', slug, setSlug)}
      </div>
      <div className="mt-3 w-40">
        <label htmlFor={`${id}-per-lead`} className="text-xs font-medium text-slate-700">
          Providers per lead
        </label>
        <input
          id={`${id}-per-lead`}
          inputMode="numeric"
          value={perLead}
          onChange={(event) => {
            setSaved(false);
            setPerLead(event.target.value);
          }}
          aria-invalid={errors['providersPerLead'] ? true : undefined}
          aria-describedby={errors['providersPerLead'] ? `${id}-per-lead-error` : undefined}
          className="w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700"
        />
        <FieldErrorText id={`${id}-per-lead-error`} message={errors['providersPerLead']} />
      </div>
      <div className="mt-4 grid gap-4 md:grid-cols-2">
        {(['static', 'pool'] as const).map((slot) => (
          <MembershipList
            key={slot}
            slot={slot}
            serviceName={service.name}
            ids={members[slot]}
            providers={byId}
            onMove={move(slot)}
            onSwitch={switchSlot(slot)}
            onRemove={remove(slot)}
          />
        ))}
      </div>
      <FieldErrorText id={`${id}-members-error`} message={membershipError || undefined} />
      {outside.length > 0 && (
        <div className="mt-3 flex flex-wrap items-end gap-2">
          <div>
            <label htmlFor={`${id}-add`} className="text-xs font-medium text-slate-700">
              Add provider
            </label>
            <select
              id={`${id}-add`}
              value={toAdd}
              onChange={(event) => setToAdd(event.target.value)}
              className="block rounded-lg border border-slate-300 bg-white px-2.5 py-1.5 text-sm"
            >
              <option value="">Choose…</option>
              {outside.map((provider) => (
                <option key={provider.id} value={provider.id}>
                  {provider.name}
                </option>
              ))}
            </select>
          </div>
          <Button variant="secondary" size="sm" disabled={!toAdd} onClick={add('static')}>
            Add to static
          </Button>
          <Button variant="secondary" size="sm" disabled={!toAdd} onClick={add('pool')}>
            Add to pool
          </Button>
        </div>
      )}
      <div className="mt-4 flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={!changed || updateService.isPending}>
          {updateService.isPending ? 'Saving…' : 'Save service'}
        </Button>
        {membershipChanged && (
          <span className="text-xs text-slate-600">
            Saving a new membership restarts the round-robin pointer.
          </span>
        )}
        <span aria-live="polite" className="text-sm text-emerald-800">
          {saved && !changed ? 'Saved' : ''}
        </span>
        <Button
          variant="ghost"
          className="ml-auto"
          onClick={() => setConfirming(true)}
          disabled={archiveService.isPending}
        >
          Archive service
        </Button>
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Archive service ${service.name}?`}
        confirmLabel="Archive service"
        onConfirm={() => void archive()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Senders naming <code className="font-mono">{service.slug}</code> or id {service.id} get
          &ldquo;service not found&rdquo; from then on. Its leads, allocations and deliveries stay.
          Archiving cannot be undone; the slug becomes free for a new service.
        </p>
      </ConfirmDialog>
      {errors['form'] && (
        <p role="alert" className="mt-2 text-sm font-medium text-red-800">
          {errors['form']}
        </p>
      )}
      {warnings.length > 0 && (
        <ul role="status" className="mt-2 list-disc pl-5 text-sm text-amber-900">
          {warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
    </form>
  );
}
