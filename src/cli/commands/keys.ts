import {
  listOption,
  parseDuration,
  parseExpiry,
  runSubcommand,
  table,
  type CliIo,
  type SubcommandSpec,
} from '../../authn/credential-cli.js';

const SPECS: Record<string, SubcommandSpec> = {
  create: {
    usage: '<consumer> [--scopes a,b] [--cidrs 10.0.0.0/8,...] [--expires 90d|2027-01-01]',
    positionals: 1,
    options: {
      scopes: { type: 'string', multiple: true },
      cidrs: { type: 'string', multiple: true },
      expires: { type: 'string' },
    },
    async run({ admin, values, positionals, print }) {
      const scopes = listOption(values.scopes);
      const allowedCidrs = listOption(values.cidrs);
      const created = await admin.createKey(positionals[0] as string, {
        ...(scopes === undefined ? {} : { scopes }),
        ...(allowedCidrs === undefined ? {} : { allowedCidrs }),
        ...(typeof values.expires === 'string' ? { expiresAt: parseExpiry(values.expires) } : {}),
      });
      print(created, () =>
        [
          `API key ${created.record.lookupId} created for consumer ${created.record.consumerId}.`,
          'Copy it now: it is shown only once and cannot be recovered.',
          '',
          `  ${created.key}`,
        ].join('\n'),
      );
    },
  },
  list: {
    usage: '[--consumer <id|name>]',
    options: { consumer: { type: 'string' } },
    async run({ admin, values, print }) {
      const list = await admin.listKeys(typeof values.consumer === 'string' ? values.consumer : undefined);
      print(list, () =>
        table([
          ['LOOKUP ID', 'CONSUMER', 'STATUS', 'SCOPES', 'EXPIRES', 'NOT AFTER', 'LAST USED'],
          ...list.map((k) => [
            k.lookupId,
            k.consumerId,
            k.status,
            k.scopes.join(',') || '-',
            k.expiresAt ?? '-',
            k.notAfter ?? '-',
            k.lastUsedAt ?? '-',
          ]),
        ]),
      );
    },
  },
  rotate: {
    usage: '<lookupId> [--overlap 24h]',
    positionals: 1,
    options: { overlap: { type: 'string' } },
    async run({ admin, values, positionals, print }) {
      const overlapMs =
        typeof values.overlap === 'string' ? parseDuration(values.overlap, '--overlap') : undefined;
      const rotated = await admin.rotateKey(positionals[0] as string, overlapMs);
      print(rotated, () =>
        [
          `API key ${rotated.record.lookupId} replaces ${rotated.previous.lookupId}, which stops working at ${rotated.previous.notAfter ?? 'once'}.`,
          'Copy the new key now: it is shown only once and cannot be recovered.',
          '',
          `  ${rotated.key}`,
        ].join('\n'),
      );
    },
  },
  revoke: {
    usage: '<lookupId>',
    positionals: 1,
    async run({ admin, positionals, print }) {
      const revoked = await admin.revokeKey(positionals[0] as string);
      print(revoked, () => `API key ${revoked.lookupId} revoked at ${revoked.revokedAt ?? ''}`);
    },
  },
};

/** `portcullis keys create|list|rotate|revoke` */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runSubcommand('keys', SPECS, args, io);
}
