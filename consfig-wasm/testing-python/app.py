"""The `testing` module in Python: the twin of consfig-wasm/testing, with
properties that misbehave on purpose, or report on the runtime, for the
end-to-end tests. Never deploy it anywhere real.

Where the Rust module uses its SDK, this one uses the Python SDK; where it
calls the contract's imports directly (raw modes, subdeploying texts), this
one calls the generated bindings directly. Python under WASI has no
sockets, so `connect` and `resolve` call WASI's sockets themselves, as
declared by the world in wit/testing.wit.
"""

import json
import os
import sys
import time
from typing import Any

from componentize_py_types import Err
from wit_world.imports import forms as wit_forms
from wit_world.imports import host as wit
from wit_world.imports import instance_network, ip_name_lookup, network, tcp_create_socket
from wit_world.imports import types as wit_types

from consfig import Change, Error, Form, apply, change, host, module, property, query, subdeploy
from consfig.host import log

# How often `init` ran in this copy of the module, and `testing:counter`.
INITS = 0
COUNTER = 0


def init() -> None:
    global INITS
    INITS += 1


module(
    "testing",
    doc="Misbehaving and diagnostic properties for the end-to-end tests.",
    init=init,
)


def host_call(function, *args):
    """A raw call of the contract, its error text as an Error."""
    try:
        return function(*args)
    except Err as e:
        raise Error(str(e.value)) from None


@property
def counter() -> Change:
    """Count this call and log `counter=N` and `inits=M`: a form that starts
    from the pristine image logs `counter=1` and `inits=1`."""
    global COUNTER
    COUNTER += 1
    log.info(f"counter={COUNTER}")
    log.info(f"inits={INITS}")
    return Change.CHANGED


@property
def trap() -> Change:
    """Execute a Wasm `unreachable` instruction (C's abort, under WASI)."""
    os.abort()


@property
def panic() -> Change:
    """Raise an unexpected exception with the message `deliberate panic`."""
    raise RuntimeError("deliberate panic")


@property
def abort() -> Change:
    """Abort the process."""
    os.abort()


@property
def spin() -> Change:
    """Loop forever, until the runtime's timeout kills the form."""
    n = 0
    while True:
        n += 1


@property
def eat_memory(mib: int) -> Change:
    """Allocate `mib` MiB, one MiB at a time, touching every page: a memory
    bomb when `mib` is over the memory limit."""
    held = [bytearray([i % 256]) * (1 << 20) for i in range(mib)]
    log.info(f"held {len(held)} MiB")
    return Change.UNCHANGED


@property
def flood(bytes: int) -> Change:
    """Print `bytes` bytes of text to stdout, in lines: a flood of output."""
    line = "flood flood flood flood flood flood flood flood flood flood flood\n"
    printed = 0
    while printed < bytes:
        sys.stdout.write(line)
        printed += len(line)
    return Change.UNCHANGED


@property
def leak_data(key: str, path: str) -> Change:
    """Leak this host's data `key` every way a module can: stdout, stderr, the
    log, a form of a subdeployment, and the error it fails with. It also
    writes the data to the file at `path`, which is what data is for."""
    secret = host.data_text(key)
    print(f"stdout: {secret}")
    print(f"stderr: {secret}", file=sys.stderr)
    log.info(f"log: {secret}")
    host.write_file(path, secret)
    try:
        subdeploy([], [Form("testing:echo", secret)])
    except Error:
        pass
    raise Error(f"error: {secret}")


@property
def deploys_in(contexts: list[str], forms: list[Form]) -> Change:
    """Apply `forms` in a subdeployment in the contexts, given as text and
    passed on unchecked; the result is the subdeployment's."""
    return subdeploy(contexts, forms)


@property
def panic_with_data(key: str) -> Change:
    """Raise an exception with this host's data `key` in its message: the
    message reaches the form's reason."""
    secret = host.data_text(key)
    raise RuntimeError(f"panic: {secret}")


@property
def flood_panic(bytes: int) -> Change:
    """Tell the host a panic message of `bytes` bytes, then trap: a module
    that floods the reason of its form."""
    wit.panicked("x" * bytes)
    os.abort()


