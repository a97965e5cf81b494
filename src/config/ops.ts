/**
 * Config pieces the engine's config schema embeds (issue 5 owns the config file; these keep the ops fields named and
 * validated in one place). Both are zod schemas producing the types host-check.ts and log.ts take.
 */
import { z } from 'zod';

const level = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** `hostCheck` block: `{ mode: 'refuse', cores: [2], production: true, ...overrides }` */
export const hostCheckConfigSchema = z
  .object({
    mode: z.enum(['off', 'warn', 'refuse']).default('warn'),
    /** start from the production expectations for `cores`, then apply the explicit fields below */
    production: z.boolean().default(false),
    cores: z.array(z.number().int().nonnegative()).min(1).optional(),
    isolated: z.boolean().optional(),
    governor: z.string().min(1).optional(),
    thp: z
      .array(z.enum(['always', 'madvise', 'never']))
      .min(1)
      .optional(),
    maxSwappiness: z.number().int().min(0).max(200).optional(),
    noSwap: z.boolean().optional(),
    clocksource: z.string().min(1).optional(),
    minNofile: z.number().int().positive().optional(),
    minBusyPoll: z.number().int().nonnegative().optional(),
    noSlowStartAfterIdle: z.boolean().optional(),
    requireAvailable: z.boolean().optional(),
  })
  .strict()
  .refine((c) => !c.production || c.cores !== undefined, { message: 'production expectations need cores', path: ['cores'] });

export type HostCheckConfig = z.infer<typeof hostCheckConfigSchema>;

const rotation = z
  .object({
    frequency: z.union([z.enum(['daily', 'hourly']), z.number().int().positive()]).optional(),
    size: z
      .string()
      .regex(/^\d+[kmg]?$/, 'a size like 200m, 1g or 512k')
      .optional(),
    count: z.number().int().positive().optional(),
  })
  .strict();

/** One log destination: `to` is stdout, stderr or a file path; only files rotate. */
export const logDestinationSchema = z
  .object({ to: z.string().min(1), level, rotate: rotation.optional() })
  .strict()
  .refine((d) => !d.rotate || (d.to !== 'stdout' && d.to !== 'stderr'), { message: 'only file destinations rotate', path: ['rotate'] });

/** `log` block: `{ destinations: [{ to, level, rotate? }] }`. */
export const logConfigSchema = z
  .object({
    level: level.optional(),
    name: z.string().min(1).optional(),
    destinations: z.array(logDestinationSchema).min(1),
  })
  .strict();

export type LogConfig = z.infer<typeof logConfigSchema>;
