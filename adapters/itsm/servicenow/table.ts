import type { z } from 'zod';
import type { HttpClient, HttpRequest } from '../../http/client.js';
import { HttpFailure } from '../../http/errors.js';
import type { Signer } from './auth.js';
import { many, one } from './wire.js';

type Params = Record<string, string | number | boolean | undefined>;

/**
 * The few Table API calls patchops makes (/api/now/table/{table}). Every call names the
 * fields it needs (sysparm_fields) and asks for plain values without reference links, so
 * answers are small and every value is a string. Failures are the shared HttpFailure.
 */
export class TableApi {
  constructor(
    private readonly http: HttpClient,
    private readonly signer: Signer,
  ) {}

  /** One record by sys_id; 404 when it does not exist or an ACL hides it. */
  async get<S extends z.ZodType>(
    table: string,
    id: string,
    row: S,
    fields: readonly string[],
    opts: { displayValue?: boolean } = {},
  ): Promise<z.output<S>> {
    const res = (await this.send({
      method: 'GET',
      url: `/api/now/table/${table}/${id}`,
      endpoint: `GET /api/now/table/${table}/{sys_id}`,
      params: this.params(fields, opts.displayValue ? { sysparm_display_value: 'true' } : {}),
      schema: one(row),
    })) as { result: z.output<S> };
    return res.result;
  }

  /** Records matching an encoded query, at most `limit` (one page; callers ask for few). */
  async find<S extends z.ZodType>(
    table: string,
    query: string,
    row: S,
    fields: readonly string[],
    limit: number,
  ): Promise<z.output<S>[]> {
    const res = (await this.send({
      method: 'GET',
      url: `/api/now/table/${table}`,
      endpoint: `GET /api/now/table/${table}`,
      params: this.params(fields, { sysparm_query: query, sysparm_limit: limit }),
      schema: many(row),
    })) as { result: z.output<S>[] };
    return res.result;
  }

  /** Inserts one record; not repeatable, so a lost answer is `outcome_unknown`. */
  async create<S extends z.ZodType>(
    table: string,
    body: Record<string, string>,
    row: S,
    fields: readonly string[],
  ): Promise<z.output<S>> {
    const res = (await this.send({
      method: 'POST',
      url: `/api/now/table/${table}`,
      endpoint: `POST /api/now/table/${table}`,
      params: this.params(fields),
      data: body,
      schema: one(row),
    })) as { result: z.output<S> };
    return res.result;
  }

  /**
   * Updates fields of one record. `idempotent` when sending it twice changes nothing more
   * (setting a state or a close code); a work note is not: the instance appends it again.
   */
  async update<S extends z.ZodType>(
    table: string,
    id: string,
    body: Record<string, string>,
    row: S,
    fields: readonly string[],
    idempotent: boolean,
  ): Promise<z.output<S>> {
    const res = (await this.send({
      method: 'PATCH',
      url: `/api/now/table/${table}/${id}`,
      endpoint: `PATCH /api/now/table/${table}/{sys_id}`,
      params: this.params(fields),
      data: body,
      schema: one(row),
      idempotent,
    })) as { result: z.output<S> };
    return res.result;
  }

  private params(fields: readonly string[], extra: Params = {}): Params {
    return {
      sysparm_fields: fields.join(','),
      sysparm_exclude_reference_link: 'true',
      ...extra,
    };
  }

  /** Signs and sends; with OAuth a 401 on a cached token fetches a new one and tries once more. */
  private async send(req: HttpRequest<z.ZodType>): Promise<unknown> {
    const attempt = async () =>
      (
        await this.http.request({
          ...req,
          headers: { ...req.headers, ...(await this.signer.headers()) },
        })
      ).data;
    try {
      return await attempt();
    } catch (err) {
      // A 401 means the instance did nothing, so even a POST is safe to send again.
      if (err instanceof HttpFailure && err.kind === 'auth' && this.signer.invalidate())
        return attempt();
      throw err;
    }
  }
}