@property
def write(path: str, content: str) -> Change:
    """Write `content` to the file at `path` (through the host): how the
    sandbox tests try paths they were not granted."""
    host.write_file(path, content)
    return Change.CHANGED


@property
def read(path: str) -> Change:
    """Read the file at `path` and log its size."""
    data = host.read_file(path)
    log.info(f"read {len(data)} bytes")
    return Change.UNCHANGED


@property
def run(argv: list[str]) -> Change:
    """Run a command; fails unless it exits 0."""
    if not argv:
        raise Error("empty argv")
    output = change(*argv).run(check=False)
    if not output.success:
        raise Error(f"{argv[0]} failed")
    return Change.CHANGED


@property
def connect(address: str) -> Change:
    """Open a TCP connection to `address` (`IP:PORT`) with WASI's sockets."""
    ip, _, port = address.rpartition(":")
    try:
        octets = tuple(int(o) for o in ip.split("."))
        number = int(port)
        if len(octets) != 4:
            raise ValueError
    except ValueError:
        raise Error(f"{address} is not IP:PORT") from None
    where = network.IpSocketAddress_Ipv4(network.Ipv4SocketAddress(number, octets))
    try:
        socket = tcp_create_socket.create_tcp_socket(network.IpAddressFamily.IPV4)
        socket.start_connect(instance_network.instance_network(), where)
        while True:
            socket.subscribe().block()
            try:
                socket.finish_connect()
                break
            except Err as e:
                if e.value != network.ErrorCode.WOULD_BLOCK:
                    raise
    except Err as e:
        raise Error(f"connect {address}: {e.value.name.lower().replace('_', ' ')}") from None
    return Change.CHANGED


@property
def apply_form(form: Form) -> Change:
    """Apply a form of another module through the host."""
    return apply(form)


