import { FORBIDDEN_KEYS } from '../json/scan.js';
import { addViolation, type Violation } from './violations.js';

/** Adds one form field: repeated fields make arrays only where the schema declares an array. */
export function addField(
  target: Record<string, unknown>,
  name: string,
  field: unknown,
  arrays: ReadonlySet<string>,
  violations: Violation[],
): void {
  if (FORBIDDEN_KEYS.has(name)) {
    addViolation(violations, { in: 'body', pointer: '/' + escape(name), message: 'forbidden member name' });
    return;
  }
  if (arrays.has(name)) {
    const list = (target[name] as unknown[] | undefined) ?? [];
    list.push(field);
    target[name] = list;
  } else if (Object.hasOwn(target, name)) {
    addViolation(violations, { in: 'body', pointer: '/' + escape(name), message: 'must not be repeated' });
  } else {
    target[name] = field;
  }
}

function escape(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
