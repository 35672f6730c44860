// Kubernetes protobuf request bodies → JSON objects.
export { decodeKubernetesProtobuf, type DecodedObject } from './decode.ts';
