import { useId, useState } from 'react';
import { decodeBody, escapeControlCharacters } from './rawBody.js';

export interface RawBodyViewProps {
  bodyBase64: string;
  contentType: string | null;
  bytes: number;
}

const PRE =
  'max-h-[32rem] overflow-auto rounded-lg bg-slate-900 p-3 font-mono text-xs leading-relaxed whitespace-pre text-slate-100';

export function RawBodyView({ bodyBase64, contentType, bytes }: RawBodyViewProps) {
  const body = decodeBody(bodyBase64, contentType);
  const [exact, setExact] = useState(false);
  const toggleId = useId();

  if (body.kind === 'empty') {
    return <p className="text-sm text-slate-600">Empty body (0 bytes).</p>;
  }
  if (body.kind === 'binary') {
    return (
      <div className="space-y-2">
        <p className="text-sm text-slate-700">
          {bytes} bytes that are not valid UTF-8, shown as a hex dump.
          {body.truncated && ' Only the first 64 KiB are shown.'}
        </p>
        <pre className={PRE} data-testid="raw-body" data-kind="binary">
          {body.lines.join('\n')}
        </pre>
      </div>
    );
  }

  const canPretty = body.kind === 'json';
  const shown = canPretty && !exact ? body.pretty : escapeControlCharacters(body.text);
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center justify-between gap-2 text-sm text-slate-700">
        <span>
          {bytes} bytes,{' '}
          {body.kind === 'json'
            ? 'JSON'
            : body.kind === 'form'
              ? 'form-encoded text'
              : 'text (not JSON)'}
        </span>
        {canPretty && (
          <label htmlFor={toggleId} className="inline-flex items-center gap-2">
            <input
              id={toggleId}
              type="checkbox"
              checked={exact}
              onChange={(event) => setExact(event.target.checked)}
              className="size-4"
            />
            Show exactly as received
          </label>
        )}
      </div>
      <pre className={PRE} data-testid="raw-body" data-kind={exact ? 'text' : body.kind}>
        {shown}
      </pre>
      {body.kind === 'form' && body.fields.length > 0 && (
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Decoded form fields</caption>
          <thead>
            <tr className="text-xs text-slate-600 uppercase">
              <th className="py-1 pr-4 font-medium">Field</th>
              <th className="py-1 font-medium">Value</th>
            </tr>
          </thead>
          <tbody className="font-mono">
            {body.fields.map(([field, value], index) => (
              <tr key={index} className="border-t border-slate-100">
                <td className="py-1 pr-4 align-top break-all">{escapeControlCharacters(field)}</td>
                <td className="py-1 break-all">{escapeControlCharacters(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
