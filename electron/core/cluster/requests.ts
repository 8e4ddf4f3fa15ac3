// The API side of cluster jobs: a refusal the user can act on (a bad folder, data or setting) is a
// bad request with its message as it is, not a failure of the app.
import { ApiError } from '../api/errors.js';
import { DataError } from '../data/index.js';
import { ModelFolderError } from '../model/errors.js';
import { ClusterJobError } from './errors.js';

export async function asRequest<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ClusterJobError || err instanceof ModelFolderError || err instanceof DataError) throw new ApiError('bad_request', err.message);
    throw err;
  }
}
