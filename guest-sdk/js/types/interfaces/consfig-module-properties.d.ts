/** @module Interface consfig:module/properties@0.5.0 **/
/**
 * Called once when the module is loaded, before the pristine image is taken.
 */
export function init(): void;
export function describe(): ModuleInfo;
/**
 * Decode the arguments of a form without any effect on the host.
 */
export function validate(name: string, args: string): void;
/**
 * Make the property hold: check, and change the host only if needed.
 */
export function apply(name: string, args: string): Change;
export type Change = import('./consfig-module-types.js').Change;
export type ModuleInfo = import('./consfig-module-types.js').ModuleInfo;
