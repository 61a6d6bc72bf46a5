"""The operating-system confinement a runner process applies to itself before any plan.

Layers, each applied where the kernel (and the privileges the process has) allow it, and
each reported by name, so an engine can log which ones hold instead of assuming them:

- ``rlimits``: address space, CPU seconds, open files, processes, file size 0, no core
  dumps (a segfaulting plan must not write gigabytes of core files).
- ``no_new_privs``: ``PR_SET_NO_NEW_PRIVS``, not dumpable (no ptrace, no /proc/<pid>/mem
  from the same user), killed with its parent.
- ``unprivileged``: started as root, the runner drops every capability and becomes
  ``nobody`` (then the process rlimit holds too: it does not bind root).
- ``environment``: an empty environment (the fork server starts with one; cleared again).
- ``descriptors``: every inherited descriptor closed but the runner's own pipe (0-2 are
  ``/dev/null``).
- ``landlock``: read-only access to the interpreter, the standard library and the
  installed packages; nothing else on the file system; no TCP (ABI 4+); no signals or
  abstract sockets outside the runner (ABI 6+).
- ``seccomp``: no new sockets, no exec, no new processes (threads only), no ptrace, no
  signals to other processes, no io_uring, no writes by path; violations fail with EPERM.

Why a small ctypes layer: seccomp goes through the system's libseccomp (distribution
maintained, it knows every architecture's syscall numbers); the Python wrappers on PyPI
(``pyseccomp``, last release 2021; ``seccomplite``, 2016) are thin, unmaintained ctypes
shims over the same library. Landlock is three syscalls with two structs; the PyPI
``landlock`` package is a pre-release. Neither dependency would remove code we must trust.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import resource
import sys
from dataclasses import dataclass

__all__ = ["ConfinementSettings", "confine", "probe_kernel"]

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_NOBODY = 65534


@dataclass(frozen=True, slots=True)
class ConfinementSettings:
    """What a runner may use. Sizes in bytes, times in CPU seconds."""

    max_memory: int = 1024 ** 3
    max_cpu_seconds: int = 600
    max_open_files: int = 64
    #: Directories the runner may read (interpreter, packages); None: ``sys.path`` & co.
    readable: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, object]:
        return {"max_memory": self.max_memory, "max_cpu_seconds": self.max_cpu_seconds,
                "max_open_files": self.max_open_files,
                "readable": list(self.readable) if self.readable is not None else None}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ConfinementSettings:
        readable = data.get("readable")
        return cls(max_memory=int(data["max_memory"]),  # type: ignore[call-overload]
                   max_cpu_seconds=int(data["max_cpu_seconds"]),  # type: ignore[call-overload]
                   max_open_files=int(data["max_open_files"]),  # type: ignore[call-overload]
                   readable=tuple(str(p) for p in readable)  # type: ignore[attr-defined]
                   if readable is not None else None)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def confine(settings: ConfinementSettings, *, keep_fd: int,
            keep_internal: tuple[int, ...] = ()) -> dict[str, str]:
    """Apply every layer this kernel allows; ``{layer: "on..." | "off: <why>"}``.

    ``keep_fd`` is the runner's pipe; ``keep_internal`` the descriptors of its own event
    loop (its epoll instance and wake-up pair), made before confinement. Order matters:
    descriptors and the environment first (nothing leaks into later code), privileges
    dropped after Landlock is in place, seccomp last (it forbids ``setresuid`` itself).
    """
    report: dict[str, str] = {}
    libc = _libc()
    seccomp = _load_libseccomp()  # before the file system is closed to us
    report["descriptors"] = _close_descriptors({keep_fd, *keep_internal})
    os.environ.clear()
    report["environment"] = "on" if not os.environ else "off: environment not empty"
    report["rlimits"] = _rlimits(settings)
    report["no_new_privs"] = _no_new_privs(libc)
    report["landlock"] = _landlock(libc, settings)
    report["unprivileged"] = _drop_privileges()
    report["seccomp"] = _seccomp(seccomp)
    return report


def _close_descriptors(keep: set[int]) -> str:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in keep:
            os.dup2(devnull, fd)
    os.close(devnull)
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = list(range(3, 1024))
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    return "on"


def _rlimits(settings: ConfinementSettings) -> str:
    limits = [(resource.RLIMIT_AS, settings.max_memory),
              (resource.RLIMIT_CPU, settings.max_cpu_seconds),
              (resource.RLIMIT_NOFILE, settings.max_open_files),
              (resource.RLIMIT_FSIZE, 0), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_NPROC, 0)]
    failed = []
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (OSError, ValueError) as exc:
            failed.append(f"{which}: {exc}")
    return "on" if not failed else f"partial: {'; '.join(failed)}"


def _no_new_privs(libc: ctypes.CDLL) -> str:
    import signal

    results = [libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
               libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0),
               libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)]
    if any(r != 0 for r in results):
        return f"off: prctl failed ({os.strerror(ctypes.get_errno())})"
    return "on"


def _drop_privileges() -> str:
    if os.geteuid() != 0:
        return "on (not root)"
    try:
        os.setgroups([])
        os.setresgid(_NOBODY, _NOBODY, _NOBODY)
        os.setresuid(_NOBODY, _NOBODY, _NOBODY)
    except OSError as exc:
        return f"off: could not become nobody ({exc})"
    return "on (root dropped to nobody)"


# -- Landlock ----------------------------------------------------------------------------------

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_READ_FILE, _READ_DIR = 1 << 2, 1 << 3
_FS_BITS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1,
                   5: (1 << 16) - 1}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def probe_kernel() -> dict[str, str]:
    """What this kernel offers, without applying anything (for the engine's start log)."""
    libc = _libc()
    abi = libc.syscall(_SYS_CREATE_RULESET, None, 0, _RULESET_VERSION)
    landlock = f"ABI {abi}" if abi > 0 else f"unavailable ({os.strerror(ctypes.get_errno())})"
    seccomp = "available" if _load_libseccomp() is not None else "unavailable (no libseccomp)"
    return {"landlock": landlock, "seccomp": seccomp}


def _readable_paths(settings: ConfinementSettings) -> list[str]:
    if settings.readable is not None:
        candidates = list(settings.readable)
    else:
        candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                      os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      *sys.path]
    seen: list[str] = []
    for path in candidates:
        real = os.path.realpath(path) if path else ""
        if real and os.path.exists(real) and real not in seen:
            seen.append(real)
    return seen


