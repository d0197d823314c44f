"""The example module in Python: `example-python:website` puts the same small
static website in place as `example:website`, with host calls of its own
rather than forms of the file: and cmd: modules, so that the grants of this
module are what apply to it."""

from consfig import Change, Error, change, host, module, property

# The build command: fixed, run in the site's directory. Its grant names it
# exactly, so it cannot be turned to writing anywhere else (a glob for a
# path argument would match `ROOT/../../etc/shadow` too), and where it runs
# must be readable by this module's own grants.
BUILD = ["/bin/sh", "-c", "echo built > built.txt"]

module(
    "example-python",
    doc="The example module, in Python: a website made with host calls.",
    needs=["command:/bin/sh -c 'echo built > built.txt'"],
)


@property
def website(root: str) -> Change:
    """Put a small static website under `root`: the directory, an
    `index.html` (mode 0644) greeting from this host, and a `built.txt` a
    build command makes once.

    Changed if any step changed the host."""
    root = root.rstrip("/")
    if not root:
        raise Error("refusing to make a website of /")
    index = f"{root}/index.html"
    built = f"{root}/built.txt"
    name = host.hostname()
    page = (
        f"<!doctype html>\n<title>{name}</title>\n<h1>Hello from {name}</h1>\n"
        "<p>Managed by Consfig.</p>\n"
    )
    return directory(root) | file(index, page, 0o644) | made_once(root, built)


def directory(path: str) -> Change:
    found = host.stat(path)
    if found is None:
        host.mkdir(path)
        return Change.CHANGED
    if found.kind != "directory":
        raise Error(f"{path} is a {found.kind}, not a directory")
    return Change.UNCHANGED


def file(path: str, content: str, mode: int) -> Change:
    found = host.stat(path)
    if found is None or found.kind != "file" or host.read_text(path) != content:
        host.write_file(path, content, mode)
        return Change.CHANGED
    if found.mode != mode:
        host.chmod(path, mode)
        return Change.CHANGED
    return Change.UNCHANGED


def made_once(root: str, path: str) -> Change:
    # Guarded by a look first, so that check mode (which skips the command)
    # reports exactly whether it would run.
    if host.exists(path):
        return Change.UNCHANGED
    change(*BUILD).cwd(root).run()
    return Change.CHANGED
