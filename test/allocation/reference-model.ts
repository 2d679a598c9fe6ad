/**
 * An independent, deliberately naive model of SPEC §3, written from the spec's text and not
 * sharing code with src/allocation, so a disagreement means one of the two is wrong.
 */
export interface ModelService {
  n: number;
  statics: number[];
  pool: number[];
  p: number;
}

export class ReferenceModel {
  remaining = new Map<number, number>();
  /** Providers switched off; every other provider is active. */
  inactive = new Set<number>();
  services = new Map<number, ModelService>();

  constructor(
    quotas: Record<number, number>,
    services: Record<number, Omit<ModelService, 'p' | 'n'> & { n?: number }>,
  ) {
    for (const [id, quota] of Object.entries(quotas)) this.remaining.set(Number(id), quota);
    for (const [id, service] of Object.entries(services)) {
      this.services.set(Number(id), {
        n: service.n ?? 3,
        p: 0,
        statics: [...service.statics],
        pool: [...service.pool],
      });
    }
  }

  /** Returns the providers taken as "id:role" strings, or null for insufficient quota. */
  allocate(serviceId: number): string[] | null {
    const service = this.services.get(serviceId)!;
    const taken: string[] = [];
    const takenIds: number[] = [];
    for (const id of service.statics) {
      if (taken.length === service.n) break;
      if (this.usable(id)) {
        taken.push(`${id}:static`);
        takenIds.push(id);
      }
    }
    let lastPoolIndex: number | null = null;
    for (let k = 0; k < service.pool.length && taken.length < service.n; k++) {
      const index = (service.p + k) % service.pool.length;
      const id = service.pool[index]!;
      if (this.usable(id) && !takenIds.includes(id)) {
        taken.push(`${id}:pool`);
        takenIds.push(id);
        lastPoolIndex = index;
      }
    }
    if (taken.length < service.n) return null;
    for (const id of takenIds) this.remaining.set(id, this.remaining.get(id)! - 1);
    if (lastPoolIndex !== null) service.p = (lastPoolIndex + 1) % service.pool.length;
    return taken;
  }

  private usable(id: number): boolean {
    return !this.inactive.has(id) && this.remaining.get(id)! > 0;
  }

  resetAll(quotas: Record<number, number>): void {
    for (const [id, quota] of Object.entries(quotas)) this.remaining.set(Number(id), quota);
  }
}

export const DEMO_SERVICES = {
  1: { statics: [1], pool: [2, 3, 4] },
  2: { statics: [5], pool: [6, 7, 8] },
  3: { statics: [1, 4], pool: [2, 3, 5, 6, 7, 8] },
};

export const DEMO_QUOTAS = { 1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10 };
