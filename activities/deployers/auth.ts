// The deployer's credentials: named by the plan, read from the worker's environment at
// call time, so no token ever enters workflow history.
import { ApplicationFailure } from '@temporalio/common';
import type { NormalizedDeployer } from '../../plan';
import { ACTIVITY_FAILURE } from '../../workflows/failures';

type HttpDeployer = Extract<NormalizedDeployer, { type: 'http' }>;

/** The bearer token the plan names, read from the worker's environment at call time. */
export function authHeaders(deployer: HttpDeployer): Record<string, string> {
  const headers: Record<string, string> = {};
  if (deployer.tokenEnv) {
    const token = process.env[deployer.tokenEnv];
    if (!token) {
      // Non-retryable: the worker's environment will not change between attempts.
      throw ApplicationFailure.nonRetryable(
        `deployer token: environment variable ${deployer.tokenEnv} is not set on the worker`,
        ACTIVITY_FAILURE.deployConfig,
      );
    }
    headers.Authorization = `Bearer ${token}`;
  }
  return headers;
}
