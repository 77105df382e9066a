import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { InvariantError } from '../../common/errors';
import { inScope } from '../../db/scope';
import { bulkSql, sql } from '../../db/sql';

/**
 * Where an offline usage report file lives: `usage_report_chunk` rows of about CHUNK_BYTES each
 * (migrations/Migration20261128400000UsageReportChunks.ts), written as the file is compressed and
 * read back one chunk at a time, so neither side holds the whole file. Reports stored before chunks
 * keep their bytes in `usage_report.file`.
 */
export const CHUNK_BYTES = 512 * 1024;

/** Collects a file's bytes into chunks of at least CHUNK_BYTES and stores each, in order, in the caller's transaction. */
export class UsageReportChunkWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private seq = 0;

  constructor(
    private readonly em: EntityManager,
    private readonly tenantId: string,
    private readonly reportId: string,
  ) {}

  async write(bytes: Buffer): Promise<void> {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= CHUNK_BYTES) await this.flush();
  }

  /** Stores what is left; resolves with the number of chunks. */
  async finish(): Promise<number> {
    await this.flush();
    return this.seq;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await bulkSql(this.em, 'insert into usage_report_chunk (tenant_id, report_id, seq, data) values (?, ?, ?, ?)', [
      this.tenantId,
      this.reportId,
      this.seq,
      data,
    ]);
    this.seq += 1;
  }
}

export interface StoredUsageReportFile {
  id: string;
  /** Bytes of the whole file (the download's content-length). */
  size: number;
  /** The file's bytes in order; each chunk is read when asked for. */
  chunks(): AsyncGenerator<Buffer>;
}

/**
 * The file of the report `id`, if the viewer may see that report and it has one (ONLINE reports
 * have none). `tenantId` narrows the lookup for tenant viewers; RLS applies either way.
 */
export async function findStoredUsageReportFile(ctx: RequestContext, id: string, tenantId: string | null): Promise<StoredUsageReportFile | null> {
  const [row] = await inScope(ctx, (em) =>
    sql<{ tenant_id: string; file_size: number | null; file_chunks: number | null; file: Buffer | null }>(
      em,
      `select tenant_id, file_size, file_chunks, case when file_chunks is null then file end as file
         from usage_report where id = ?${tenantId ? ' and tenant_id = ?' : ''}`,
      [id, ...(tenantId ? [tenantId] : [])],
    ),
  );
  if (!row) return null;
  if (row.file) {
    const file = row.file;
    return {
      id,
      size: file.length,
      async *chunks() {
        yield file;
      },
    };
  }
  if (row.file_chunks === null || row.file_size === null) return null;
  const { file_chunks: count, file_size: size, tenant_id: owner } = row;
  return {
    id,
    size,
    async *chunks() {
      // One short transaction per chunk: a slow download holds no transaction open, and the chunks of
      // a stored report never change. The next chunk is read while this one goes to the client.
      const readChunk = async (seq: number): Promise<Buffer> => {
        const [chunk] = await inScope(ctx, (em) =>
          sql<{ data: Buffer }>(em, 'select data from usage_report_chunk where tenant_id = ? and report_id = ? and seq = ?', [owner, id, seq]),
        );
        if (!chunk) throw new InvariantError(`usage report ${id}: chunk ${seq} of ${count} is missing`);
        return chunk.data;
      };
      let next: Promise<Buffer> | null = count > 0 ? readChunk(0) : null;
      let read = 0;
      try {
        for (let seq = 0; next; seq++) {
          const data: Buffer = await next;
          next = seq + 1 < count ? readChunk(seq + 1) : null;
          read += data.length;
          yield data;
        }
      } finally {
        // A consumer that stopped early (the client went away) leaves a read in flight.
        await next?.catch(() => undefined);
      }
      if (read !== size) throw new InvariantError(`usage report ${id}: its chunks hold ${read} bytes, file_size is ${size}`);
    },
  };
}
