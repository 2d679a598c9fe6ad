import { useId, useState, type FormEvent } from 'react';
import { useUpdateProvider } from '../../api/providers.js';
import {
  CAP_PERIODS,
  FILTER_OPS,
  LEAD_COLUMNS,
  WEEKDAYS,
  type CapPeriod,
  type Caps,
  type Filter,
  type FilterOp,
  type ProviderView,
  type Schedule,
  type Weekday,
} from '../../../../src/contracts/index.js';
import { Button } from '../../components/Button.js';
import { ruleErrorText } from './ruleErrors.js';

const INPUT =
  'w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700';

/** Every zone this browser knows, UTC first; a stored zone it does not know is kept. */
function zoneChoices(current: string): string[] {
  const known =
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', current, ...known])];
}

interface FilterDraft {
  field: string;
  op: FilterOp;
  value: string;
}

const LIST_OPS: readonly FilterOp[] = ['in', 'not_in'];
const NUMBER_OPS: readonly FilterOp[] = ['gt', 'gte', 'lt', 'lte'];
const NO_VALUE_OPS: readonly FilterOp[] = ['exists', 'missing'];

function toDraft(filter: Filter): FilterDraft {
  const value = Array.isArray(filter.value)
    ? filter.value.join(', ')
    : filter.value === undefined
      ? ''
      : String(filter.value);
  return { field: filter.field, op: filter.op, value };
}

/** A draft as the API takes it; list operators split on commas, numeric ones send numbers. */
function fromDraft(draft: FilterDraft): Filter {
  if (NO_VALUE_OPS.includes(draft.op)) return { field: draft.field.trim(), op: draft.op };
  if (LIST_OPS.includes(draft.op)) {
    const values = draft.value
      .split(',')
      .map((value) => value.trim())
      .filter((value) => value !== '');
    return { field: draft.field.trim(), op: draft.op, value: values };
  }
  const numeric = NUMBER_OPS.includes(draft.op) && draft.value.trim() !== '';
  return {
    field: draft.field.trim(),
    op: draft.op,
    value: numeric && Number.isFinite(Number(draft.value)) ? Number(draft.value) : draft.value,
  };
}

export interface RulesEditorProps {
  provider: ProviderView;
}

