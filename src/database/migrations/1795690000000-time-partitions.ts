import { MigrationInterface, QueryRunner } from "typeorm";
import { createPartitionSql, defaultPartitionName, idTime, partitionsAround, partitionsBetween, PartitionedTable } from "../partitions";

/** The primary keys keep the names TypeORM gave them, so the entities and the schema still agree. */
const PRIMARY_KEYS: Record<PartitionedTable, string> = {
    events: 'PK_40731c7151fe4be3116e45ddf73',
    deliveries: 'PK_a6ef225c5c5f0974e503bfb731f',
    attempts: 'PK_295ca261e361fd2fd217754dcac',
};
const TABLES: PartitionedTable[] = ['events', 'deliveries', 'attempts'];
/** Partitions made around the day of the migration; the worker's PartitionMaintenance keeps this going. */
const BEHIND = 1;
const AHEAD = 7;

/**
 * events, deliveries and attempts become range-partitioned on their (time-sorted) ids, one partition a day plus a
 * DEFAULT one, and every existing row moves into them. See src/database/partitions.ts for why the id is the key.
 *
 * - The foreign keys deliveries → events and attempts → deliveries go: a partition of a referenced table cannot be
 *   dropped without checking every referencing row, which is what retention must not do. Integrity is kept in code:
 *   a delivery is written with its event (or for an existing one), retention drops children before parents and
 *   keeps an event's partition while a delivery of it may still be read, and a tenant's deliveries and attempts are
 *   deleted with it (TenantsService.remove). events → tenants stays (a partitioned table may reference a plain one).
 * - A unique index on a partitioned table must contain the partition key, so (tenant_id, idempotency_key) cannot be
 *   unique on events any more: keys in use move to event_idempotency_keys (one row per key, released after 24 h),
 *   and events keeps a plain index on them for lookups.
 * - deliveries gains (tenant_id, status, id) for the list by status.
 * - Indexes are copied from the old table as they are, whatever earlier migrations made (so a column or index added
 *   to these tables by another migration before this one comes along).
 */