def _landlock(libc: ctypes.CDLL, settings: ConfinementSettings) -> str:
    abi = libc.syscall(_SYS_CREATE_RULESET, None, 0, _RULESET_VERSION)
    if abi <= 0:
        return f"off: the kernel has no Landlock ({os.strerror(ctypes.get_errno())})"
    attr = _RulesetAttr(handled_access_fs=_FS_BITS_BY_ABI.get(abi, (1 << 16) - 1),
                        handled_access_net=3 if abi >= 4 else 0,
                        scoped=3 if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        return f"off: landlock_create_ruleset failed ({os.strerror(ctypes.get_errno())})"
    try:
        for path in _readable_paths(settings):
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                access = _READ_FILE | (_READ_DIR if os.path.isdir(path) else 0)
                rule = _PathBeneath(allowed_access=access, parent_fd=fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH,
                                ctypes.byref(rule), 0) != 0:
                    return (f"off: landlock_add_rule({path}) failed "
                            f"({os.strerror(ctypes.get_errno())})")
            finally:
                os.close(fd)
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            return f"off: landlock_restrict_self failed ({os.strerror(ctypes.get_errno())})"
    finally:
        os.close(ruleset)
    return f"on (ABI {abi})"


# -- seccomp -----------------------------------------------------------------------------------

_ACT_ALLOW = 0x7FFF0000
_CMP_NE, _CMP_EQ, _CMP_MASKED_EQ = 1, 4, 7
_CLONE_THREAD = 0x00010000

#: Denied outright (EPERM): new sockets, exec, new processes, debugging other processes,
#: kernel interfaces a confined process never needs, and changes to the file system.
_DENIED = ("socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
           "execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
           "process_vm_writev", "tkill", "io_uring_setup", "io_uring_enter",
           "io_uring_register", "bpf", "perf_event_open", "userfaultfd", "keyctl",
           "add_key", "request_key", "mount", "umount2", "pivot_root", "chroot", "unshare",
           "setns", "kexec_load", "init_module", "finit_module", "delete_module", "reboot",
           "swapon", "swapoff", "mknod", "mknodat", "unlink", "unlinkat", "rename",
           "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat",
           "symlink", "symlinkat", "truncate", "chmod", "fchmodat", "chown", "lchown",
           "fchownat", "creat", "setuid", "setgid", "setreuid", "setregid", "setresuid",
           "setresgid", "setgroups", "capset")


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _load_libseccomp() -> ctypes.CDLL | None:
    try:  # by soname first: find_library runs a compiler, which a runner cannot
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError:
        name = ctypes.util.find_library("seccomp")
        if name is None:
            return None
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError:
            return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _seccomp(lib: ctypes.CDLL | None) -> str:
    if lib is None:
        return "off: libseccomp is not installed"
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        return "off: seccomp_init failed"
    eperm = _errno_action(errno.EPERM)
    pid = os.getpid()

    def rule(action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            return  # not a syscall on this architecture
        array = (_ArgCmp * max(len(cmps), 1))(*[_ArgCmp(*c) for c in cmps])
        result = lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)
        if result != 0:
            raise OSError(-result, f"seccomp rule for {name}: {os.strerror(-result)}")

    try:
        for name in _DENIED:
            rule(eperm, name)
        # threads only: a clone without CLONE_THREAD is a new process
        rule(eperm, "clone", (0, _CMP_MASKED_EQ, _CLONE_THREAD, 0))
        # clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libc use clone
        rule(_errno_action(errno.ENOSYS), "clone3")
        # signals only to itself
        rule(eperm, "kill", (0, _CMP_NE, pid, 0))
        rule(eperm, "tgkill", (0, _CMP_NE, pid, 0))
        # no file opened for writing or created, by any path
        for name, flags_arg in (("open", 1), ("openat", 2)):
            rule(eperm, name, (flags_arg, _CMP_MASKED_EQ, os.O_ACCMODE, os.O_WRONLY))
            rule(eperm, name, (flags_arg, _CMP_MASKED_EQ, os.O_ACCMODE, os.O_RDWR))
            rule(eperm, name, (flags_arg, _CMP_MASKED_EQ, os.O_CREAT, os.O_CREAT))
        rule(eperm, "openat2")
        if lib.seccomp_load(ctx) != 0:
            return f"off: seccomp_load failed ({os.strerror(ctypes.get_errno())})"
    except OSError as exc:
        return f"off: {exc}"
    finally:
        lib.seccomp_release(ctx)
    return "on"
