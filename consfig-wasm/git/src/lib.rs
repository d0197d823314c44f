//! The `git` module: working copies cloned from a URL, kept at a revision,
//! fast-forwarded from their upstream, and their local configuration.
//!
//! Every property looks first with queries (`git config --get`,
//! `git rev-parse`, `git ls-remote`), which check mode runs too, so a check
//! predicts exactly; `git clone`, `git fetch` and `git checkout` are
//! changes. Git runs code from hooks and from `-c` options, so every git
//! command gets `-c protocol.ext.allow=never -c core.hooksPath=/dev/null
//! -c core.fsmonitor=false`, URLs, paths and revisions are checked before any
//! command so that none becomes an option, and `--` ends the options where
//! git takes operands. Each concern has its file: [`git`] (the command and
//! the checks of arguments), [`cloned`], [`pulled`] and [`configured`].

pub(crate) mod cloned;
pub(crate) mod configured;
pub mod git;
pub(crate) mod pulled;

consfig_guest::module! {
    name: "git",
    export: false,
    needs: [
        "command:/usr/bin/git",
        "env:GIT_TERMINAL_PROMPT",
        "command:/usr/bin/rm -rf --one-file-system -- /*",
        "command:/usr/bin/chown [0-9]*:[0-9]* -- /*",
        "read:/",
        "subdeploy",
        "context:setuid:*",
    ],
    doc: "Git working copies: cloned at a revision, pulled, configured.",
    properties: [cloned::cloned, pulled::pulled, configured::configured],
}

#[cfg(test)]
mod tests;
