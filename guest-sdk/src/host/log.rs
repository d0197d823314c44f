//! Logging to the current form's captured output, which the deploy report
//! shows with the form. (What a module prints to stdout or stderr is captured
//! too; these add a level.)

use std::fmt;

use crate::sys;

/// How much a logged line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl fmt::Display for Level {
    /// `debug`, `info`, `warn` or `error`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        })
    }
}

pub fn debug(message: impl AsRef<str>) {
    sys::log(Level::Debug, message.as_ref());
}

pub fn info(message: impl AsRef<str>) {
    sys::log(Level::Info, message.as_ref());
}

pub fn warn(message: impl AsRef<str>) {
    sys::log(Level::Warn, message.as_ref());
}

pub fn error(message: impl AsRef<str>) {
    sys::log(Level::Error, message.as_ref());
}

/// Log at debug level, formatting like `format!`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::host::log::debug(::std::format!($($arg)*)) };
}

/// Log at info level, formatting like `format!`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::host::log::info(::std::format!($($arg)*)) };
}

/// Log a warning, formatting like `format!`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::host::log::warn(::std::format!($($arg)*)) };
}

/// Log an error, formatting like `format!`. (To fail, return an `Error`.)
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::host::log::error(::std::format!($($arg)*)) };
}
