import { useId, useState, type FormEvent } from 'react';
import { useCreateService } from '../../api/services.js';
import { Button } from '../../components/Button.js';
import { FieldErrorText } from '../../components/FieldError.js';
import { errorsFrom, parseWholeNumber, type ErrorsByField } from './formErrors.js';

const INPUT =
  'w-full rounded-lg border border-slate-300 px-2.5 py-1.5 text-sm aria-[invalid=true]:border-red-700';
const FIELDS = ['slug', 'name', 'providersPerLead'] as const;

/** A slug from a name, as a suggestion the operator can overwrite: "Service 4" → "service-4". */
function slugOf(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

/** Creates a service without providers; they are added in its card, which then appears. */
export function NewServiceForm() {
  const id = useId();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const [perLead, setPerLead] = useState('3');
  const [errors, setErrors] = useState<ErrorsByField>({});
  const [created, setCreated] = useState('');
  const createService = useCreateService();

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setCreated('');
    const parsed = parseWholeNumber(perLead);
    if (typeof parsed === 'string') {
      setErrors({ providersPerLead: parsed });
      return;
    }
    try {
      const result = await createService.mutateAsync({ name, slug, providersPerLead: parsed });
      setErrors({});
      setCreated(`Created ${result.service.name}: add its providers below.`);
      setName('');
      setSlug('');
      setSlugTouched(false);
    } catch (error) {
      setErrors(errorsFrom(error, FIELDS));
    }
  };

  const described = (field: string) => ({
    id: `${id}-${field}`,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `${id}-${field}-error` : undefined,
  });

  return (
    <form
      noValidate
      onSubmit={(event) => void submit(event)}
      aria-label="New service"
      className="flex flex-wrap items-start gap-3 rounded-xl border border-dashed border-slate-300 bg-white p-4"
    >
      <div className="min-w-40 flex-1">
        <label htmlFor={`${id}-name`} className="text-xs font-medium text-slate-700">
          New service name
        </label>
        <input
          {...described('name')}
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            if (!slugTouched) setSlug(slugOf(event.target.value));
          }}
          className={INPUT}
        />
        <FieldErrorText id={`${id}-name-error`} message={errors['name']} />
      </div>
      <div className="min-w-40 flex-1">
        <label htmlFor={`${id}-slug`} className="text-xs font-medium text-slate-700">
          Slug
        </label>
        <input
          {...described('slug')}
          value={slug}
          onChange={(event) => {
            setSlugTouched(true);
            setSlug(event.target.value);
          }}
          className={`${INPUT} font-mono`}
        />
        <FieldErrorText id={`${id}-slug-error`} message={errors['slug']} />
      </div>
      <div className="w-36">
        <label htmlFor={`${id}-providersPerLead`} className="text-xs font-medium text-slate-700">
          Providers per lead
        </label>
        <input
          {...described('providersPerLead')}
          inputMode="numeric"
          value={perLead}
          onChange={(event) => setPerLead(event.target.value)}
          className={INPUT}
        />
        <FieldErrorText id={`${id}-providersPerLead-error`} message={errors['providersPerLead']} />
      </div>
      <Button
        type="submit"
        variant="secondary"
        disabled={createService.isPending}
        className="sm:mt-4"
      >
        Add service
      </Button>
      {errors['form'] && (
        <p role="alert" className="w-full text-sm font-medium text-red-800">
          {errors['form']}
        </p>
      )}
      <p aria-live="polite" className="w-full text-sm text-emerald-800 empty:hidden">
        {created}
      </p>
    </form>
  );
}
