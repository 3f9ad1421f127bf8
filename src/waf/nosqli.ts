import type { Paranoia, RuleHit } from './classes.js';

/**
 * NoSQL operator injection (cf. CRS 942290 MongoDB injection; PayloadsAllTheThings "NoSQL
 * Injection"): query operators arriving as JSON object keys (`{"password": {"$ne": null}}`),
 * as bracketed query keys (`password[$ne]=x`, which `qs`-style parsers turn into objects), or
 * as JSON text inside a string value; and server-side JavaScript in `$where`.
 */

export const MONGO_OPERATORS = new Set(
  (
    '$where $ne $eq $gt $gte $lt $lte $in $nin $regex $options $exists $expr $function $accumulator $or $and $nor ' +
    '$not $elemmatch $text $search $jsonschema $type $mod $all $size $lookup $merge $out $set $unset $inc $push ' +
    '$pull $rename $comment $natural $slice $where$ $geowithin $near $nearsphere $bitsallset $bitsanyset ' +
    '$bitsallclear $bitsanyclear $graphlookup $unionwith $addfields $project $match $group $sort $limit $skip ' +
    '$sample $facet $replaceroot $currentop $listlocalsessions $getfield $setfield $rand'
  ).split(' '),
);

/** An object key or query-key segment that is an operator. Level 3 and up: any `$`-prefixed key. */
export function operatorKey(key: string, level: Paranoia): RuleHit {
  if (key.length < 2) return undefined;
  if (key.charCodeAt(0) === 36 /* $ */) {
    if (MONGO_OPERATORS.has(key.toLowerCase())) return 'nosqli.operator-key';
    if (level >= 3) return 'nosqli.dollar-key';
    return undefined;
  }
  // user[$ne] / user[password][$regex] / user.$gt
  const bracket = key.indexOf('[$');
  if (bracket !== -1) {
    const end = key.indexOf(']', bracket);
    const op = key.slice(bracket + 1, end === -1 ? key.length : end).toLowerCase();
    if (MONGO_OPERATORS.has(op) || level >= 3) return 'nosqli.bracket-operator';
  }
  const dot = key.indexOf('.$');
  if (dot !== -1 && MONGO_OPERATORS.has(key.slice(dot + 1).toLowerCase())) return 'nosqli.operator-key';
  return undefined;
}

function quotedOperator(lower: string): boolean {
  let at = lower.indexOf('$');
  while (at !== -1) {
    let j = at + 1;
    while (j < lower.length && lower.charCodeAt(j) >= 97 && lower.charCodeAt(j) <= 122) j++;
    const word = lower.slice(at, j);
    if (MONGO_OPERATORS.has(word)) {
      const before = lower.charCodeAt(at - 1);
      const after = lower.charCodeAt(j);
      // "$ne": / '$gt': / {$where: / [$regex]
      if (
        (before === 34 || before === 39 || before === 123 || before === 91) &&
        (after === 34 || after === 39 || after === 58 || after === 93)
      )
        return true;
    }
    at = lower.indexOf('$', at + 1);
  }
  return false;
}

/** `'; return true; var x='`: a quote closes the string and a statement follows (CRS 934100 family). */
function breaksIntoJavaScript(lower: string): boolean {
  for (const opener of ["';", '";', "' ;", '" ;']) {
    const at = lower.indexOf(opener);
    if (at === -1) continue;
    let j = at + opener.length;
    while (lower.charCodeAt(j) === 32) j++;
    if (
      lower.startsWith('return', j) ||
      lower.startsWith('var ', j) ||
      lower.startsWith('while', j) ||
      lower.startsWith('sleep(', j)
    )
      return true;
  }
  return false;
}

/** String values: JSON operators inside text (re-parsed by the app) and `$where` JavaScript. */
export function detectNosqli(_text: string, lower: string, level: Paranoia): RuleHit {
  if (lower.includes('$') && quotedOperator(lower)) return 'nosqli.operator-in-string';
  if (lower.includes('return') && breaksIntoJavaScript(lower)) return 'nosqli.where-javascript';
  if (
    lower.includes('this.') &&
    (lower.includes('==') || lower.includes('.match(') || lower.includes('return'))
  )
    return 'nosqli.where-javascript';
  if (
    (lower.includes("'||'") ||
      lower.includes('" || "') ||
      lower.includes("' || '") ||
      lower.includes('"||"')) &&
    lower.includes('==')
  ) {
    return 'nosqli.js-tautology';
  }
  if (level >= 2) {
    if (
      (lower.includes('||') || lower.includes('&&')) &&
      (lower.includes('==') || lower.includes('return true'))
    )
      return 'nosqli.js-tautology';
    if (lower.includes('sleep(') && lower.includes(';')) return 'nosqli.js-sleep';
  }
  return undefined;
}
