import {
  attributesOption,
  listOption,
  runSubcommand,
  table,
  type CliIo,
  type SubcommandSpec,
} from '../../authn/credential-cli.js';
import type { ConsumerView } from '../../authn/credential-admin.js';

function consumerRows(list: readonly ConsumerView[]): string {
  return table([
    ['ID', 'NAME', 'ROLES', 'TENANT', 'STATUS', 'CREATED'],
    ...list.map((c) => [
      c.id,
      c.name,
      c.roles.join(','),
      c.tenant ?? '-',
      c.disabled ? 'disabled' : 'active',
      c.createdAt,
    ]),
  ]);
}

const SPECS: Record<string, SubcommandSpec> = {
  create: {
    usage: '<name> [--roles a,b] [--tenant t] [--attr k=v ...]',
    positionals: 1,
    options: {
      roles: { type: 'string', multiple: true },
      tenant: { type: 'string' },
      attr: { type: 'string', multiple: true },
    },
    async run({ admin, values, positionals, print }) {
      const attributes = attributesOption(values.attr);
      const roles = listOption(values.roles);
      const consumer = await admin.createConsumer({
        name: positionals[0] as string,
        ...(roles === undefined ? {} : { roles }),
        ...(typeof values.tenant === 'string' ? { tenant: values.tenant } : {}),
        ...(attributes === undefined ? {} : { attributes }),
      });
      print(consumer, () => `created consumer ${consumer.name} (${consumer.id})`);
    },
  },
  list: {
    usage: '[--tenant t]',
    options: { tenant: { type: 'string' } },
    async run({ admin, values, print }) {
      const list = await admin.listConsumers(typeof values.tenant === 'string' ? values.tenant : undefined);
      print(list, () => consumerRows(list));
    },
  },
  show: {
    usage: '<id|name>',
    positionals: 1,
    async run({ admin, positionals, print }) {
      const shown = await admin.showConsumer(positionals[0] as string);
      print(shown, () =>
        [
          consumerRows([shown.consumer]),
          `attributes: ${JSON.stringify(shown.consumer.attributes)}`,
          `API keys: ${shown.keys.map((k) => `${k.lookupId} (${k.status})`).join(', ') || '-'}`,
          `OAuth clients: ${shown.clients.map((c) => `${c.clientId} (${c.status})`).join(', ') || '-'}`,
        ].join('\n'),
      );
    },
  },
  disable: {
    usage: '<id|name>',
    positionals: 1,
    async run({ admin, positionals, print }) {
      const consumer = await admin.setConsumerDisabled(positionals[0] as string, true);
      print(
        consumer,
        () => `disabled consumer ${consumer.name}: its keys and clients stop working on every node`,
      );
    },
  },
  enable: {
    usage: '<id|name>',
    positionals: 1,
    async run({ admin, positionals, print }) {
      const consumer = await admin.setConsumerDisabled(positionals[0] as string, false);
      print(consumer, () => `enabled consumer ${consumer.name}`);
    },
  },
};

/** `portcullis consumers create|list|show|disable|enable` */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runSubcommand('consumers', SPECS, args, io);
}
