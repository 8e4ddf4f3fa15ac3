/** A cluster job that cannot be exported or imported, with the reason in words a user can act on. */
export class ClusterJobError extends Error {
  override name = 'ClusterJobError';
}
