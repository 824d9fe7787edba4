import { MigrationInterface, QueryRunner } from "typeorm";

const HEALTH_COLUMNS = `ARRAY['consecutive_failures', 'failing_since', 'circuit_phase', 'circuit_until', 'circuit_cooldown_ms', 'updated_at']`;

export class DeliveryIntegrity1795679392491 implements MigrationInterface {
    name = 'DeliveryIntegrity1795679392491'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "tenants" ADD "endpoints_version" bigint NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD "claimed_until" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD "resend_requested" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "attempts" ADD "response_body_encoding" character varying(8)`);
        await queryRunner.query(`ALTER TABLE "attempts" ADD "response_headers_base64" text array`);
        await queryRunner.query(`CREATE INDEX "deliveries_parked_idx" ON "deliveries" ("endpoint_id") WHERE status = 'pending' AND next_attempt_at IS NULL`);
        // Fan-out caches each tenant's endpoints with this version and publishing checks it in its own statement, so
        // a cache that missed an invalidation can never leave a committed endpoint out. Health columns (moved by
        // every failed attempt) and updated_at do not count: they change nothing fan-out depends on.
        await queryRunner.query(`CREATE FUNCTION herald_endpoints_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - ${HEALTH_COLUMNS}) = (to_jsonb(OLD) - ${HEALTH_COLUMNS}) THEN
                RETURN NULL;
              END IF;
              UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = COALESCE(NEW.tenant_id, OLD.tenant_id);
              RETURN NULL;
            END $$`);
        await queryRunner.query(`CREATE TRIGGER endpoints_version AFTER INSERT OR UPDATE OR DELETE ON endpoints FOR EACH ROW EXECUTE FUNCTION herald_endpoints_changed()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER endpoints_version ON endpoints`);
        await queryRunner.query(`DROP FUNCTION herald_endpoints_changed()`);
        await queryRunner.query(`DROP INDEX "public"."deliveries_parked_idx"`);
        await queryRunner.query(`ALTER TABLE "attempts" DROP COLUMN "response_headers_base64"`);
        await queryRunner.query(`ALTER TABLE "attempts" DROP COLUMN "response_body_encoding"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "resend_requested"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "claimed_until"`);
        await queryRunner.query(`ALTER TABLE "tenants" DROP COLUMN "endpoints_version"`);
    }

}
