// What applying a property did: the contract's `change` enum, which the
// bindings carry as the strings "changed" and "unchanged".

/** What a property returns: whether it changed the host (or, in a check, would). */
export const Change = Object.freeze({
  CHANGED: "changed",
  UNCHANGED: "unchanged",

  /** CHANGED when `changed` is true. */
  from(changed) {
    return changed ? "changed" : "unchanged";
  },

  /** CHANGED when any of `changes` is. */
  any(...changes) {
    return changes.flat().includes("changed") ? "changed" : "unchanged";
  },
});

/** Whether `value` is a Change. */
export function isChange(value) {
  return value === "changed" || value === "unchanged";
}
