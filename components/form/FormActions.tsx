/**
 * The foot of every editing form: the form's error message (announced), the
 * submit button (disabled while the request runs) and, where the form can be
 * closed, Cancel.
 */
export function FormActions({
  message,
  busy,
  submitLabel,
  submitTestId,
  onCancel,
}: {
  message: string | null;
  busy: boolean;
  submitLabel: string;
  submitTestId?: string;
  onCancel?: () => void;
}) {
  return (
    <>
      {message && (
        <p role="alert" data-testid="form-message" className="text-xs text-red-400">
          {message}
        </p>
      )}
      <div className="flex gap-2">
        <button
          type="submit"
          disabled={busy}
          data-testid={submitTestId}
          className="rounded-md bg-sky-700 px-3 py-1 text-xs font-medium text-white hover:bg-sky-600 disabled:opacity-50"
        >
          {submitLabel}
        </button>
        {onCancel && (
          <button
            type="button"
            onClick={onCancel}
            className="rounded-md px-3 py-1 text-xs text-zinc-400 hover:bg-zinc-800"
          >
            Cancel
          </button>
        )}
      </div>
    </>
  );
}
