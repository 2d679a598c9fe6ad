import { z } from 'zod';

/** What the built-in demo buyer answers: the shape a buyer's acceptPattern would look for. */
export const demoBuyerAnswer = z.object({ accepted: z.boolean() });
export type DemoBuyerAnswer = z.infer<typeof demoBuyerAnswer>;
