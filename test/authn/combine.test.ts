import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateAllOf, authenticateAnyOf } from '../../src/authn/combine.js';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import type { Identity } from '../../src/pipeline/identity.js';
import { fakeContext } from './request-context.js';

function identity(method: string, consumerId?: string): Identity {
  return {
    method,
    subject: method,
    roles: [],
    scopes: [],
    attributes: {},
    ...(consumerId ? { consumerId } : {}),
  };
}

type Behaviour = 'absent' | 'bad' | Identity | (() => Promise<Identity | undefined>);

function fake(method: string, behaviour: Behaviour, calls: string[] = []): Authenticator {
  return {
    method,
    challenge: `${method} realm="portcullis"`,
    authenticate() {
      calls.push(method);
      if (behaviour === 'absent') return undefined;
      if (behaviour === 'bad') throw new AuthenticationFailure(`${method}_bad`);
      if (typeof behaviour === 'function') return behaviour();
      return behaviour;
    },
  };
}

describe('anyOf', () => {
  test('first present credential decides; later methods are not consulted', () => {
    const calls: string[] = [];
    const result = authenticateAnyOf(
      [fake('a', 'absent', calls), fake('b', identity('b'), calls), fake('c', 'bad', calls)],
      fakeContext(),
    );
    assert.ok(!(result instanceof Promise));
    assert.equal(result.kind, 'ok');
    assert.deepEqual(calls, ['a', 'b']);
  });

  test('a bad credential fails the request even when a later method would succeed', () => {
    const result = authenticateAnyOf([fake('a', 'bad'), fake('b', identity('b'))], fakeContext());
    assert.ok(!(result instanceof Promise) && result.kind === 'failed');
    assert.equal(result.failure.reason, 'a_bad');
    assert.equal(result.authenticator.method, 'a');
  });

  test('nothing presented: missing', () => {
    const result = authenticateAnyOf([fake('a', 'absent'), fake('b', 'absent')], fakeContext());
    assert.deepEqual(result, { kind: 'missing', method: undefined });
  });

  test('async authenticators, including a rejected one', async () => {
    const ok = await authenticateAnyOf(
      [fake('a', async () => undefined), fake('b', async () => identity('b'))],
      fakeContext(),
    );
    assert.equal(ok.kind, 'ok');
    const bad = await authenticateAnyOf(
      [
        fake('a', async () => {
          throw new AuthenticationFailure('late');
        }),
      ],
      fakeContext(),
    );
    assert.ok(bad.kind === 'failed' && bad.failure.reason === 'late');
  });

  test('unexpected errors propagate (fail closed, never treated as absent)', async () => {
    const broken: Authenticator = {
      method: 'x',
      challenge: 'x',
      authenticate: () => {
        throw new Error('boom');
      },
    };
    assert.throws(() => authenticateAnyOf([broken, fake('b', identity('b'))], fakeContext()), /boom/);
    const brokenAsync: Authenticator = {
      method: 'y',
      challenge: 'y',
      authenticate: () => Promise.reject(new Error('down')),
    };
    await assert.rejects(async () => authenticateAnyOf([brokenAsync], fakeContext()), /down/);
  });
});

describe('allOf', () => {
  test('every method must succeed; the first supplies the identity', async () => {
    const result = await authenticateAllOf(
      [fake('mtls', identity('mtls', 'c1')), fake('jwt:corp', identity('jwt:corp'))],
      fakeContext(),
    );
    assert.ok(result.kind === 'ok');
    assert.equal(result.identity.method, 'mtls+jwt:corp');
    assert.equal(result.identity.consumerId, 'c1');
    assert.deepEqual(result.identity.attributes.authenticatedBy, ['mtls', 'jwt:corp']);
  });

  test('one missing or bad method fails the whole', async () => {
    assert.deepEqual(
      await authenticateAllOf([fake('a', identity('a')), fake('b', 'absent')], fakeContext()),
      {
        kind: 'missing',
        method: 'b',
      },
    );
    const bad = await authenticateAllOf([fake('a', identity('a')), fake('b', 'bad')], fakeContext());
    assert.ok(bad.kind === 'failed' && bad.failure.reason === 'b_bad');
  });

  test('two methods naming different consumers are refused', async () => {
    const result = await authenticateAllOf(
      [fake('a', identity('a', 'c1')), fake('b', identity('b', 'c2'))],
      fakeContext(),
    );
    assert.ok(result.kind === 'failed' && result.failure.reason === 'identity_mismatch');
  });
});
