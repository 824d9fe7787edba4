import { MigrationInterface, QueryRunner } from "typeorm";

export class EventTypes1795678200128 implements MigrationInterface {
    name = 'EventTypes1795678200128'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "event_types" ("name" character varying(128) NOT NULL, "description" text NOT NULL DEFAULT '', "schema" jsonb, "example" jsonb, "schema_version" integer NOT NULL DEFAULT '1', "deprecated" boolean NOT NULL DEFAULT false, "archived" boolean NOT NULL DEFAULT false, "validate" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d5110ab69f4aacfe41fecdf4fcd" PRIMARY KEY ("name"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "event_types"`);
    }

}
