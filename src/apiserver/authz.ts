// Authorization hook. Every authenticated user may do everything until RBAC enforcement lands;
// the hook is here so that the request path does not change when it does.

import type { UserInfo } from './authn.ts';
import type { RequestInfo } from './request-info.ts';

export function authorize(_user: UserInfo, _info: RequestInfo): void {}
