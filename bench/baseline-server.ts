import http from 'node:http';
import jwt from 'jsonwebtoken';
import pg from 'pg';

// The two encodings the API uses (src/common/global-id.ts, src/common/relay.ts), written out here
// so the baseline loads nothing of the server.
const toGlobalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
const encodeCursor = (list: string, key: string[]): string => Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');

/**
 * The raw limit for the `tenant-page` scenario: plain node:http + pg, no GraphQL, no ORM, no RLS.
 * It verifies the bearer token (it needs the tenant from somewhere), runs ONE hand-written,
 * named (prepared) SQL statement as the database owner and answers exactly the JSON the GraphQL
 * server answers for TENANT_PAGE_QUERY (bench/scenarios.ts checks that before loading either).
 *
 * Env: PORT, DATABASE_URL (owner), JWT_SECRET, DATABASE_POOL_MAX (default 10, as the real server).
 */
const PAGE = 50;
const PAGE_SQL = `
  with lic as (
    select l.id, l.subscription_id,
           case when l.billing_type = 'PREPAID' then greatest(l.quantity - (
             select count(*)::int from assignment x where x.tenant_id = l.tenant_id and x.license_id = l.id and x.released_at is null), 0)
           end as available
      from license l where l.tenant_id = $1)
  select d.id, d.hostname, d.model, d.software_version, count(*) over ()::int as total,
         (select coalesce(json_agg(json_build_object('id', a.id, 'status', a.status, 'lid', lic.id, 'sub', lic.subscription_id,
                                                     'available', lic.available) order by a.category, a.id), '[]')
            from assignment a left join lic on lic.id = a.license_id
           where a.tenant_id = d.tenant_id and a.device_id = d.id and a.released_at is null) as assignments
    from device d
   where d.tenant_id = $1
   order by d.hostname, d.id
   limit ${PAGE + 1}`;

interface Row {
  id: string;
  hostname: string;
  model: string;
  software_version: string;
  total: number;
  assignments: { id: string; status: string; lid: string | null; sub: string | null; available: number | null }[];
}

const secret = process.env.JWT_SECRET as string;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });

async function page(tenantId: string): Promise<string> {
  const { rows } = await pool.query<Row>({ name: 'tenant-page', text: PAGE_SQL, values: [tenantId] });
  const onPage = rows.slice(0, PAGE);
  const last = onPage.at(-1);
  return JSON.stringify({
    data: {
      devices: {
        totalCount: rows[0]?.total ?? 0,
        pageInfo: { hasNextPage: rows.length > PAGE, endCursor: last ? encodeCursor('devices', [last.hostname, last.id]) : null },
        edges: onPage.map((d) => ({
          node: {
            id: toGlobalId('Device', d.id),
            hostname: d.hostname,
            model: d.model,
            softwareVersion: d.software_version,
            assignments: d.assignments.map((a) => ({
              id: toGlobalId('LicenseAssignment', a.id),
              status: a.status,
              license: a.lid ? { id: toGlobalId('License', a.lid), subscriptionId: a.sub, available: a.available } : null,
            })),
          },
        })),
      },
    },
  });
}

const server = http.createServer((req, res) => {
  if (req.url === '/readyz') {
    res.writeHead(200).end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let tenantId: string;
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const claims = jwt.verify((req.headers.authorization ?? '').replace(/^Bearer /, ''), secret, { algorithms: ['HS256'] }) as {
        tenantId?: string;
      };
      if (!claims.tenantId) throw new Error('no tenant');
      tenantId = claims.tenantId;
    } catch {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"message":"unauthenticated"}]}');
      return;
    }
    page(tenantId).then(
      (body) => res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8' }).end(body),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"internal"}]}'),
    );
  });
});

server.listen(Number(process.env.PORT ?? 4100), '127.0.0.1');
const stop = (): void => {
  server.close();
  void pool.end().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
