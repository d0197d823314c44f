/** @module Interface consfig:module/forms@0.5.0 **/
/**
 * Apply a form, given as JSON text, with a property of any loaded
 * module. A form of a module that is running (the caller's own, say)
 * runs in another instance of that module, fresh from `init`.
 */
export function apply(form: string): Change;
/**
 * Check a form, given as JSON text, as a deploy does before it runs
 * anything: its property exists and its arguments decode, forms among
 * them included. No effect. The SDK calls this for every form a
 * property takes as an argument while that property is validated, so a
 * mistake deep in a subdeployment stops the deploy before it starts.
 */
export function validateForm(form: string): void;
/**
 * Apply forms (each JSON text) in a subdeployment: a fresh copy of the
 * pristine image, in the given contexts, entered in order by a child
 * process, never by the caller. A context is `chroot:PATH` (with /proc,
 * /sys and /dev bind-mounted inside, in a private mount namespace),
 * `chroot-bare:PATH` (no mounts), or `setuid:USER` (also `as:USER`).
 * Paths and users are resolved inside the contexts entered before them.
 * Each form's outcome is reported nested under the calling form, and every
 * form runs even when one before it failed. With no forms, nothing is
 * entered and the result is unchanged. Changed when any form changed;
 * an error when a context cannot be entered or any form failed.
 */
export function subdeploy(contexts: Array<string>, forms: Array<string>): Change;
/**
 * Write a bundle at `path` (absolute): a standalone executable holding a
 * runtime without compiler, the compiled code of every module of the
 * pristine image, `form` (JSON text) to evaluate when it starts, and
 * `grants` (e.g. `net:127.0.0.1:8080`) for the modules it runs. Written
 * atomically with mode 0755. Changed only when the file's bytes differ
 * from what was there.
 */
export function dumpImage(path: string, form: string, grants: Array<string>): Change;
export type Change = import('./consfig-module-types.js').Change;