/** A provider's routing rules (SPEC §10): zone, caps with this period's use, schedule, filters. */
export function RulesEditor({ provider }: RulesEditorProps) {
  const id = useId();
  const [timezone, setTimezone] = useState(provider.timezone);
  const [caps, setCaps] = useState<Record<CapPeriod, string>>(() => ({
    hour: provider.caps.hour?.toString() ?? '',
    day: provider.caps.day?.toString() ?? '',
    week: provider.caps.week?.toString() ?? '',
    month: provider.caps.month?.toString() ?? '',
  }));
  const [schedule, setSchedule] = useState<Schedule>(provider.schedule);
  const [filters, setFilters] = useState<FilterDraft[]>(provider.filters.map(toDraft));
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const updateProvider = useUpdateProvider();

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    const parsedCaps: Caps = {};
    for (const period of CAP_PERIODS) {
      const text = caps[period].trim();
      if (text === '') continue;
      if (!/^\d+$/.test(text)) {
        setError(`The ${period} cap must be a whole number (or empty for none)`);
        return;
      }
      parsedCaps[period] = Number(text);
    }
    try {
      await updateProvider.mutateAsync({
        id: provider.id,
        changes: { timezone, caps: parsedCaps, schedule, filters: filters.map(fromDraft) },
      });
      setError(undefined);
      setSaved(true);
    } catch (failure) {
      setError(ruleErrorText(failure));
    }
  };

  const setWindow = (index: number, change: Partial<Schedule[number]>): void =>
    setSchedule((windows) =>
      windows.map((window, at) => (at === index ? { ...window, ...change } : window)),
    );
  const toggleDay = (index: number, day: Weekday): void => {
    const days = schedule[index]!.days;
    setWindow(index, {
      days: days.includes(day) ? days.filter((each) => each !== day) : [...days, day],
    });
  };
  const setFilter = (index: number, change: Partial<FilterDraft>): void =>
    setFilters((drafts) =>
      drafts.map((draft, at) => (at === index ? { ...draft, ...change } : draft)),
    );

  return (
    <form
      noValidate
      onSubmit={(event) => void submit(event)}
      aria-label={`Routing rules of ${provider.name}`}
      className="grid gap-4"
      data-testid={`rules-editor-${provider.id}`}
    >
      <div className="grid gap-1 sm:max-w-sm">
        <label htmlFor={`${id}-tz`} className="text-xs font-medium text-slate-700">
          Time zone (caps and schedule are counted in it)
        </label>
        <select
          id={`${id}-tz`}
          value={timezone}
          onChange={(event) => setTimezone(event.target.value)}
          className={INPUT}
        >
          {zoneChoices(provider.timezone).map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
      </div>

      <fieldset className="grid gap-2">
        <legend className="text-sm font-medium text-slate-900">
          Caps (empty: no cap){provider.capped ? ' — capped now' : ''}
        </legend>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          {CAP_PERIODS.map((period) => (
            <div key={period}>
              <label htmlFor={`${id}-cap-${period}`} className="text-xs font-medium text-slate-700">
                Per {period}
              </label>
              <input
                id={`${id}-cap-${period}`}
                inputMode="numeric"
                value={caps[period]}
                onChange={(event) => setCaps({ ...caps, [period]: event.target.value })}
                aria-describedby={`${id}-cap-${period}-used`}
                className={INPUT}
              />
              <p id={`${id}-cap-${period}-used`} className="text-xs text-slate-600">
                {provider.capUsage[period]} used this {period}
              </p>
            </div>
          ))}
        </div>
      </fieldset>

      <fieldset className="grid gap-2">
        <legend className="text-sm font-medium text-slate-900">
          Schedule (none: always open){provider.openNow ? '' : ' — closed now'}
        </legend>
        {schedule.map((window, index) => (
          <div
            key={index}
            role="group"
            aria-label={`Window ${index + 1}`}
            className="grid gap-2 rounded-lg border border-slate-200 p-2"
          >
            <div className="flex flex-wrap gap-2">
              {WEEKDAYS.map((day) => (
                <label key={day} className="flex items-center gap-1 text-sm text-slate-800">
                  <input
                    type="checkbox"
                    checked={window.days.includes(day)}
                    onChange={() => toggleDay(index, day)}
                    className="size-4"
                  />
                  {day}
                </label>
              ))}
            </div>
            <div className="flex flex-wrap items-end gap-2">
              <div>
                <label htmlFor={`${id}-w${index}-from`} className="text-xs text-slate-700">
                  From
                </label>
                <input
                  id={`${id}-w${index}-from`}
                  type="time"
                  value={window.from}
                  onChange={(event) => setWindow(index, { from: event.target.value })}
                  className={INPUT}
                />
              </div>
              <div>
                <label htmlFor={`${id}-w${index}-to`} className="text-xs text-slate-700">
                  To (exclusive; earlier than From crosses midnight)
                </label>
                <input
                  id={`${id}-w${index}-to`}
                  type="time"
                  value={window.to}
                  onChange={(event) => setWindow(index, { to: event.target.value })}
                  className={INPUT}
                />
              </div>
              <Button
                type="button"
                size="sm"
                variant="secondary"
                onClick={() => setSchedule(schedule.filter((_, at) => at !== index))}
              >
                Remove window {index + 1}
              </Button>
            </div>
          </div>
        ))}
        <div>
          <Button
            type="button"
            size="sm"
            variant="secondary"
            onClick={() =>
              setSchedule([
                ...schedule,
                { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' },
              ])
            }
          >
            Add window
          </Button>
        </div>
      </fieldset>

      <fieldset className="grid gap-2">
        <legend className="text-sm font-medium text-slate-900">Filters (all must match)</legend>
        <datalist id={`${id}-fields`}>
          {LEAD_COLUMNS.map((column) => (
            <option key={column} value={column} />
          ))}
        </datalist>
        {filters.map((draft, index) => (
          <div
            key={index}
            role="group"
            aria-label={`Filter ${index + 1}`}
            className="grid grid-cols-1 items-end gap-2 sm:grid-cols-[1fr_8rem_1fr_auto]"
          >
            <div>
              <label htmlFor={`${id}-f${index}-field`} className="text-xs text-slate-700">
                Field (a column or extra.path)
              </label>
              <input
                id={`${id}-f${index}-field`}
                list={`${id}-fields`}
                value={draft.field}
                onChange={(event) => setFilter(index, { field: event.target.value })}
                className={INPUT}
              />
            </div>
            <div>
              <label htmlFor={`${id}-f${index}-op`} className="text-xs text-slate-700">
                Operator
              </label>
              <select
                id={`${id}-f${index}-op`}
                value={draft.op}
                onChange={(event) => setFilter(index, { op: event.target.value as FilterOp })}
                className={INPUT}
              >
                {FILTER_OPS.map((op) => (
                  <option key={op} value={op}>
                    {op}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor={`${id}-f${index}-value`} className="text-xs text-slate-700">
                Value{LIST_OPS.includes(draft.op) ? 's (comma-separated)' : ''}
              </label>
              <input
                id={`${id}-f${index}-value`}
                value={draft.value}
                disabled={NO_VALUE_OPS.includes(draft.op)}
                onChange={(event) => setFilter(index, { value: event.target.value })}
                className={INPUT}
              />
            </div>
            <Button
              type="button"
              size="sm"
              variant="secondary"
              onClick={() => setFilters(filters.filter((_, at) => at !== index))}
            >
              Remove filter {index + 1}
            </Button>
          </div>
        ))}
        <div>
          <Button
            type="button"
            size="sm"
            variant="secondary"
            onClick={() => setFilters([...filters, { field: 'country', op: 'in', value: '' }])}
          >
            Add filter
          </Button>
        </div>
      </fieldset>

      <div className="flex items-center gap-2">
        <Button type="submit" size="sm" disabled={updateProvider.isPending}>
          {updateProvider.isPending ? 'Saving…' : 'Save rules'}
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

/** The rules editor folded under a provider, with what holds now in its summary. */
export function RoutingRules({ provider }: RulesEditorProps) {
  const state = [provider.capped && 'capped', !provider.openNow && 'closed now']
    .filter(Boolean)
    .join(', ');
  const { timezone, caps, schedule, filters } = provider;
  return (
    <details className="mb-3 rounded-lg border border-slate-200 px-3 py-2">
      <summary className="cursor-pointer text-sm font-medium text-slate-900">
        Routing rules of {provider.name}:{' '}
        <span className="font-normal text-slate-700">
          {timezone} · {count(Object.keys(caps).length, 'cap')} · {count(schedule.length, 'window')}{' '}
          · {count(filters.length, 'filter')}
          {state ? ` · ${state}` : ''}
        </span>
      </summary>
      <div className="pt-3">
        {/* Not keyed by the rules: a remount after this editor's own save would lose "Saved". */}
        <RulesEditor provider={provider} />
      </div>
    </details>
  );
}

/** "1 filter", "2 filters". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
