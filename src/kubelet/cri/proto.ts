// api.proto as @grpc/proto-loader's package definition, for gRPC servers that fake a runtime in
// tests (with grpc-js). The kubelet's own client does not load protobufjs: see codec.ts.

import { loadSync, type PackageDefinition, type MethodDefinition } from '@grpc/proto-loader';
import { criProtoPath } from './proto-path.ts';

export { criProtoPath };

let cached: PackageDefinition | undefined;

/** The package definition: camelCase fields, enums as names, int64 as numbers, defaults filled. */
export function criPackageDefinition(): PackageDefinition {
  cached ??= loadSync(criProtoPath(), { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  return cached;
}

export type CriMethod = MethodDefinition<object, object>;

/** Method definitions of one service, by method name ('Version', 'ListImages', ...). */
export function criService(name: 'RuntimeService' | 'ImageService'): Record<string, CriMethod> {
  const def = criPackageDefinition()[`runtime.v1.${name}`];
  if (!def || !('Version' in def || 'ListImages' in def)) throw new Error(`runtime.v1.${name} missing from api.proto`);
  return def as unknown as Record<string, CriMethod>;
}
