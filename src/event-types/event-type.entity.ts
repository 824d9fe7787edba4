import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The catalog of event types producers publish (global, like Svix's: every tenant sees the same catalog). */
@Entity('event_types')
export class EventType {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** A JSON Schema (draft 2020-12, or draft-07 when its $schema says so) that payloads of this type follow. */
  @Column({ type: 'jsonb', nullable: true })
  schema: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  example: Record<string, unknown> | null;

  /** Bumped whenever the schema changes: compiled validators are cached per (name, version). */
  @Column({ name: 'schema_version', type: 'integer', default: 1 })
  schemaVersion: number;

  @Column({ type: 'boolean', default: false })
  deprecated: boolean;

  @Column({ type: 'boolean', default: false })
  archived: boolean;

  /** Publishing checks payloads of this type against the schema even when HERALD_VALIDATE_EVENTS is off. */
  @Column({ type: 'boolean', default: false })
  validate: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
