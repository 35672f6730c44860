// Parsing of node capacity and label flags (`cpu=32,memory=256Gi,pods=110`, `zone=a,rack=r1`).

import { isValidQuantity } from '../../machinery/quantity.ts';
import { isQualifiedName, isValidLabelValue } from '../../api/validation.ts';

/** What a simulated node offers unless told otherwise: a large but plausible machine. */
export const DEFAULT_CAPACITY: Readonly<Record<string, string>> = Object.freeze({ cpu: '32', memory: '256Gi', pods: '110' });

/** Parse `k=v,k=v` into pairs; empty entries (trailing commas) are skipped. */
function parsePairs(text: string, what: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`invalid ${what} "${entry}": expected NAME=VALUE`);
    out.push([entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()]);
  }
  return out;
}

/**
 * Parse a capacity flag such as `cpu=32,memory=256Gi,pods=110`. Resources not named keep their
 * defaults, so `--capacity cpu=4` still gives the node pods and memory. Throws with a message fit
 * for the command line on a malformed entry, a bad quantity or a repeated resource.
 */
export function parseCapacity(text: string, defaults: Record<string, string> = DEFAULT_CAPACITY): Record<string, string> {
  const out: Record<string, string> = { ...defaults };
  const seen = new Set<string>();
  for (const [name, value] of parsePairs(text, 'capacity entry')) {
    if (seen.has(name)) throw new Error(`invalid capacity: resource "${name}" given twice`);
    seen.add(name);
    const nameProblems = isQualifiedName(name);
    if (nameProblems.length) throw new Error(`invalid capacity resource name "${name}": ${nameProblems[0]}`);
    if (!value) throw new Error(`invalid capacity for "${name}": missing quantity`);
    if (!isValidQuantity(value)) throw new Error(`invalid capacity for "${name}": "${value}" is not a quantity (e.g. 32, 500m, 256Gi)`);
    if (value.startsWith('-')) throw new Error(`invalid capacity for "${name}": "${value}" must not be negative`);
    out[name] = value;
  }
  return out;
}

/** Parse a label flag such as `topology.kubernetes.io/zone=a,rack=r1`. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of parsePairs(text, 'label')) {
    const keyProblems = isQualifiedName(key);
    if (keyProblems.length) throw new Error(`invalid label key "${key}": ${keyProblems[0]}`);
    const valueProblems = isValidLabelValue(value);
    if (valueProblems.length) throw new Error(`invalid label value "${value}" for "${key}": ${valueProblems[0]}`);
    out[key] = value;
  }
  return out;
}