export class TimePartitions1795690000000 implements MigrationInterface {
    name = 'TimePartitions1795690000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "attempts" DROP CONSTRAINT "FK_a6da25fd460a32f032f5e4b4139"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1"`);
        await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "FK_098a5d310151924de7369f1336a"`);
        for (const table of TABLES) await partition(queryRunner, table);
        // The deliveries list by status reads only rows of that status, whatever the tenant's mix.
        await queryRunner.query(`CREATE INDEX "deliveries_tenant_status_id_idx" ON "deliveries" ("tenant_id", "status", "id") `);
        await queryRunner.query(`ALTER TABLE "events" ADD CONSTRAINT "FK_098a5d310151924de7369f1336a" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);

        await queryRunner.query(`CREATE TABLE "event_idempotency_keys" ("tenant_id" character varying(40) NOT NULL, "key" character varying(256) NOT NULL, "event_id" character varying(40) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_event_idempotency_keys" PRIMARY KEY ("tenant_id", "key"))`);
        await queryRunner.query(`CREATE INDEX "event_idempotency_keys_created_at_idx" ON "event_idempotency_keys" ("created_at") `);
        await queryRunner.query(`ALTER TABLE "event_idempotency_keys" ADD CONSTRAINT "FK_event_idempotency_keys_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`INSERT INTO event_idempotency_keys (tenant_id, key, event_id, created_at)
            SELECT tenant_id, idempotency_key, id, created_at FROM events WHERE idempotency_key IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "event_idempotency_keys"`);
        await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "FK_098a5d310151924de7369f1336a"`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_tenant_status_id_idx"`);
        for (const table of [...TABLES].reverse()) await unpartition(queryRunner, table);
        // Rows whose parent went (retention drops partitions, not rows) cannot be kept under the foreign keys again.
        await queryRunner.query(`DELETE FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)`);
        await queryRunner.query(`DELETE FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)`);
        await queryRunner.query(`ALTER TABLE "events" ADD CONSTRAINT "FK_098a5d310151924de7369f1336a" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "attempts" ADD CONSTRAINT "FK_a6da25fd460a32f032f5e4b4139" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }
}

/** Definitions of a table's indexes other than its primary key, to build again on another table. */
async function secondaryIndexes(queryRunner: QueryRunner, table: string): Promise<{ name: string; def: string }[]> {
    return queryRunner.query(
        `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
         WHERE i.schemaname = current_schema() AND i.tablename = $1
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))`,
        [table],
    );
}

function onTable(def: string, from: string, to: string): string {
    return def.replace(new RegExp(` ON (ONLY )?(\\w+\\.)?"?${from}"? `), ` ON $2${to} `);
}

async function partition(queryRunner: QueryRunner, table: PartitionedTable): Promise<void> {
    const old = `${table}_unpartitioned`;
    await queryRunner.query(`ALTER TABLE "${table}" RENAME TO "${old}"`);
    const indexes = await secondaryIndexes(queryRunner, old);
    for (const index of indexes) await queryRunner.query(`DROP INDEX "${index.name}"`);
    await queryRunner.query(`ALTER TABLE "${old}" DROP CONSTRAINT "${PRIMARY_KEYS[table]}"`);

    await queryRunner.query(`CREATE TABLE "${table}" (LIKE "${old}" INCLUDING DEFAULTS) PARTITION BY RANGE ("id")`);
    await queryRunner.query(`ALTER TABLE "${table}" ADD CONSTRAINT "${PRIMARY_KEYS[table]}" PRIMARY KEY ("id")`);
    await queryRunner.query(`CREATE TABLE "${defaultPartitionName(table)}" PARTITION OF "${table}" DEFAULT`);
    const now = new Date();
    const days = new Map(partitionsAround(table, now, BEHIND, AHEAD).map((p) => [p.name, p]));
    const [{ first, last }]: { first: string | null; last: string | null }[] = await queryRunner.query(`SELECT min(id) AS first, max(id) AS last FROM "${old}"`);
    const from = first ? idTime(first) : undefined;
    const to = last ? idTime(last) : undefined;
    // Every day that holds a row gets its partition (rows of ids that are not ULIDs stay in DEFAULT).
    if (from && to) for (const p of partitionsBetween(table, from, to)) days.set(p.name, p);
    for (const p of days.values()) await queryRunner.query(createPartitionSql(p));

    await queryRunner.query(`INSERT INTO "${table}" SELECT * FROM "${old}"`);
    await queryRunner.query(`DROP TABLE "${old}"`);
    for (const index of indexes) {
        // Unique only within a partition is not unique: the idempotency keys' uniqueness moved to event_idempotency_keys.
        const def = index.name === 'events_tenant_idempotency_key' ? index.def.replace('CREATE UNIQUE INDEX', 'CREATE INDEX') : index.def;
        await queryRunner.query(onTable(def, old, table));
    }
}

async function unpartition(queryRunner: QueryRunner, table: PartitionedTable): Promise<void> {
    const old = `${table}_partitioned`;
    await queryRunner.query(`ALTER TABLE "${table}" RENAME TO "${old}"`);
    const indexes = await secondaryIndexes(queryRunner, old);
    for (const index of indexes) await queryRunner.query(`DROP INDEX "${index.name}"`);
    await queryRunner.query(`ALTER TABLE "${old}" DROP CONSTRAINT "${PRIMARY_KEYS[table]}"`);
    await queryRunner.query(`CREATE TABLE "${table}" (LIKE "${old}" INCLUDING DEFAULTS)`);
    await queryRunner.query(`INSERT INTO "${table}" SELECT * FROM "${old}"`);
    await queryRunner.query(`DROP TABLE "${old}"`);
    await queryRunner.query(`ALTER TABLE "${table}" ADD CONSTRAINT "${PRIMARY_KEYS[table]}" PRIMARY KEY ("id")`);
    for (const index of indexes) {
        const def = index.name === 'events_tenant_idempotency_key' ? index.def.replace('CREATE INDEX', 'CREATE UNIQUE INDEX') : index.def;
        await queryRunner.query(onTable(def, old, table));
    }
}
