// The deployer's credentials: named by the plan, read from the worker's environment at
// call time, so no token ever enters workflow history.
import { ApplicationFailure } from '@temporalio/common';
import type { NormalizedDeployer } from '../../plan';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import { bearerHeader } from '../bearer-token';

type HttpDeployer = Extract<NormalizedDeployer, { type: 'http' }>;

/** The deployer's Authorization header; a named but unset variable fails the step for good. */
export function authHeaders(deployer: HttpDeployer): Record<string, string> {
  const auth = bearerHeader(deployer.tokenEnv);
  // Non-retryable: the worker's environment will not change between attempts.
  if ('missing' in auth)
    throw ApplicationFailure.nonRetryable(`deployer token: environment variable ${auth.missing} is not set on the worker`, ACTIVITY_FAILURE.deployConfig);
  return auth.headers;
}
