import {
  listOption,
  readJsonFile,
  runSubcommand,
  table,
  type CliIo,
  type SubcommandSpec,
} from '../../authn/credential-cli.js';

const SPECS: Record<string, SubcommandSpec> = {
  create: {
    usage: '<consumer> [--scopes a,b] [--jwks public-jwk-or-jwks.json]',
    positionals: 1,
    options: { scopes: { type: 'string', multiple: true }, jwks: { type: 'string' } },
    async run({ admin, values, positionals, print }) {
      const allowedScopes = listOption(values.scopes);
      const created = await admin.createClient(positionals[0] as string, {
        ...(allowedScopes === undefined ? {} : { allowedScopes }),
        ...(typeof values.jwks === 'string' ? { jwks: await readJsonFile(values.jwks) } : {}),
      });
      print(created, () =>
        created.clientSecret === undefined
          ? `OAuth client ${created.clientId} created (private_key_jwt).`
          : [
              `OAuth client ${created.clientId} created.`,
              'Copy the client secret now: it is shown only once and cannot be recovered.',
              '',
              `  ${created.clientSecret}`,
            ].join('\n'),
      );
    },
  },
  list: {
    usage: '[--consumer <id|name>]',
    options: { consumer: { type: 'string' } },
    async run({ admin, values, print }) {
      const list = await admin.listClients(typeof values.consumer === 'string' ? values.consumer : undefined);
      print(list, () =>
        table([
          ['CLIENT ID', 'CONSUMER', 'AUTH', 'STATUS', 'SCOPES', 'CREATED'],
          ...list.map((c) => [
            c.clientId,
            c.consumerId,
            c.authMethod,
            c.status,
            c.allowedScopes.join(',') || '-',
            c.createdAt,
          ]),
        ]),
      );
    },
  },
  revoke: {
    usage: '<clientId>',
    positionals: 1,
    async run({ admin, positionals, print }) {
      const revoked = await admin.revokeClient(positionals[0] as string);
      print(revoked, () => `OAuth client ${revoked.clientId} revoked at ${revoked.revokedAt ?? ''}`);
    },
  },
};

/** `portcullis clients create|list|revoke` */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runSubcommand('clients', SPECS, args, io);
}
