import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useSendTestLead } from '../../api/deliveries.js';
import { useUpdateProvider } from '../../api/providers.js';
// Straight from delivery-constants.ts: the contracts' index would bundle Zod with the dashboard.
import { DELIVERY_SOURCES } from '../../../../src/contracts/delivery-constants.js';
import type { DeliveryTestAnswer, ProviderView } from '../../../../src/contracts/index.js';
import { StatusBadge } from '../../components/Badges.js';
import { Button } from '../../components/Button.js';
import { FieldErrorText } from '../../components/FieldError.js';
import { formatDuration } from '../../format.js';
import { ResponseExcerpt } from '../deliveries/AttemptLog.js';
import {
  deliveryErrorsFrom,
  deliveryFrom,
  formFrom,
  rowKey,
  type DeliveryForm,
} from './deliveryForm.js';
import type { ErrorsByField } from './formErrors.js';

const INPUT =
  'w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700';
const LABEL = 'text-xs font-medium text-slate-700';

/**
 * A provider's delivery endpoint: edit, save, try with a test lead, remove. Header values and
 * the secret are never shown; left empty they are kept as stored.
 */
export function DeliveryEditor({ provider }: { provider: ProviderView }) {
  const id = useId();
  const [form, setForm] = useState<DeliveryForm>(() => formFrom(provider.delivery));
  const [errors, setErrors] = useState<ErrorsByField>({});
  const [saved, setSaved] = useState('');
  const [confirmRemove, setConfirmRemove] = useState(false);
  const update = useUpdateProvider();
  const test = useSendTestLead();
  const stored = provider.delivery;
  const change = (changes: Partial<DeliveryForm>): void => {
    setForm((current) => ({ ...current, ...changes }));
    setSaved('');
  };

  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const built = deliveryFrom(form);
    if ('errors' in built) return setErrors(built.errors);
    try {
      const updated = await update.mutateAsync({
        id: provider.id,
        changes: { delivery: built.delivery },
      });
      setErrors({});
      setForm(formFrom(updated.delivery));
      setSaved('Saved');
    } catch (error) {
      setErrors(deliveryErrorsFrom(error));
    }
  };

  const sendTest = (): void => {
    const built = deliveryFrom(form);
    if ('errors' in built) return setErrors(built.errors);
    setErrors({});
    test.mutate(
      { providerId: provider.id, delivery: built.delivery },
      { onError: (error) => setErrors(deliveryErrorsFrom(error)) },
    );
  };

  const remove = async (): Promise<void> => {
    try {
      await update.mutateAsync({ id: provider.id, changes: { delivery: null } });
      setErrors({});
      setForm(formFrom(null));
      setConfirmRemove(false);
      test.reset();
      setSaved('Endpoint removed');
    } catch (error) {
      setErrors(deliveryErrorsFrom(error));
    }
  };

  const fieldProps = (field: string) => ({
    id: `${id}-${field}`,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `${id}-${field}-error` : undefined,
  });
  const error = (field: string) => (
    <FieldErrorText id={`${id}-${field}-error`} message={errors[field]} />
  );

  return (
    <form
      noValidate
      onSubmit={(event) => void save(event)}
      aria-label={`Delivery endpoint of ${provider.name}`}
      data-testid={`delivery-editor-${provider.id}`}
      className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
    >
      <div className="sm:col-span-2 lg:col-span-4">
        <label htmlFor={`${id}-url`} className={LABEL}>
          URL
        </label>
        <input
          {...fieldProps('url')}
          type="url"
          inputMode="url"
          value={form.url}
          placeholder="https://buyer.example/leads"
          onChange={(event) => change({ url: event.target.value })}
          className={INPUT}
        />
        {error('url')}
      </div>
      <div>
        <label htmlFor={`${id}-method`} className={LABEL}>
          Method
        </label>
        <select
          {...fieldProps('method')}
          value={form.method}
          onChange={(event) => change({ method: event.target.value as 'POST' | 'PUT' })}
          className={`${INPUT} bg-white`}
        >
          <option>POST</option>
          <option>PUT</option>
        </select>
      </div>
      <div>
        <label htmlFor={`${id}-format`} className={LABEL}>
          Format
        </label>
        <select
          {...fieldProps('format')}
          value={form.format}
          onChange={(event) => change({ format: event.target.value as 'json' | 'form' })}
          className={`${INPUT} bg-white`}
        >
          <option value="json">JSON</option>
          <option value="form">Form (urlencoded)</option>
        </select>
      </div>
      <div>
        <label htmlFor={`${id}-timeoutMs`} className={LABEL}>
          Timeout (ms)
        </label>
        <input
          {...fieldProps('timeoutMs')}
          inputMode="numeric"
          value={form.timeoutMs}
          onChange={(event) => change({ timeoutMs: event.target.value })}
          className={INPUT}
        />
        {error('timeoutMs')}
      </div>
      <div>
        <label htmlFor={`${id}-maxAttempts`} className={LABEL}>
          Max attempts
        </label>
        <input
          {...fieldProps('maxAttempts')}
          inputMode="numeric"
          value={form.maxAttempts}
          onChange={(event) => change({ maxAttempts: event.target.value })}
          className={INPUT}
        />
        {error('maxAttempts')}
      </div>
      <div className="sm:col-span-2">
        <label htmlFor={`${id}-acceptPattern`} className={LABEL}>
          Accept pattern (optional regular expression the answer must match)
        </label>
        <input
          {...fieldProps('acceptPattern')}
          value={form.acceptPattern}
          placeholder='"status":\s*"ok"'
          onChange={(event) => change({ acceptPattern: event.target.value })}
          className={`${INPUT} font-mono`}
        />
        {error('acceptPattern')}
      </div>
      <div className="sm:col-span-2">
        <label htmlFor={`${id}-signingSecret`} className={LABEL}>
          Signing secret {stored?.signingSecret ? '(one is set; empty keeps it)' : '(optional)'}
        </label>
        <input
          {...fieldProps('signingSecret')}
          type="password"
          autoComplete="off"
          value={form.secret}
          disabled={form.removeSecret}
          placeholder={stored?.signingSecret ? 'unchanged' : 'whsec_…'}
          onChange={(event) => change({ secret: event.target.value })}
          className={`${INPUT} font-mono disabled:bg-slate-100`}
        />
        {stored?.signingSecret && (
          <label className="mt-1 flex items-center gap-2 text-xs text-slate-800">
            <input
              type="checkbox"
              checked={form.removeSecret}
              onChange={(event) => change({ removeSecret: event.target.checked })}
            />
            Stop signing (remove the secret)
          </label>
        )}
        {error('signingSecret')}
      </div>

      <Rows
        legend="Headers"
        hint="Sent with every delivery, e.g. the buyer's Authorization. Stored values are hidden; leave one empty to keep it."
        error={error('headers')}
        onAdd={() =>
          change({
            headers: [...form.headers, { key: rowKey(), name: '', value: '', stored: false }],
          })
        }
        addLabel="Add header"
      >
        {form.headers.map((row, index) => (
          <RowInputs
            key={row.key}
            labels={[`Header ${index + 1} name`, `Header ${index + 1} value`]}
            removeLabel={`Remove header ${index + 1}`}
            values={[row.name, row.value]}
            placeholders={['Authorization', row.stored ? 'unchanged (hidden)' : 'value']}
            invalid={Boolean(errors['headers'])}
            onChange={(name, value) =>
              change({
                headers: form.headers.map((other) =>
                  other.key === row.key ? { ...other, name, value } : other,
                ),
              })
            }
            onRemove={() =>
              change({ headers: form.headers.filter((other) => other.key !== row.key) })
            }
          />
        ))}
      </Rows>

      <Rows
        legend="Field mapping (optional)"
        hint="Without a mapping the whole lead is sent. A lead field is one of the listed names or extra.<path>."
        error={error('fields')}
        onAdd={() =>
          change({ fields: [...form.fields, { key: rowKey(), target: '', source: '' }] })
        }
        addLabel="Add field"
      >
        {form.fields.map((row, index) => (
          <RowInputs
            key={row.key}
            labels={[`Field ${index + 1} name to send`, `Field ${index + 1} lead field`]}
            removeLabel={`Remove field ${index + 1}`}
            values={[row.target, row.source]}
            placeholders={['mail', 'email']}
            list={`${id}-sources`}
            invalid={Boolean(errors['fields'])}
            onChange={(target, source) =>
              change({
                fields: form.fields.map((other) =>
                  other.key === row.key ? { ...other, target, source } : other,
                ),
              })
            }
            onRemove={() =>
              change({ fields: form.fields.filter((other) => other.key !== row.key) })
            }
          />
        ))}
        <datalist id={`${id}-sources`}>
          {DELIVERY_SOURCES.map((source) => (
            <option key={source} value={source} />
          ))}
        </datalist>
      </Rows>

      {errors['form'] && (
        <p role="alert" className="text-sm font-medium text-red-800 sm:col-span-2 lg:col-span-4">
          {errors['form']}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-2 sm:col-span-2 lg:col-span-4">
        <Button type="submit" size="sm" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : stored ? 'Save endpoint' : 'Add endpoint'}
        </Button>
        <Button size="sm" variant="secondary" disabled={test.isPending} onClick={sendTest}>
          {test.isPending ? 'Sending…' : 'Send a test lead'}
        </Button>
        {stored &&
          (confirmRemove ? (
            <span role="group" aria-label="Confirm removal" className="flex items-center gap-2">
              <span className="text-sm text-slate-800">
                Remove the endpoint? Pending deliveries fail.
              </span>
              <Button size="sm" variant="danger" onClick={() => void remove()}>
                Yes, remove
              </Button>
              <Button size="sm" variant="secondary" onClick={() => setConfirmRemove(false)}>
                Cancel
              </Button>
            </span>
          ) : (
            <Button size="sm" variant="ghost" onClick={() => setConfirmRemove(true)}>
              Remove endpoint…
            </Button>
          ))}
        <span aria-live="polite" className="text-xs text-emerald-800">
          {saved}
        </span>
      </div>
      <div aria-live="polite" className="sm:col-span-2 lg:col-span-4">
        {test.data && <TestAnswer answer={test.data} />}
      </div>
    </form>
  );
}

