import { useId, useState, type FormEvent } from 'react';
import { useCreateProvider } from '../../api/providers.js';
import { Button } from '../../components/Button.js';
import { FieldErrorText } from '../../components/FieldError.js';
import { errorsFrom, parseWholeNumber, type ErrorsByField } from './formErrors.js';

const INPUT =
  'w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700';

export function NewProviderForm() {
  const id = useId();
  const [name, setName] = useState('');
  const [quota, setQuota] = useState('10');
  const [errors, setErrors] = useState<ErrorsByField>({});
  const createProvider = useCreateProvider();

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const parsedQuota = parseWholeNumber(quota);
    if (typeof parsedQuota === 'string') {
      setErrors({ quota: parsedQuota });
      return;
    }
    try {
      await createProvider.mutateAsync({ name, quota: parsedQuota });
      setErrors({});
      setName('');
    } catch (error) {
      setErrors(errorsFrom(error, ['name', 'quota']));
    }
  };

  return (
    <form
      noValidate
      onSubmit={(event) => void submit(event)}
      aria-label="New provider"
      className="mt-3 flex flex-wrap items-start gap-3 border-t border-slate-200 pt-3"
    >
      <div className="min-w-40 flex-1">
        <label htmlFor={`${id}-name`} className="text-xs font-medium text-slate-700">
          New provider name
        </label>
        <input
          id={`${id}-name`}
          value={name}
          onChange={(event) => setName(event.target.value)}
          aria-invalid={errors['name'] ? true : undefined}
          aria-describedby={errors['name'] ? `${id}-name-error` : undefined}
          className={INPUT}
        />
        <FieldErrorText id={`${id}-name-error`} message={errors['name']} />
      </div>
      <div className="w-28">
        <label htmlFor={`${id}-quota`} className="text-xs font-medium text-slate-700">
          Quota
        </label>
        <input
          id={`${id}-quota`}
          inputMode="numeric"
          value={quota}
          onChange={(event) => setQuota(event.target.value)}
          aria-invalid={errors['quota'] ? true : undefined}
          aria-describedby={errors['quota'] ? `${id}-quota-error` : undefined}
          className={INPUT}
        />
        <FieldErrorText id={`${id}-quota-error`} message={errors['quota']} />
      </div>
      <Button
        type="submit"
        variant="secondary"
        disabled={createProvider.isPending}
        className="sm:mt-4"
      >
        Add provider
      </Button>
      {errors['form'] && (
        <p role="alert" className="w-full text-sm font-medium text-red-800">
          {errors['form']}
        </p>
      )}
    </form>
  );
}
