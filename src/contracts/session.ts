import { z } from 'zod';

export const loginBody = z.object({ token: z.string().max(1024) });
export type LoginBody = z.infer<typeof loginBody>;

/** What this server lets the dashboard show (`GET /api/config/ui`). */
export const uiConfig = z.object({
  testTools: z.boolean(),
  auth: z.boolean().describe('ADMIN_TOKEN is set: the pages need a signed-in session'),
  authenticated: z.boolean(),
});
export type UiConfig = z.infer<typeof uiConfig>;
