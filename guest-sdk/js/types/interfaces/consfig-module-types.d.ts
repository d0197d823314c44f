/** @module Interface consfig:module/types@0.5.0 **/
/**
 * What applying a property did (or, for a check, would do).
 * # Variants
 * 
 * ## `"unchanged"`
 * 
 * ## `"changed"`
 */
export type Change = 'unchanged' | 'changed';
/**
 * One parameter of a property, in order: a form gives it by position,
 * or, when it is optional, by name in a JSON object ending the form
 * (`["user:exists", "ada", {"shell": "/bin/zsh"}]`).
 */
export interface ParamInfo {
  /**
   * The name an optional argument is given by, e.g. `shell`.
   */
  name: string,
  /**
   * What values the argument takes, in Consfig's schema, the same for
   * modules in every language: `string`, `integer`, `number`, `bool`,
   * `form` (a form as a JSON array), `any` (any JSON value),
   * `list<T>`, `object` (any JSON object), `object<T>` (an object
   * whose values are T), `optional<T>` (T or null), and `A|B` (either).
   * The runtime checks every argument against it before the module
   * sees the form: `list<string>`, `optional<integer>`, `string|integer`.
   */
  schema: string,
  /**
   * Whether the argument may be left out (trailing optional parameters
   * and parameters with a default).
   */
  optional: boolean,
  /**
   * The value a left-out argument takes, as JSON text (e.g. `"/bin/sh"`);
   * none when it has no default (an `Option` is then none).
   */
  'default'?: string,
}
export interface PropertyInfo {
  /**
   * Full name, `module:kebab-case`, e.g. `file:has-content`.
   */
  name: string,
  doc: string,
  params: Array<ParamInfo>,
}
export interface ModuleInfo {
  /**
   * The prefix of every property name, e.g. `file`.
   */
  name: string,
  doc: string,
  properties: Array<PropertyInfo>,
  /**
   * The grants the module needs to work, as text: `read:DIR`,
   * `write:DIR`, `command:PROGRAM [ARGS]`, `command:*`, `env:NAME`,
   * `net`, `net:HOST:PORT`, `subdeploy`. A deploy refuses to start when
   * a module's needs are not granted.
   */
  needs: Array<string>,
}
