import { useId, useMemo, useState } from 'react';
import { INDENTED_DEPTH, PRETTY_JSON_LIMIT } from '../../prettyJson.js';
import { base64ToBytes, decodeBody, escapeControlCharacters, shownText } from './rawBody.js';

export interface RawBodyViewProps {
  bodyBase64: string;
  contentType: string | null;
  bytes: number;
  /** The download's file name, without an extension. */
  fileName: string;
}

const LIMIT = PRETTY_JSON_LIMIT.toLocaleString('en');

const PRE =
  'max-h-[32rem] overflow-auto rounded-lg bg-slate-900 p-3 font-mono text-xs leading-relaxed text-slate-100';

/** The box scrolls, so a keyboard must be able to reach it, and a screen reader to name it. */
const SCROLLABLE = { tabIndex: 0, role: 'region', 'aria-label': 'Request body' } as const;

/** The views below show a bounded part of a big body; the download is the whole of it. */
function DownloadBody({ bodyBase64, fileName }: { bodyBase64: string; fileName: string }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([base64ToBytes(bodyBase64)]));
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    link.click();
    // The browser fetches the URL after click() returns, so it must outlive this call.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  return (
    <button
      type="button"
      onClick={download}
      className="text-blue-800 underline underline-offset-2 hover:no-underline"
    >
      Download the body
    </button>
  );
}

export function RawBodyView({ bodyBase64, contentType, bytes, fileName }: RawBodyViewProps) {
  // Decoding a big body is not free; toggling the view should not redo it.
  const body = useMemo(() => decodeBody(bodyBase64, contentType), [bodyBase64, contentType]);
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
          {body.truncated && ' Only the first 64 KiB are shown.'}{' '}
          <DownloadBody bodyBase64={bodyBase64} fileName={`${fileName}.bin`} />
        </p>
        <pre
          {...SCROLLABLE}
          className={`${PRE} whitespace-pre`}
          data-testid="raw-body"
          data-kind="binary"
        >
          {body.lines.join('\n')}
        </pre>
      </div>
    );
  }

  const canPretty = body.kind === 'json';
  const pretty = canPretty && !exact;
  const shown = pretty
    ? { ...body.pretty, text: escapeControlCharacters(body.pretty.text) }
    : shownText(body.text);
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
      {/* Wrapped, unlike the hex dump: a one-line body or a deep value's one-line remainder
          would otherwise run far past a phone's width. */}
      <pre
        {...SCROLLABLE}
        className={`${PRE} wrap-anywhere whitespace-pre-wrap`}
        data-testid="raw-body"
        data-kind={exact ? 'text' : body.kind}
      >
        {shown.text}
      </pre>
      <p className="text-sm text-slate-700">
        {pretty &&
          shown.collapsed &&
          `Nested more than ${INDENTED_DEPTH} levels deep: the deepest part is on one line. `}
        {shown.truncated &&
          (pretty
            ? `The formatted JSON is too long to show in full: only its first ${LIMIT} characters are shown. `
            : `The body is too long to show in full: only its first ${LIMIT} characters are shown. `)}
        <DownloadBody
          bodyBase64={bodyBase64}
          fileName={`${fileName}.${body.kind === 'json' ? 'json' : 'txt'}`}
        />
      </p>
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
          {body.fieldCount > body.fields.length && (
            <tfoot>
              <tr>
                <td colSpan={2} className="pt-2 text-slate-700">
                  Only the first {body.fields.length} of {body.fieldCount} fields are listed.
                </td>
              </tr>
            </tfoot>
          )}
        </table>
      )}
    </div>
  );
}
