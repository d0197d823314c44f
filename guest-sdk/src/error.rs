//! The error a property fails with: a message for the person running the
//! deploy. It crosses the component boundary as text, so it is text here too.

use std::fmt;

/// Why a property (or a host call) failed.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

/// The result of properties and host calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefix the message with what was being done: `writing /etc/motd: ...`.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error::new(format!("{context}: {}", self.message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::new(message)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new(e.to_string())
    }
}

impl From<std::string::FromUtf8Error> for Error {
    fn from(e: std::string::FromUtf8Error) -> Self {
        Error::new(e.to_string())
    }
}

/// Add context to the error of a result: `fs::read(p).context(format!("reading {p}"))?`.
///
/// (Named `ResultExt` so that [`Context`](crate::Context) is a subdeployment's context.)
pub trait ResultExt<T> {
    fn context(self, context: impl fmt::Display) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }
}

/// Return early with an error built like `format!`.
///
/// ```
/// # use consfig_guest::{bail, Result};
/// fn check(mode: u32) -> Result<()> {
///     if mode > 0o7777 {
///         bail!("{mode:o} is not a file mode");
///     }
///     Ok(())
/// }
/// assert_eq!(check(0o10000).unwrap_err().message(), "10000 is not a file mode");
/// ```
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return ::core::result::Result::Err($crate::Error::new(::std::format!($($arg)*)))
    };
}

/// Return early with an error built like `format!` unless a condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::bail!($($arg)*);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_adds_context() {
        let e: Error = "no such file".into();
        assert_eq!(
            e.clone().context("reading /x").to_string(),
            "reading /x: no such file"
        );
        let r: std::result::Result<(), String> = Err("denied".to_owned());
        assert_eq!(
            r.context("writing /y").unwrap_err().message(),
            "writing /y: denied"
        );
        let json = serde_json::from_str::<u32>("x").unwrap_err();
        assert!(Error::from(json).message().starts_with("expected value"));
    }

    #[test]
    fn bails_and_ensures() {
        fn positive(n: i32) -> Result<i32> {
            ensure!(n > 0, "{n} is not positive");
            Ok(n)
        }
        assert_eq!(positive(1), Ok(1));
        assert_eq!(positive(-2).unwrap_err().message(), "-2 is not positive");
    }
}
