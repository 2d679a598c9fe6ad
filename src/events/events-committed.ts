/**
 * Says "this process committed events". The event hub listens so it reads them at once and
 * wakes the other instances with one NOTIFY; one instance per app, made in buildApp, so two
 * apps in one process (tests) never hear each other's commits.
 */
export class EventsCommitted {
  private readonly listeners = new Set<() => void>();

  on(listener: () => void): void {
    this.listeners.add(listener);
  }

  off(listener: () => void): void {
    this.listeners.delete(listener);
  }

  /** Call only after the commit: a listener reads the events straight away. */
  announce(): void {
    for (const listener of this.listeners) listener();
  }
}
