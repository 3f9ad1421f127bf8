import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh database on the local PostgreSQL server (PGHOST/PGPORT/PGUSER honoured); fails if none. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const host = process.env['PGHOST'] ?? '127.0.0.1';
  const port = process.env['PGPORT'] ?? '5432';
  const user = process.env['PGUSER'] ?? 'postgres';
  const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const base = `postgres://${encodeURIComponent(user)}@${host.startsWith('/') ? encodeURIComponent(host) : host}:${port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: `${base}/${name}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