@property
def echo(value: Any) -> Change:
    """Log the argument as JSON."""
    log.info(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return Change.UNCHANGED


@property(name="print")
def print_text(text: str) -> Change:
    """Print the text to stdout and to stderr."""
    print(text)
    print(text, file=sys.stderr)
    return Change.UNCHANGED


@property
def observe(path: str) -> Change:
    """Write `uid=U gid=G user=NAME` (`user=?` when the uid has no name) and a
    newline to the file at `path`: who the process applying the form runs as."""
    me = host.whoami()
    host.write_file(path, f"uid={me.uid} gid={me.gid} user={me.user or '?'}\n")
    return Change.CHANGED


@property
def subdeploy_counter(contexts: list[str], n: int) -> Change:
    """Count this call, as `testing:counter` does (so this image is no longer
    pristine), then apply `n` forms `["testing:counter"]` in a subdeployment
    in the contexts, given as text and passed on unchecked. Each of those
    must log `counter=1`; the result is the subdeployment's."""
    global COUNTER
    COUNTER += 1
    return subdeploy(contexts, [Form("testing:counter")] * n)


@property
def run_with(spec: Any) -> Change:
    """Run a command as a hostile module would: `spec` is an object with
    `argv`, and optionally `env` (an object of variables to set), `cwd`,
    `stdin` (text) and `read-only`. Logs its stdout and stderr; fails unless
    it exits 0."""
    spec = spec if isinstance(spec, dict) else {}
    if not isinstance(spec.get("argv"), list):
        raise Error("run-with: argv must be a list")
    argv = [a for a in spec["argv"] if isinstance(a, str)]
    if not argv:
        raise Error("empty argv")
    command = query(*argv) if spec.get("read-only") is True else change(*argv)
    if isinstance(spec.get("env"), dict):
        for key, value in spec["env"].items():
            command.env(key, value if isinstance(value, str) else "")
    if isinstance(spec.get("cwd"), str):
        command.cwd(spec["cwd"])
    if isinstance(spec.get("stdin"), str):
        command.stdin(spec["stdin"])
    return logged_and_checked(argv[0], command.run(check=False))


def logged_and_checked(program: str, output) -> Change:
    """Log a command's stdout and stderr; changed when it succeeded."""
    log.info(f"stdout: {output.stdout_text.rstrip()}")
    log.info(f"stderr: {output.stderr_text.rstrip()}")
    if not output.success:
        raise Error(f"{program} failed")
    return Change.CHANGED


@property
def plant(path: str, content: str) -> Change:
    """Write `content` to the file at `path` as an executable (mode 0755): a
    program planted where a granted command would find it."""
    host.write_file(path, content, 0o755)
    return Change.CHANGED


@property
def subdeploy_forms(contexts: list[str], forms: list[Form]) -> Change:
    """Apply `forms` in a subdeployment in the contexts, given as text and
    passed on unchecked; the result is the subdeployment's."""
    return subdeploy(contexts, forms)


@property
def resolve(name: str) -> Change:
    """Resolve `name` (through WASI's name lookup) and log the addresses
    found; fails when the lookup does."""
    found = []
    try:
        stream = ip_name_lookup.resolve_addresses(instance_network.instance_network(), name)
        while True:
            try:
                address = stream.resolve_next_address()
            except Err as e:
                if e.value != network.ErrorCode.WOULD_BLOCK:
                    raise
                stream.subscribe().block()
                continue
            if address is None:
                break
            if isinstance(address, network.IpAddress_Ipv4):
                found.append(".".join(str(o) for o in address.value))
            else:
                found.append(":".join(f"{g:x}" for g in address.value))
    except Err as e:
        raise Error(f"resolve {name}: {e.value.name.lower().replace('_', ' ')}") from None
    log.info(f"resolved {name}: {' '.join(found)}")
    return Change.UNCHANGED


# Hostile file calls: every file call the host offers, with modes passed
# raw (any number, set-id bits included) and the sandbox's answer logged, and
# what a module gets from WASI's own files and environment (nothing).

KINDS = {
    wit.FileKind.FILE: "file",
    wit.FileKind.DIRECTORY: "directory",
    wit.FileKind.SYMLINK: "symlink",
    wit.FileKind.OTHER: "other",
}


@property
def write_mode(path: str, content: str, mode: int) -> Change:
    """Write `content` to `path` with `mode` exactly as given."""
    host_call(wit.write_file, path, content.encode(), mode)
    return Change.CHANGED


@property
def stat(path: str) -> Change:
    """Log what `stat` says of `path`: `stat: KIND MODE SIZE` or `stat: none`."""
    s = host_call(wit.stat, path)
    log.info("stat: none" if s is None else f"stat: {KINDS[s.kind]} {s.mode:o} {s.size}")
    return Change.UNCHANGED


@property
def remove(path: str) -> Change:
    """Remove `path`."""
    host_call(wit.remove, path)
    return Change.CHANGED


@property
def mkdir(path: str, mode: int) -> Change:
    """Make the directory `path` with `mode` exactly as given."""
    host_call(wit.mkdir, path, mode)
    return Change.CHANGED


@property
def chmod(path: str, mode: int) -> Change:
    """Set the mode of `path` to `mode` exactly as given."""
    host_call(wit.chmod, path, mode)
    return Change.CHANGED


@property
def chown(path: str, owner: str | None, group: str | None) -> Change:
    """Set the owner and/or group of `path` (names or numbers)."""
    host_call(wit.chown, path, owner, group)
    return Change.CHANGED


@property
def symlink(target: str, link: str) -> Change:
    """Make a symlink at `link` whose contents are `target`."""
    host_call(wit.symlink, target, link)
    return Change.CHANGED


@property
def readlink(path: str) -> Change:
    """Log the contents of the symlink at `path`: `readlink: TARGET`."""
    log.info(f"readlink: {host_call(wit.readlink, path)}")
    return Change.UNCHANGED


@property
def list_dir(path: str) -> Change:
    """Log the entries of the directory `path`: `list-dir: NAME KIND, ...`."""
    entries = host_call(wit.list_dir, path)
    log.info("list-dir: " + ", ".join(f"{e.name} {KINDS[e.kind]}" for e in entries))
    return Change.UNCHANGED


@property
def rename(source: str, destination: str) -> Change:
    """Rename `source` to `destination`."""
    host_call(wit.rename, source, destination)
    return Change.CHANGED


@property
def owner(path: str) -> Change:
    """Log the owner of `path`: `owner: UID:GID`."""
    s = host_call(wit.stat, path)
    log.info("owner: none" if s is None else f"owner: {s.uid}:{s.gid}")
    return Change.UNCHANGED


@property
def facts() -> Change:
    """Log the facts: `os: ID`, `root: UID HOME`, `group 0: NAME`, `chroot: BOOL`."""
    log.info(f"os: {host_call(wit.os_release).id}")
    root = host_call(wit.lookup_user, "root")
    log.info("root: none" if root is None else f"root: {root.uid} {root.home}")
    group = host_call(wit.lookup_group, "0")
    log.info("group 0: none" if group is None else f"group 0: {group.name}")
    log.info(f"chroot: {'true' if wit.in_chroot() else 'false'}")
    return Change.UNCHANGED


@property
def wasi_probe() -> Change:
    """Try the host's files and environment through WASI itself (open,
    os.listdir, os.environ), not through `host`, and log one line per
    attempt: `wasi NAME: refused (ERROR)` or `wasi NAME: GOT WHAT`."""

    def report(name: str, attempt) -> None:
        try:
            log.info(f"wasi {name}: GOT {attempt()}")
        except OSError as e:
            log.info(f"wasi {name}: refused ({e})")

    def read(path: str) -> str:
        with open(path, "rb") as f:
            return f"{len(f.read())} bytes"

    def write() -> str:
        with open("/tmp/consfig-wasi-probe", "wb") as f:
            f.write(b"x")
        return "written"

    report("read /etc/passwd", lambda: read("/etc/passwd"))
    report("read etc/passwd", lambda: read("etc/passwd"))
    report("list /", lambda: f"{len(os.listdir('/'))} entries")
    report("list .", lambda: f"{len(os.listdir('.'))} entries")
    report("write /tmp/consfig-wasi-probe", write)
    report("metadata /", lambda: f"{os.stat('/')}")
    names = list(os.environ)
    log.info(f"wasi env: {len(names)} variables {names!r}")
    return Change.UNCHANGED


# Limits and hangs: modules that try to make the host hold too much, wait
# forever, or nest without end.


@property
def subdeploy_texts(contexts: list[str], forms: list[str]) -> Change:
    """Subdeploy `forms` (JSON texts, passed on unchecked) in `contexts` (text,
    passed on unchecked): how the tests hand the host forms the SDK would
    not build."""
    changed = host_call(wit_forms.subdeploy, contexts, forms)
    return Change.of(changed == wit_types.Change.CHANGED)


@property
def recurse() -> Change:
    """Subdeploy this same form, with no context: a recursion with no end of
    its own."""
    return subdeploy([], [Form("testing:recurse")])


@property
def fail_with(bytes: int) -> Change:
    """Fail with a reason of `bytes` bytes: a flood through the reason."""
    raise Error("r" * bytes)


@property
def defer_flood(n: int, size: int) -> Change:
    """Ask the host `n` times to validate a form of this module (which is
    running, so each must wait), each `size` bytes long: a module growing
    the host with validations it never lets happen."""
    form = json.dumps(["testing:echo", "v" * size])
    for _ in range(n):
        host_call(wit_forms.validate_form, form)
    return Change.UNCHANGED


class Stall:
    """An argument whose decoding never ends: `"spin"` loops in the module's
    code, `"sleep"` waits in the host (a WASI sleep); anything else decodes."""

    consfig_schema = "string"

    @classmethod
    def from_json(cls, how: Any) -> "Stall":
        if how == "spin":
            n = 0
            while True:
                n += 1
        if how == "sleep":
            while True:
                time.sleep(3600)
        return cls()


@property
def stall_decoding(how: Stall) -> Change:
    """Takes an argument whose decoding (when validated, and when applied)
    stalls on `"spin"` and `"sleep"`."""
    return Change.UNCHANGED


# Secrets in every field of a report: the host's data put in a file's path
# and contents (text and binary), a subdeployment's context, a nested
# form's name and arguments, the form's output and reason.


@property
def leak_data_into_reports(key: str, dir: str, parent: str) -> Change:
    """Put this host's data `key` into every field a report has: a file named
    after it under `dir`, holding it on a line of its own; `dir/blob`,
    holding it between bytes that are not text; a subdeployment in
    `chroot:PARENT/VALUE` (a chroot made there) applying `testing:echo` with
    it as argument and as key, writing `/in-VALUE` inside, and applying a
    form named after it (an unknown property); stdout; and the error it
    always fails with."""
    secret = host.data_text(key)
    host.write_file(f"{dir}/{secret}.txt", f"password={secret}\nnext line\n")
    host.write_file(f"{dir}/blob", b"\xff\xfe\x00" + secret.encode() + b"\x80\n")
    print(f"stdout: {secret}\nthe line after")
    forms = [
        Form("testing:echo", {secret: [f"arg {secret}"]}),
        Form("testing:write", f"/in-{secret}", f"inside {secret}\n"),
        Form(f"testing:{secret}"),
    ]
    try:
        subdeploy([f"chroot:{parent}/{secret}"], forms)
        nested = "no nested form failed"
    except Error as e:
        nested = str(e)
    raise Error(f"leaked {secret} into every field; {nested}")


@property
def pipe_data(key: str, argv: list[str]) -> Change:
    """Run `argv` with this host's data `key` on its standard input, and log
    what it printed; fails unless it exits 0. A command can write the data
    to the runtime's own stderr (its parent's, through /proc)."""
    secret = host.data(key)
    if not argv:
        raise Error("empty argv")
    return logged_and_checked(argv[0], change(*argv).stdin(secret).run(check=False))


# What a context entered for a user gives the commands run in it.

REPORT = """echo "uid=$(id -u)"
echo "groups=$(id -G)"
echo "HOME=$HOME"
echo "USER=$USER"
echo "LOGNAME=$LOGNAME"
echo "SHELL=$SHELL"
echo "PATH=$PATH"
echo "umask=$(umask)"
echo "cwd=$(pwd)\""""


@property
def process_report() -> Change:
    """Run `/bin/sh -c` (grant `command:/bin/sh -c *`, and `env:*` for SHELL)
    to report what a command started for this form gets, one `KEY=VALUE`
    line each in the log: `uid` (`id -u`), `groups` (`id -G`), HOME, USER,
    LOGNAME, SHELL, PATH, `umask` and `cwd`."""
    output = query("/bin/sh", "-c", REPORT).run(check=False)
    if not output.success:
        raise Error(f"the report failed: {output.stderr_text.rstrip()}")
    for line in output.stdout_text.splitlines():
        log.info(line)
    return Change.UNCHANGED


@property
def apply_recurse() -> Change:
    """Apply this same form through the host: a module applying its own form
    with no end of its own, which the runtime's depth limit must stop."""
    return apply(Form("testing:apply-recurse"))


@property
def apply_all(forms: list[Form]) -> Change:
    """Apply each form through the host, whatever the ones before it came to;
    fails with the last failure's reason, if any."""
    last = None
    for form in forms:
        try:
            apply(form)
        except Error as e:
            last = e
    if last is not None:
        raise last
    return Change.UNCHANGED


# What the consfig gives a host: variables and files.


@property
def var(key: str, path: str) -> Change:
    """Write this host's variable `key` (its JSON, or `none`) to the file at
    `path`: how the tests see what a module reads of the variables."""
    value = wit.var(key)
    host.write_file(path, "none" if value is None else value)
    return Change.CHANGED


@property
def vars(path: str) -> Change:
    """Write every variable of this host, one JSON object, to the file at `path`."""
    host.write_file(path, wit.vars())
    return Change.CHANGED


@property
def consfig_file(name: str, path: str) -> Change:
    """Write the file of the consfig named `name` to the file at `path`; fails
    as reading it fails."""
    host.write_file(path, host_call(wit.consfig_file, name))
    return Change.CHANGED


@property
def markdown_breaker(text: str = "a|b`c") -> Change:
    """# Not a heading
    | a | b |
    |---|---|
    <script>alert(1)</script>
    ```text
    an unclosed fence"""
    log.info(text)
    return Change.UNCHANGED
