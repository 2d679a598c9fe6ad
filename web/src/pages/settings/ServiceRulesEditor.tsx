import { useId, useState, type FormEvent } from 'react';
import { useUpdateService } from '../../api/services.js';
import type { Dedupe, Service } from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';
import { ruleErrorText } from './ruleErrors.js';

const INPUT =
  'w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700';

export interface ServiceRulesEditorProps {
  service: Service;
}

/** A service's duplicate window and backlog limit (SPEC §10). */
export function ServiceRulesEditor({ service }: ServiceRulesEditorProps) {
  const id = useId();
  const [enabled, setEnabled] = useState(service.dedupe !== null);
  const [fields, setFields] = useState<Dedupe['fields']>(service.dedupe?.fields ?? ['email']);
  const [days, setDays] = useState(String(service.dedupe?.days ?? 30));
  const [scope, setScope] = useState<Dedupe['scope']>(service.dedupe?.scope ?? 'service');
  const [backlogHours, setBacklogHours] = useState(String(service.backlogHours));
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const updateService = useUpdateService();

  const toggleField = (field: 'email' | 'phone'): void =>
    setFields(
      fields.includes(field) ? fields.filter((each) => each !== field) : [...fields, field],
    );

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    if (!/^\d+$/.test(backlogHours.trim()) || (enabled && !/^\d+$/.test(days.trim()))) {
      setError('Days and backlog hours must be whole numbers');
      return;
    }
    try {
      await updateService.mutateAsync({
        id: service.id,
        changes: {
          dedupe: enabled ? { fields, days: Number(days), scope } : null,
          backlogHours: Number(backlogHours),
        },
      });
      setError(undefined);
      setSaved(true);
    } catch (failure) {
      setError(ruleErrorText(failure));
    }
  };

  return (
    <form
      noValidate
      onSubmit={(event) => void submit(event)}
      aria-label={`Duplicate window and backlog of ${service.name}`}
      className="grid gap-3 rounded-lg border border-slate-200 p-3"
      data-testid={`service-rules-${service.id}`}
    >
      <p className="text-sm text-slate-700">
        Backlog: <strong>{service.backlog}</strong> unallocated lead
        {service.backlog === 1 ? '' : 's'} waiting
      </p>
      <label className="flex items-center gap-2 text-sm text-slate-800">
        <input
          type="checkbox"
          checked={enabled}
          onChange={(event) => setEnabled(event.target.checked)}
          className="size-4"
        />
        Refuse repeated contacts (duplicate window)
      </label>
      {enabled && (
        <div className="grid gap-3 sm:grid-cols-3">
          <fieldset className="flex flex-wrap items-center gap-3">
            <legend className="text-xs font-medium text-slate-700">Compare</legend>
            {(['email', 'phone'] as const).map((field) => (
              <label key={field} className="flex items-center gap-1 text-sm text-slate-800">
                <input
                  type="checkbox"
                  checked={fields.includes(field)}
                  onChange={() => toggleField(field)}
                  className="size-4"
                />
                {field}
              </label>
            ))}
          </fieldset>
          <div>
            <label htmlFor={`${id}-days`} className="text-xs font-medium text-slate-700">
              Window (days)
            </label>
            <input
              id={`${id}-days`}
              inputMode="numeric"
              value={days}
              onChange={(event) => setDays(event.target.value)}
              className={INPUT}
            />
          </div>
          <div>
            <label htmlFor={`${id}-scope`} className="text-xs font-medium text-slate-700">
              Scope
            </label>
            <select
              id={`${id}-scope`}
              value={scope}
              onChange={(event) => setScope(event.target.value as Dedupe['scope'])}
              className={INPUT}
            >
              <option value="service">service: refuse the lead</option>
              <option value="provider">provider: skip who had it</option>
            </select>
          </div>
        </div>
      )}
      <div className="sm:max-w-xs">
        <label htmlFor={`${id}-backlog`} className="text-xs font-medium text-slate-700">
          Backlog hours (a refused lead expires after)
        </label>
        <input
          id={`${id}-backlog`}
          inputMode="numeric"
          value={backlogHours}
          onChange={(event) => setBacklogHours(event.target.value)}
          className={INPUT}
        />
      </div>
      <div className="flex items-center gap-2">
        <Button type="submit" size="sm" disabled={updateService.isPending}>
          {updateService.isPending ? 'Saving…' : 'Save duplicate window and backlog'}
        </Button>
        <span aria-live="polite" className="text-xs text-emerald-800">
          {saved ? 'Saved' : ''}
        </span>
      </div>
      {error && (
        <p role="alert" className="text-sm font-medium text-red-800">
          {error}
        </p>
      )}
    </form>
  );
}
