import type { Kysely } from 'kysely';
import { binaryKeyType } from '../binary-key.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('contacts')
    .ifNotExists()
    .addColumn('id', binaryKeyType(db), (c) => c.primaryKey())
    .addColumn('phone', 'text')
    .addColumn('name', 'text')
    .addColumn('language', 'text')
    .addColumn('country', 'text')
    .addColumn('zip', 'text')
    .addColumn('attributes', 'text')
    .addColumn('updated_at', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('contacts').ifExists().execute();
}
