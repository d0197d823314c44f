//! The `apt` module: Debian packages and where they come from — packages
//! installed or removed, the package lists updated, upgrades, sources and
//! their keys, and debconf answers.
//!
//! Every property looks first, with queries check mode runs too (`dpkg-query`,
//! `apt-cache policy`, `apt-get -s`, `debconf-show`, file reads), so `--check`
//! predicts exactly, and changes only what differs. Each concern has its
//! file: [`names`] (what may reach a command line), [`apt_get`] (running
//! apt-get and dpkg non-interactively, without starting services where
//! systemd does not run), [`packages`] (installed, removed), [`lists`]
//! (updated, upgraded, autoremoved), [`selections`] (held, unheld),
//! [`sources`] (sources and keyrings), [`standard_sources`] (Debian's own
//! archive in sources.list) and [`debconf`] (reconfigured).

pub mod apt_get;
pub mod debconf;
pub mod lists;
pub mod names;
pub mod packages;
pub mod selections;
pub mod sources;
pub mod standard_sources;

consfig_guest::module! {
    name: "apt",
    export: false,
    needs: [
        "command:/usr/bin/apt-get",
        "command:/usr/bin/apt-cache",
        "command:/usr/bin/dpkg-query --show '--showformat=${db:Status-Status} ' -- *",
        "command:/usr/bin/dpkg-query --show '--showformat=${db:Status-Want}/${db:Status-Status} ' -- *",
        "command:/usr/bin/dpkg --set-selections",
        "command:/usr/bin/debconf-show *",
        "command:/usr/bin/debconf-set-selections",
        "command:/usr/sbin/dpkg-reconfigure --frontend noninteractive *",
        "env:DEBIAN_FRONTEND",
        "env:LC_ALL",
        "write:/usr/sbin/policy-rc.d",
        "write:/etc/apt/sources.list.d",
        "write:/etc/apt/keyrings",
        "write:/etc/apt/sources.list",
        "write:/var/lib/apt/periodic",
        "read:/etc/apt",
        "read:/var/lib/apt/lists",
        "read:/var/cache/debconf/passwords.dat",
        "read:/run/systemd/system",
    ],
    doc: "Debian packages (installed, removed, held, upgraded), package lists, sources (Debian's own in sources.list too), keyrings and debconf answers; never interactive, waiting up to 120 s for the dpkg lock, and starting no service where systemd does not run (a chroot, an image being built: /usr/sbin/policy-rc.d forbids it while apt-get runs).",
    properties: [
        packages::installed,
        packages::removed,
        selections::held,
        selections::unheld,
        lists::updated,
        lists::upgraded,
        lists::autoremoved,
        sources::source,
        sources::key,
        standard_sources::standard_sources_list,
        debconf::reconfigured,
    ],
}

#[cfg(test)]
mod tests;
