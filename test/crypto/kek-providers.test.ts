import { randomBytes } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyringError } from '../../src/crypto/errors.js';
import { createKekProvider } from '../../src/crypto/kek-providers.js';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { KNOWN_EXAMPLE_KEKS } from '../../src/crypto/known-example-keys.js';
import { tempDir, writeKekFile } from './helpers.js';

function refuses(code: KeyringError['code']) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof KeyringError, `expected KeyringError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('KEK providers refuse unsafe keys', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('file: a good key file loads', async () => {
    const key = randomBytes(32);
    const path = await writeKekFile(dir, 'good.key', key.toString('base64'));
    const loaded = await createKekProvider({ provider: 'file', path }, dir).load();
    assert.ok(loaded.equals(key));
  });

  test('file: missing file', async () => {
    await assert.rejects(
      createKekProvider({ provider: 'file', path: 'absent.key' }, dir).load(),
      refuses('kek_missing'),
    );
  });

  test('file: world- or group-readable file', async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const path = await writeKekFile(dir, `loose-${mode.toString(8)}.key`);
      await chmod(path, mode);
      await assert.rejects(
        createKekProvider({ provider: 'file', path }, dir).load(),
        refuses('kek_insecure_permissions'),
      );
    }
  });

  test('file: too short, too long, not base64, empty, degenerate', async () => {
    const cases: [string, KeyringError['code']][] = [
      [randomBytes(16).toString('base64'), 'kek_weak'],
      [randomBytes(31).toString('base64'), 'kek_weak'],
      [randomBytes(48).toString('base64'), 'kek_invalid'],
      ['this is not base64!!', 'kek_invalid'],
      ['', 'kek_missing'],
      [Buffer.alloc(32).toString('base64'), 'kek_weak'],
      [Buffer.alloc(32, 0xab).toString('base64'), 'kek_weak'],
    ];
    for (const [i, [content, code]] of cases.entries()) {
      const path = await writeKekFile(dir, `bad-${i}.key`, content);
      await assert.rejects(createKekProvider({ provider: 'file', path }, dir).load(), refuses(code));
    }
  });

  test('file: every known example key is refused', async () => {
    for (const [i, example] of KNOWN_EXAMPLE_KEKS.entries()) {
      const path = await writeKekFile(dir, `example-${i}.key`, example);
      await assert.rejects(createKekProvider({ provider: 'file', path }, dir).load(), refuses('kek_example'));
    }
  });

  test('env: missing, weak and good values', async () => {
    const name = `PORTCULLIS_TEST_KEK_${process.pid}`;
    await assert.rejects(
      createKekProvider({ provider: 'env', env: name }, dir).load(),
      refuses('kek_missing'),
    );
    process.env[name] = randomBytes(8).toString('base64');
    await assert.rejects(createKekProvider({ provider: 'env', env: name }, dir).load(), refuses('kek_weak'));
    const key = randomBytes(32);
    process.env[name] = key.toString('base64');
    assert.ok((await createKekProvider({ provider: 'env', env: name }, dir).load()).equals(key));
    delete process.env[name];
  });

  test('command: the printed key is used', async () => {
    const key = randomBytes(32);
    const provider = createKekProvider(
      {
        provider: 'command',
        command: [
          process.execPath,
          '-e',
          `process.stdout.write(${JSON.stringify(key.toString('base64') + '\n')})`,
        ],
      },
      dir,
    );
    assert.ok((await provider.load()).equals(key));
  });

  test('command: failure, timeout and bad output refuse, without echoing output', async () => {
    const leaked = randomBytes(32).toString('base64');
    const failing = createKekProvider(
      {
        provider: 'command',
        command: [process.execPath, '-e', `console.log(${JSON.stringify(leaked)}); process.exit(3)`],
      },
      dir,
    );
    await assert.rejects(failing.load(), (error: unknown) => {
      refuses('kek_provider_failed')(error);
      assert.ok(!(error as Error).message.includes(leaked), 'command output must not appear in the error');
      return true;
    });
    const slow = createKekProvider(
      {
        provider: 'command',
        command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'],
        timeoutMs: 300,
      },
      dir,
    );
    await assert.rejects(slow.load(), refuses('kek_provider_failed'));
    const garbage = createKekProvider(
      { provider: 'command', command: [process.execPath, '-e', 'console.log("not a key!")'] },
      dir,
    );
    await assert.rejects(garbage.load(), refuses('kek_invalid'));
    const missing = createKekProvider({ provider: 'command', command: ['/nonexistent/kek-helper'] }, dir);
    await assert.rejects(missing.load(), refuses('kek_provider_failed'));
  });

  test('keyring: duplicate versions or the same key twice are configuration errors', async () => {
    const a = await writeKekFile(dir, 'dup-a.key');
    const b = await writeKekFile(dir, 'dup-b.key');
    await assert.rejects(
      loadKeyring(
        {
          kek: { provider: 'file', path: a, version: 2 },
          previous: [{ provider: 'file', path: b, version: 2 }],
        },
        dir,
      ),
      refuses('config_invalid'),
    );
    await assert.rejects(
      loadKeyring(
        {
          kek: { provider: 'file', path: a, version: 2 },
          previous: [{ provider: 'file', path: a, version: 1 }],
        },
        dir,
      ),
      refuses('config_invalid'),
    );
  });

  test('keyring: the default is ./.portcullis/kek.key next to the config, and it must exist', async () => {
    await assert.rejects(loadKeyring(undefined, dir), (error: unknown) => {
      refuses('kek_missing')(error);
      assert.match((error as Error).message, /\.portcullis\/kek\.key/);
      return true;
    });
  });
});