function Rows({
  legend,
  hint,
  error,
  onAdd,
  addLabel,
  children,
}: {
  legend: string;
  hint: string;
  error: ReactNode;
  onAdd: () => void;
  addLabel: string;
  children: ReactNode;
}) {
  return (
    <fieldset className="min-w-0 sm:col-span-2">
      <legend className={LABEL}>{legend}</legend>
      <p className="mb-1 text-xs text-slate-600">{hint}</p>
      <div className="space-y-2">{children}</div>
      {error}
      <Button size="sm" variant="secondary" className="mt-2" onClick={onAdd}>
        {addLabel}
      </Button>
    </fieldset>
  );
}

function RowInputs({
  labels,
  removeLabel,
  values,
  placeholders,
  list,
  invalid,
  onChange,
  onRemove,
}: {
  labels: [string, string];
  removeLabel: string;
  values: [string, string];
  placeholders: [string, string];
  list?: string;
  invalid: boolean;
  onChange: (first: string, second: string) => void;
  onRemove: () => void;
}) {
  return (
    <div className="grid grid-cols-[minmax(0,1fr)_minmax(0,1fr)_auto] items-center gap-2">
      <input
        aria-label={labels[0]}
        aria-invalid={invalid || undefined}
        value={values[0]}
        placeholder={placeholders[0]}
        onChange={(event) => onChange(event.target.value, values[1])}
        className={INPUT}
      />
      <input
        aria-label={labels[1]}
        aria-invalid={invalid || undefined}
        value={values[1]}
        placeholder={placeholders[1]}
        list={list}
        onChange={(event) => onChange(values[0], event.target.value)}
        className={INPUT}
      />
      <Button size="sm" variant="ghost" aria-label={removeLabel} onClick={onRemove}>
        Remove
      </Button>
    </div>
  );
}

/** What the buyer answered the test lead. */
function TestAnswer({ answer }: { answer: DeliveryTestAnswer }) {
  return (
    <section
      aria-label="Test lead answer"
      data-testid="test-answer"
      className="rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm"
    >
      <p className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="font-medium text-slate-900">Test lead:</span>
        <StatusBadge status={answer.outcome} />
        <span className="tabular-nums">
          {answer.statusCode === null ? 'no answer' : `HTTP ${answer.statusCode}`}
        </span>
        <span className="text-slate-600 tabular-nums">{formatDuration(answer.durationMs)}</span>
      </p>
      {answer.error && <p className="mt-1 text-red-800">{answer.error}</p>}
      {answer.statusCode !== null && (
        <div className="mt-2">
          <ResponseExcerpt
            text={answer.responseExcerpt}
            label="The buyer's answer to the test lead"
          />
        </div>
      )}
    </section>
  );
}
