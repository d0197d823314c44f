//! The config-file properties of the `file` module, Consfigurator's
//! `contains-conf-*` and `contains-ini-settings`: read the file, compute
//! its new text with [`crate::edit::conf`], write only when it differs.

use std::collections::BTreeMap;

use consfig_guest::prelude::*;

use crate::edit::conf::{ConfSettings, ConfStyle, IniSettings};
use crate::lines::{bad_option, read_text, write_changed};

fn contains_conf(
    path: &str,
    style: ConfStyle,
    settings: &BTreeMap<String, String>,
) -> Result<Change> {
    let edit = ConfSettings::new(style, settings).map_err(bad_option(path))?;
    let before = read_text(path)?;
    let after = edit.apply(before.as_deref().unwrap_or_default());
    if before.is_none() && after.is_empty() {
        return Ok(Change::Unchanged);
    }
    write_changed(path, before.as_deref(), &after)
}

/// Set keys of a config file whose keys and values are separated by blanks
/// (`sshd_config`, `login.defs`): Consfigurator's
/// `file:contains-conf-space`.
///
/// For each key, the first line for it, commented out (`#`) or not, is
/// uncommented and set to `KEY VALUE`; later lines for it are commented out
/// (`# ` put before them). Keys the file lacks are appended, in
/// alphabetical order. Lines for other keys are left as they are. A missing
/// file is made, with its directory. Keys are single words; values are
/// single lines, not empty.
#[property]
pub fn contains_conf_space(path: String, settings: BTreeMap<String, String>) -> Result<Change> {
    contains_conf(&path, ConfStyle::Space, &settings)
}

/// As `file:contains-conf-space`, with a tab: `KEY<TAB>VALUE`.
#[property]
pub fn contains_conf_tab(path: String, settings: BTreeMap<String, String>) -> Result<Change> {
    contains_conf(&path, ConfStyle::Tab, &settings)
}

/// Set keys of a config file of `KEY = VALUE` lines (read with or without
/// a blank on either side of `=`): Consfigurator's
/// `file:contains-conf-equals`.
///
/// For each key, the first line for it, commented out (`#`) or not, is
/// uncommented and set, keeping its spacing around `=`; later lines for it
/// are commented out (`# ` put before them). Keys the file lacks are
/// appended, in alphabetical order, spaced as the file's first setting is,
/// or `KEY = VALUE` when it has none (Consfigurator always writes
/// `KEY = VALUE`). Lines for other keys are left as they are. A missing
/// file is made, with its directory. Keys are single words without `=`;
/// values are single lines.
#[property]
pub fn contains_conf_equals(path: String, settings: BTreeMap<String, String>) -> Result<Change> {
    contains_conf(&path, ConfStyle::Equals, &settings)
}

/// Set variables of a shell config file (`/etc/default/*`):
/// Consfigurator's `file:contains-conf-shell`. Lines are `KEY=VALUE`, the
/// value quoted for the shell when it needs to be (in double quotes, `$`,
/// `` ` ``, `"` and `\` escaped).
///
/// As `file:contains-conf-equals` otherwise: the first line for a key,
/// commented or not, is uncommented and set; later ones are commented out;
/// missing keys are appended, in alphabetical order.
#[property]
pub fn contains_conf_shell(path: String, settings: BTreeMap<String, String>) -> Result<Change> {
    contains_conf(&path, ConfStyle::Shell, &settings)
}

/// Set keys in sections of an INI file: Consfigurator's
/// `file:contains-ini-settings`, `settings` a list of
/// `[SECTION, KEY, VALUE]`.
///
/// In its section, the first line for a key, commented out (`#` or `;`) or
/// not, is uncommented and set, keeping its spacing around `=`; later lines
/// for it in that section are commented out (`# ` put before them). A key
/// the section lacks goes after the section's last setting (or its
/// header); a section the file lacks is appended, after a blank line, with
/// its keys, in the order given. New lines are spaced as the file's first
/// setting is (`KEY = VALUE` when it has none; Consfigurator writes
/// `KEY=VALUE`). The section `""` is the part of the file before its first
/// header. The last value given for a key wins. Lines for other keys are
/// left as they are. A missing file is made, with its directory.
#[property]
pub fn contains_ini_settings(
    path: String,
    settings: Vec<(String, String, String)>,
) -> Result<Change> {
    let edit = IniSettings::new(&settings).map_err(bad_option(&path))?;
    let before = read_text(&path)?;
    let after = edit.apply(before.as_deref().unwrap_or_default());
    if before.is_none() && after.is_empty() {
        return Ok(Change::Unchanged);
    }
    write_changed(&path, before.as_deref(), &after)
}

#[cfg(test)]
#[path = "conf_tests.rs"]
mod tests;
