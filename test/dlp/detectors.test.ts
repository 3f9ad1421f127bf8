import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cardBrand, ibanValid, luhnValid, ssnValid } from '../../src/dlp/checksums.js';
import { findSensitive, DETECTOR_IDS } from '../../src/dlp/detectors.js';
import { maskSensitive } from '../../src/dlp/mask.js';
import { scanJsonText } from '../../src/dlp/body.js';

const ALL = DETECTOR_IDS;
const kinds = (text: string) => findSensitive(text, ALL).map((m) => m.detector);

describe('payment cards', () => {
  test('Luhn-valid numbers of known brands are found and keep their last four digits', () => {
    const cases: [string, string][] = [
      ['4111111111111111', '************1111'],
      ['4111 1111 1111 1111', '**** **** **** 1111'],
      ['4111-1111-1111-1111', '****-****-****-1111'],
      ['5555555555554444', '************4444'],
      ['2223003122003222', '************3222'],
      ['378282246310005', '***********0005'],
      ['6011111111111117', '************1117'],
      ['3566002020360505', '************0505'],
      ['30569309025904', '**********5904'],
    ];
    for (const [card, masked] of cases) {
      assert.equal(maskSensitive(`paid with ${card}.`), `paid with ${masked}.`, card);
    }
  });
  test('Luhn-invalid numbers, unknown prefixes, mixed separators and long digit runs are left alone', () => {
    for (const text of [
      '4111111111111112',
      '4111 1111 1111 1112',
      '1234567812345670', // Luhn-valid but no brand starts with 1
      '4111 1111-1111 1111',
      'order 1700000000000 placed',
      'id 41111111111111110000',
      'tel +44 20 7946 0958',
    ]) {
      assert.deepEqual(kinds(text), [], text);
    }
    assert.equal(luhnValid('79927398713'), true);
    assert.equal(luhnValid('79927398710'), false);
    assert.equal(cardBrand('9111111111111111'), undefined);
  });
});

describe('national identifiers', () => {
  test('US SSN with the invalid-range exclusions', () => {
    assert.deepEqual(kinds('ssn 536-22-1234'), ['ssn']);
    assert.equal(maskSensitive('ssn 536-22-1234'), 'ssn ***-**-1234');
    for (const bad of [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '999-99-9999',
      '536-00-1234',
      '536-22-0000',
      '078-05-1120',
    ]) {
      assert.deepEqual(kinds(`ssn ${bad}`), [], bad);
    }
    assert.equal(ssnValid('536', '22', '1234'), true);
  });
  test('UK NINO, with and without spaces; never-issued prefixes and letters are not matched', () => {
    assert.deepEqual(kinds('NI AB123456C'), ['nino']);
    assert.deepEqual(kinds('NI AB 12 34 56 C'), ['nino']);
    for (const bad of ['GB123456A', 'QQ123456C', 'AB123456E', 'DA123456A'])
      assert.deepEqual(kinds(bad), [], bad);
  });
  test('IBAN with the mod-97 check and country length', () => {
    assert.equal(ibanValid('GB82WEST12345698765432'), true);
    assert.equal(ibanValid('GB82WEST12345698765433'), false);
    assert.deepEqual(kinds('pay to DE89 3704 0044 0532 0130 00 today'), ['iban']);
    assert.deepEqual(kinds('pay to DE89370400440532013001'), []);
    assert.deepEqual(kinds('pay to XX89370400440532013000'), []);
  });
});

describe('keys and secrets', () => {
  const secrets: [string, string][] = [
    ['AKIAIOSFODNN7EXAMPLE', 'awsAccessKey'],
    ['ASIAY34FZKBOKMUTVV7A', 'awsAccessKey'],
    ['ghp_' + 'A1b2C3d4E5'.repeat(3) + 'abcdef', 'githubToken'],
    ['github_pat_11ABCDEFG0' + 'x'.repeat(72), 'githubToken'],
    ['xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'slackToken'],
    ['sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc', 'stripeKey'],
    ['AIzaSyD-1234567890abcdefghijklmnopqrstu', 'googleApiKey'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', 'jwt'],
  ];
  for (const [secret, kind] of secrets) {
    test(`${kind} is found and redacted`, () => {
      assert.deepEqual(kinds(`token=${secret};`), [kind]);
      assert.equal(maskSensitive(`token=${secret};`), `token=[REDACTED:${kind}];`);
    });
  }
  test('PEM private keys are removed whole, even without an END line', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----';
    assert.equal(maskSensitive(`key:\n${pem}\nafter`), 'key:\n[REDACTED:privateKey]\nafter');
    assert.equal(maskSensitive('-----BEGIN PRIVATE KEY-----\nMIIEv'), '[REDACTED:privateKey]');
    assert.deepEqual(kinds('-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----'), []);
  });
  test('look-alikes are not secrets', () => {
    for (const text of [
      'AKIA short',
      'ghp_tooShort',
      'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
      'xoxb-short',
      'eyJ.eyJ.x',
    ]) {
      assert.deepEqual(kinds(text), [], text);
    }
  });
  test('e-mail addresses are a detector of their own, not masked in logs by default', () => {
    assert.deepEqual(kinds('write to ann.o-brien+x@mail.example.co.uk'), ['email']);
    assert.equal(maskSensitive('write to ann@example.com'), 'write to ann@example.com');
    assert.equal(maskSensitive('write to ann@example.com', ['email']), 'write to [REDACTED:email]');
  });
});

describe('JSON bodies', () => {
  test('strings are masked in place, card numbers stored as JSON numbers become masked strings', () => {
    const body = JSON.stringify({
      card: 4111111111111111,
      note: 'card 5555 5555 5555 4444',
      id: 1700000000000,
      n: [1, 2],
    });
    const scan = scanJsonText(body, ['card']);
    assert.deepEqual(JSON.parse(scan.masked as string), {
      card: '************1111',
      note: 'card **** **** **** 4444',
      id: 1700000000000,
      n: [1, 2],
    });
    assert.equal(scan.found.get('card'), 2);
  });
  test('a __proto__ key survives masking as a plain key', () => {
    const scan = scanJsonText('{"__proto__": {"x": "4111111111111111"}}', ['card']);
    assert.equal(scan.masked, '{"__proto__":{"x":"************1111"}}');
  });
  test('nothing found: the body is left byte-for-byte', () => {
    assert.equal(scanJsonText('{ "a" : 1 }', ['card', 'ssn']).masked, undefined);
  });
});
