"""The `@NAME@` module: properties of this consfig, written in Consfig.toml
as `["@NAME@:PROPERTY", ARGUMENTS...]`. `consfig deploy` builds it again
when its sources change and sends it only to hosts that lack this build.

This file's top level runs once, when the module is built: it declares the
module and its properties. Each property runs on the host, in the sandbox,
with only the grants Consfig.toml gives the module."""

from consfig import Change, host, module, property

module("@NAME@", doc="The properties of this consfig.")


@property
def hello(dir: str) -> Change:
    """Put a page greeting from this host in the directory `dir`: the
    directory, then `dir/index.html`.

    Changed if either step changed the host."""
    name = host.hostname()
    page = f"<!doctype html>\n<title>{name}</title>\n<h1>Hello from {name}</h1>\n"
    changed = Change.UNCHANGED
    if host.stat(dir) is None:
        host.mkdir(dir)
        changed = Change.CHANGED
    index = f"{dir}/index.html"
    if host.stat(index) is None or host.read_text(index) != page:
        host.write_file(index, page)
        changed = Change.CHANGED
    return changed
