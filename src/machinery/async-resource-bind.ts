// Node 20's AsyncResource#bind is slow: it wraps the bound function's (deprecated, DEP0172)
// `asyncResource` accessors with util.deprecate, which makes each fresh accessor the prototype
// of another function, on every call (nodejs/node#58218; Node 24 stopped it, nodejs/node#59195).
// node:http2 binds one AsyncResource per client request, so every etcd call paid for it: 60-70 µs
// against 6 µs for the method below, on this 2-core machine under load (docs/design.md, "Creates
// on etcd: where the CPU goes"). The replacement does the same (runs the function in the
// resource's async scope, keeps `length`, keeps the deprecated accessors and their one-time
// warning) without that wrapping. The gRPC channel's module installs it; a Node whose own bind
// does not go through the deprecation wrapper keeps its own.

import { AsyncResource } from 'node:async_hooks';

const INSTALLED = Symbol.for('mizzen.fastAsyncResourceBind');
const proto = AsyncResource.prototype as unknown as Record<symbol | string, unknown>;
const nodeBind = proto.bind as (...a: unknown[]) => unknown;

let warned = false;
function warnDeprecated(): void {
  if (warned || process.noDeprecation) return;
  warned = true;
  process.emitWarning('The asyncResource property on bound functions is deprecated', 'DeprecationWarning', 'DEP0172');
}

function fastBind(this: AsyncResource, fn: (...a: unknown[]) => unknown, thisArg?: unknown): (...a: unknown[]) => unknown {
  if (typeof fn !== 'function') {
    const err = new TypeError(`The "fn" argument must be of type function. Received ${fn === null ? 'null' : typeof fn}`) as TypeError & { code: string };
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  const resource = this;
  const bound =
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]) {
          return resource.runInAsyncScope(fn, this, ...args);
        }
      : resource.runInAsyncScope.bind(resource, fn, thisArg);
  let self = resource;
  Object.defineProperties(bound, {
    length: { configurable: true, enumerable: false, value: fn.length, writable: false },
    asyncResource: {
      configurable: true,
      enumerable: true,
      get() {
        warnDeprecated();
        return self;
      },
      set(v: AsyncResource) {
        warnDeprecated();
        self = v;
      },
    },
  });
  return bound;
}

/** Use fastBind when Node's own bind goes through util.deprecate (its source names DEP0172). */
export function installFastAsyncResourceBind(): void {
  if (proto[INSTALLED] || !/DEP0172/.test(Function.prototype.toString.call(nodeBind))) return;
  proto[INSTALLED] = true;
  proto.bind = fastBind;
}

/** For an A/B benchmark (bench/store-cpu.ts --ab-bind): Node's own bind (false) or fastBind (true). */
export function useFastAsyncResourceBind(on: boolean): void {
  proto.bind = on ? fastBind : nodeBind;
}
