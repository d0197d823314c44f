//! `Change`: whether applying a property changed the host (or, in check mode, would).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// What applying a property did. Combine the results of steps with `|`:
/// the whole changed the host if any step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Change {
    #[default]
    Unchanged,
    Changed,
}

impl Change {
    pub fn is_changed(self) -> bool {
        self == Change::Changed
    }

    /// `Changed` if any of the changes is.
    pub fn any(changes: impl IntoIterator<Item = Change>) -> Change {
        changes.into_iter().fold(Change::Unchanged, BitOr::bitor)
    }
}

impl From<bool> for Change {
    /// `true` (something was done) is `Changed`.
    fn from(changed: bool) -> Self {
        if changed {
            Change::Changed
        } else {
            Change::Unchanged
        }
    }
}

impl BitOr for Change {
    type Output = Change;

    fn bitor(self, other: Change) -> Change {
        Change::from(self.is_changed() || other.is_changed())
    }
}

impl BitOrAssign for Change {
    fn bitor_assign(&mut self, other: Change) {
        *self = *self | other;
    }
}

impl FromIterator<Change> for Change {
    fn from_iter<I: IntoIterator<Item = Change>>(changes: I) -> Self {
        Change::any(changes)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Unchanged => "unchanged",
            Change::Changed => "changed",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Change::{Changed, Unchanged};
    use super::*;

    #[test]
    fn combines() {
        assert_eq!(Unchanged | Unchanged, Unchanged);
        assert_eq!(Unchanged | Changed, Changed);
        assert_eq!(Change::any([Unchanged, Changed, Unchanged]), Changed);
        assert_eq!(Change::any([]), Unchanged);
        let mut total = Unchanged;
        total |= Changed;
        assert!(total.is_changed());
        assert_eq!(Change::from(false).to_string(), "unchanged");
    }
}
