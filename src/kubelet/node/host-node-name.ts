// The node name a kubelet takes from the machine when none is given (upstream lowercases the
// hostname); kept apart from the kubelet command so `mizzen up` can name its local node cheaply.

import { hostname } from 'node:os';

/** A host name as a node name (lower case; anything else than [a-z0-9.-] becomes '-'). */
export function nodeNameFromHost(h: string = hostname()): string {
  return h.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'node';
}
