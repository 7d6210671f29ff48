/**
 * What the rendered runbooks rely on from the `argocd` CLI (argoproj/argo-cd v3.4.4, f3d8afac,
 * cmd/argocd/commands/app.go; test/support/argocd-stub.mjs behaves so and runs the README blocks):
 * - `--timeout` defaults to 0, no bound (:3181 defaultCheckTimeoutSeconds) on `app get` (:515), `app sync` (:2495) and
 *   `app wait` (:2099); every wait the runbooks render names one.
 * - `app sync` without `--async` waits for the operation (:2470-2473) and `app wait` for the state it is asked: at the
 *   bound they print the Application's state and exit 20, "timed out (Ns) waiting for app … match desired state"
 *   (:2860-2885, 2967; util/errors/errors.go:13, 34-38 CheckError exits ErrorGeneric 20); the operation itself runs on.
 *   An operation that ends not Successful exits 1, "Operation has completed with phase: …" (:2475-2476).
 * - `app get --refresh --timeout N` does NOT fail at its bound: it abandons the refresh and prints the Application as it
 *   is (:405-445, a Get without refresh after the context is cancelled), exit 0. So a runbook that needs the refresh
 *   checks its result itself (the root's status.resources, which `app sync --resource` filters: :2639-2655, and refuses
 *   when nothing matches, exit 1, :2348-2353).
 */
export const ARGOCD_CLI = {
  /** How long `argocd app get root --refresh` may wait for the controller to refresh the root: it does within seconds once it runs. */
  refreshTimeoutSeconds: 300,
  /** The bound of each `argocd app sync` (its operation) and `argocd app wait` (Healthy) in the runbooks. */
  waitTimeoutSeconds: 900,
  source: 'argoproj/argo-cd v3.4.4 (f3d8afac) cmd/argocd/commands/app.go:405-445, 515, 2099, 2348-2353, 2470-2476, 2495, 2639-2655, 2860-2885, 2967, 3181; util/errors/errors.go:13, 34-38',
} as const;
